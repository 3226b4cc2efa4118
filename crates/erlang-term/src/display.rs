//! Printing terms in Erlang syntax, for messages and `inspect`.

use crate::term::Term;
use std::fmt;

const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case",
    "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive",
    "rem", "try", "when", "xor", "maybe", "else",
];

fn bare_atom(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
        && !RESERVED.contains(&name)
}

fn escaped(f: &mut fmt::Formatter<'_>, s: &str, quote: char) -> fmt::Result {
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c == quote => write!(f, "\\{c}")?,
            c if c.is_control() => write!(f, "\\x{{{:X}}}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    Ok(())
}

fn printable(s: &str) -> bool {
    s.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
}

fn seq(f: &mut fmt::Formatter<'_>, items: &[Term]) -> fmt::Result {
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Atom(a) if bare_atom(a.as_str()) => f.write_str(a.as_str()),
            Term::Atom(a) => {
                f.write_str("'")?;
                escaped(f, a.as_str(), '\'')?;
                f.write_str("'")
            }
            Term::Int(i) => write!(f, "{i}"),
            Term::BigInt(b) => write!(f, "{b}"),
            Term::Float(x) => write!(f, "{x:?}"),
            Term::Binary(b) => match std::str::from_utf8(b) {
                Ok(s) if printable(s) => {
                    f.write_str("<<\"")?;
                    escaped(f, s, '"')?;
                    f.write_str("\">>")
                }
                _ => {
                    f.write_str("<<")?;
                    for (i, byte) in b.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        write!(f, "{byte}")?;
                    }
                    f.write_str(">>")
                }
            },
            Term::BitBinary { bytes, bits } => write!(f, "<<{bytes:?}:{bits}>>"),
            Term::List(items) => match self.as_charlist() {
                Some(s) if !items.is_empty() && printable(&s) => {
                    f.write_str("\"")?;
                    escaped(f, &s, '"')?;
                    f.write_str("\"")
                }
                _ => {
                    f.write_str("[")?;
                    seq(f, items)?;
                    f.write_str("]")
                }
            },
            Term::ImproperList(items, tail) => {
                f.write_str("[")?;
                seq(f, items)?;
                write!(f, "|{tail}]")
            }
            Term::Tuple(items) => {
                f.write_str("{")?;
                seq(f, items)?;
                f.write_str("}")
            }
            Term::Map(pairs) => {
                f.write_str("#{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k} => {v}")?;
                }
                f.write_str("}")
            }
            Term::Opaque(o) => write!(f, "#{}<{} bytes>", self.kind(), o.bytes.len()),
        }
    }
}
