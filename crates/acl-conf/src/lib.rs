//! A strict reader of `acl.conf`: the Erlang term syntax `file:consult/1` accepts, restricted to
//! the literals an ACL can hold. Terms end with `.` followed by white space, `%` or the end;
//! `%` starts a comment. Accepted: atoms (bare or `'quoted'`), strings (adjacent ones joined),
//! integers (`12`, `1_000`, `16#ff`, `$a`, signed), floats, tuples, lists (`[H | T]` too),
//! binaries of strings and bytes (`<<"t/1">>`), maps (`#{k => v}`). Variables, reserved words
//! used as atoms, and every other expression are errors, as they are for EMQX.
//!
//! Strings come out as Erlang strings (lists of code points), as `file:consult` reads them.

use erlang_term::Term;
use std::fmt;

/// A syntax error at a line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SyntaxError {
    /// The line of the offending token.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One term of the file with the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct LineTerm {
    /// Line of the term's first token (1-based).
    pub line: usize,
    /// The term.
    pub term: Term,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Atom(String),
    Str(String),
    Int(i64),
    Float(f64),
    Punct(&'static str),
    /// The `.` that ends a term.
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Atom(a) => write!(f, "'{a}'"),
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Int(i) => write!(f, "{i}"),
            Tok::Float(x) => write!(f, "{x}"),
            Tok::Punct(p) => write!(f, "'{p}'"),
            Tok::End => f.write_str("'.'"),
        }
    }
}

/// Words `erl_scan` reserves: unquoted they are operators or keywords, never atoms. (`maybe`
/// and `else` are keywords only where OTP enables the `maybe_expr` feature, so they pass.)
const RESERVED: [&str; 27] = [
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case",
    "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive",
    "rem", "try", "when", "xor",
];

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

fn is_space(c: char) -> bool {
    c <= ' ' || ('\u{80}'..='\u{a0}').contains(&c)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '@'
        || (('\u{c0}'..='\u{ff}').contains(&c) && c != '\u{d7}' && c != '\u{f7}')
}

fn is_atom_start(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}')
}

fn is_var_start(c: char) -> bool {
    c.is_ascii_uppercase() || c == '_' || (('\u{c0}'..='\u{de}').contains(&c) && c != '\u{d7}')
}

impl Lexer {
    fn new(text: &str) -> Self {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
        }
    }

    fn err<T>(&self, line: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            line,
            message: message.into(),
        })
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn tokens(mut self) -> Result<Vec<(usize, Tok)>, SyntaxError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek(0) {
            let line = self.line;
            if is_space(c) {
                self.bump();
            } else if c == '%' {
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if is_atom_start(c) {
                let name = self.name();
                if RESERVED.contains(&name.as_str()) {
                    return self.err(
                        line,
                        format!(
                            "'{name}' is a reserved word; quote it ('{name}') to use it as an atom"
                        ),
                    );
                }
                out.push((line, Tok::Atom(name)));
            } else if is_var_start(c) {
                let name = self.name();
                return self.err(line, format!("variable {name} is not allowed in a term"));
            } else if c == '\'' {
                self.bump();
                let name = self.quoted('\'', line)?;
                if name.chars().count() > 255 {
                    return self.err(line, "atom too long (more than 255 characters)");
                }
                out.push((line, Tok::Atom(name)));
            } else if c == '"' {
                self.bump();
                out.push((line, Tok::Str(self.quoted('"', line)?)));
            } else if c == '$' {
                self.bump();
                let ch = match self.bump() {
                    None => return self.err(line, "unexpected end of file after '$'"),
                    Some('\\') => self.escape(line)?,
                    Some(ch) => ch,
                };
                out.push((line, Tok::Int(ch as i64)));
            } else if c.is_ascii_digit() {
                out.push((line, self.number(line)?));
            } else if c == '.' {
                self.bump();
                match self.peek(0) {
                    None => out.push((line, Tok::End)),
                    Some(n) if is_space(n) || n == '%' => out.push((line, Tok::End)),
                    Some(n) => {
                        return self.err(
                            line,
                            format!(
                                "'.' must be followed by white space to end a term, found {n:?}"
                            ),
                        )
                    }
                }
            } else {
                let two: String = self.chars[self.pos..].iter().take(2).collect();
                let punct = match two.as_str() {
                    "<<" => Some("<<"),
                    ">>" => Some(">>"),
                    "=>" => Some("=>"),
                    _ => None,
                };
                if let Some(p) = punct {
                    self.pos += 2;
                    out.push((line, Tok::Punct(p)));
                    continue;
                }
                let p = match c {
                    '{' => "{",
                    '}' => "}",
                    '[' => "[",
                    ']' => "]",
                    ',' => ",",
                    '|' => "|",
                    '-' => "-",
                    '+' => "+",
                    '#' => "#",
                    other => return self.err(line, format!("unexpected character {other:?}")),
                };
                self.bump();
                out.push((line, Tok::Punct(p)));
            }
        }
        Ok(out)
    }

    fn name(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek(0).filter(|c| is_name_char(*c)) {
            s.push(c);
            self.bump();
        }
        s
    }

    fn quoted(&mut self, close: char, line: usize) -> Result<String, SyntaxError> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => {
                    let what = if close == '"' {
                        "string"
                    } else {
                        "quoted atom"
                    };
                    return self.err(line, format!("unterminated {what}"));
                }
                Some(c) if c == close => return Ok(s),
                Some('\\') => s.push(self.escape(line)?),
                Some(c) => s.push(c),
            }
        }
    }

    /// The character of an escape sequence, the backslash already read.
    fn escape(&mut self, line: usize) -> Result<char, SyntaxError> {
        let c = match self.bump() {
            None => return self.err(line, "unterminated escape sequence"),
            Some(c) => c,
        };
        let code = match c {
            'n' => 10,
            'r' => 13,
            't' => 9,
            'v' => 11,
            'b' => 8,
            'f' => 12,
            'e' => 27,
            's' => 32,
            'd' => 127,
            '0'..='7' => {
                let mut v = c.to_digit(8).unwrap_or_default();
                for _ in 0..2 {
                    match self.peek(0).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.bump();
                        }
                        None => break,
                    }
                }
                v
            }
            'x' => {
                let mut digits = String::new();
                if self.peek(0) == Some('{') {
                    self.bump();
                    while let Some(d) = self.peek(0).filter(char::is_ascii_hexdigit) {
                        digits.push(d);
                        self.bump();
                    }
                    if self.bump() != Some('}') || digits.is_empty() {
                        return self.err(line, "bad \\x{...} escape");
                    }
                } else {
                    for _ in 0..2 {
                        match self.peek(0).filter(char::is_ascii_hexdigit) {
                            Some(d) => {
                                digits.push(d);
                                self.bump();
                            }
                            None => return self.err(line, "bad \\xHH escape"),
                        }
                    }
                }
                u32::from_str_radix(&digits, 16).map_err(|_| SyntaxError {
                    line,
                    message: "bad \\x escape".into(),
                })?
            }
            '^' => match self.bump() {
                Some(ctl) if ctl.is_ascii() => (ctl as u32) & 31,
                _ => return self.err(line, "bad \\^ escape"),
            },
            other => other as u32,
        };
        char::from_u32(code).ok_or_else(|| SyntaxError {
            line,
            message: format!("escape names no character ({code})"),
        })
    }

    fn digits(&mut self, radix: u32, line: usize) -> Result<String, SyntaxError> {
        let mut s = String::new();
        while let Some(c) = self.peek(0) {
            if c.is_digit(radix) {
                s.push(c);
                self.bump();
            } else if c == '_' && !s.is_empty() && self.peek(1).is_some_and(|n| n.is_digit(radix)) {
                self.bump();
            } else {
                break;
            }
        }
        if s.is_empty() {
            return self.err(line, format!("expected a base-{radix} digit"));
        }
        Ok(s)
    }

    fn number(&mut self, line: usize) -> Result<Tok, SyntaxError> {
        let whole = self.digits(10, line)?;
        let too_big = || SyntaxError {
            line,
            message: "integer too large".into(),
        };
        if self.peek(0) == Some('#') {
            let radix: u32 = whole.parse().map_err(|_| too_big())?;
            if !(2..=36).contains(&radix) {
                return self.err(line, format!("base {radix} is not between 2 and 36"));
            }
            self.bump();
            let ds = self.digits(radix, line)?;
            return i64::from_str_radix(&ds, radix)
                .map(Tok::Int)
                .map_err(|_| too_big());
        }
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            let frac = self.digits(10, line)?;
            let mut text = format!("{whole}.{frac}");
            if matches!(self.peek(0), Some('e' | 'E')) {
                let sign = matches!(self.peek(1), Some('+' | '-'));
                let digit_at = if sign { 2 } else { 1 };
                if self.peek(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                    text.push('e');
                    if sign {
                        text.push(self.bump().unwrap_or('+'));
                    }
                    text.push_str(&self.digits(10, line)?);
                }
            }
            return text.parse().map(Tok::Float).map_err(|_| SyntaxError {
                line,
                message: format!("bad float {text}"),
            });
        }
        whole.parse().map(Tok::Int).map_err(|_| too_big())
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    last_line: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn line(&self) -> usize {
        self.toks.get(self.pos).map_or(self.last_line, |(l, _)| *l)
    }

    fn next(&mut self) -> Result<(usize, Tok), SyntaxError> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| SyntaxError {
                line: self.last_line,
                message: "unexpected end of file: the last term is not complete".into(),
            })?;
        self.pos += 1;
        Ok(t)
    }

    fn expect(&mut self, p: &'static str) -> Result<(), SyntaxError> {
        match self.next()? {
            (_, Tok::Punct(q)) if q == p => Ok(()),
            (line, t) => Err(SyntaxError {
                line,
                message: format!("syntax error before: {t} (expected '{p}')"),
            }),
        }
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn term(&mut self) -> Result<Term, SyntaxError> {
        let (line, tok) = self.next()?;
        match tok {
            Tok::Atom(a) => Ok(Term::atom(&a)),
            Tok::Str(mut s) => {
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.pos += 1;
                }
                Ok(Term::charlist(&s))
            }
            Tok::Int(i) => Ok(Term::Int(i)),
            Tok::Float(f) => Ok(Term::Float(f)),
            Tok::Punct(sign @ ("-" | "+")) => match self.next()? {
                (_, Tok::Int(i)) if sign == "-" => Ok(Term::Int(-i)),
                (_, Tok::Float(f)) if sign == "-" => Ok(Term::Float(-f)),
                (_, Tok::Int(i)) => Ok(Term::Int(i)),
                (_, Tok::Float(f)) => Ok(Term::Float(f)),
                (line, t) => Err(SyntaxError {
                    line,
                    message: format!("syntax error before: {t} ('{sign}' applies to numbers only)"),
                }),
            },
            Tok::Punct("{") => {
                let items = self.seq("}")?;
                self.expect("}")?;
                Ok(Term::Tuple(items))
            }
            Tok::Punct("[") => {
                let items = self.seq("]")?;
                let tail = if self.is("|") && !items.is_empty() {
                    self.pos += 1;
                    Some(self.term()?)
                } else {
                    None
                };
                self.expect("]")?;
                Ok(match tail {
                    None => Term::List(items),
                    Some(Term::List(rest)) => Term::List(items.into_iter().chain(rest).collect()),
                    Some(Term::ImproperList(rest, t)) => {
                        Term::ImproperList(items.into_iter().chain(rest.into_vec()).collect(), t)
                    }
                    Some(t) => Term::ImproperList(items.into(), Box::new(t)),
                })
            }
            Tok::Punct("<<") => self.binary(),
            Tok::Punct("#") => {
                self.expect("{")?;
                let mut pairs = Vec::new();
                if !self.is("}") {
                    loop {
                        let k = self.term()?;
                        self.expect("=>")?;
                        pairs.push((k, self.term()?));
                        if !self.is(",") {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                self.expect("}")?;
                Ok(Term::Map(pairs))
            }
            t => Err(SyntaxError {
                line,
                message: format!("syntax error before: {t}"),
            }),
        }
    }

    /// Comma-separated terms up to (not including) `close`.
    fn seq(&mut self, close: &str) -> Result<Vec<Term>, SyntaxError> {
        let mut items = Vec::new();
        if self.is(close) {
            return Ok(items);
        }
        loop {
            items.push(self.term()?);
            if !self.is(",") {
                return Ok(items);
            }
            self.pos += 1;
        }
    }

    fn binary(&mut self) -> Result<Term, SyntaxError> {
        let mut bytes = Vec::new();
        if !self.is(">>") {
            loop {
                match self.next()? {
                    (_, Tok::Str(s)) => bytes.extend(s.chars().map(|c| (c as u32 & 0xff) as u8)),
                    (_, Tok::Int(i)) => bytes.push((i & 0xff) as u8),
                    (_, Tok::Punct("-")) => match self.next()? {
                        (_, Tok::Int(i)) => bytes.push((-i & 0xff) as u8),
                        (line, t) => {
                            return Err(SyntaxError {
                                line,
                                message: format!("syntax error before: {t}"),
                            })
                        }
                    },
                    (line, t) => {
                        return Err(SyntaxError {
                            line,
                            message: format!(
                            "syntax error before: {t} (binaries may hold strings and bytes only)"
                        ),
                        })
                    }
                }
                if !self.is(",") {
                    break;
                }
                self.pos += 1;
            }
        }
        self.expect(">>")?;
        Ok(Term::Binary(bytes))
    }
}

/// Reads every term of an `acl.conf` text.
pub fn parse(text: &str) -> Result<Vec<LineTerm>, SyntaxError> {
    let lexer = Lexer::new(text);
    let last_line = text.lines().count().max(1);
    let toks = lexer.tokens()?;
    let mut p = Parser {
        toks,
        pos: 0,
        last_line,
    };
    let mut out = Vec::new();
    while p.peek().is_some() {
        let line = p.line();
        let term = p.term()?;
        match p.next()? {
            (_, Tok::End) => out.push(LineTerm { line, term }),
            (line, t) => {
                return Err(SyntaxError {
                    line,
                    message: format!("syntax error before: {t} (a term must end with '.')"),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let terms = parse(
            "{'and', \"a\" \"b\", $a, -16#1F, 1_000, 1.5e1, <<\"x\", 1>>, #{k => [v | []]}}.",
        )
        .unwrap();
        assert_eq!(
            terms[0].term.to_string(),
            "{'and',\"ab\",97,-31,1000,15.0,<<120,1>>,#{k => [v]}}"
        );
    }

    #[test]
    fn escapes_and_lines() {
        let terms = parse("% c\n\n{a, \"\\n\\x41\\101\\^a\"}.\n{b,\n c}.").unwrap();
        assert_eq!(terms[0].line, 3);
        assert_eq!(terms[1].line, 4);
        assert_eq!(
            terms[0].term.as_tuple().unwrap()[1].as_charlist().unwrap(),
            "\nAA\u{1}"
        );
    }
}
