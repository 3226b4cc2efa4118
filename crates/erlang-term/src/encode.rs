//! Encoding terms the way `term_to_binary/1` does.

use crate::tags::*;
use crate::term::Term;
use num_bigint::Sign;

/// How atoms are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AtomEncoding {
    /// `SMALL_ATOM_UTF8_EXT` / `ATOM_UTF8_EXT`, as OTP 26 and later write.
    #[default]
    Utf8,
    /// `ATOM_EXT` for Latin-1 atoms, as OTP 25 and earlier write (UTF-8 tags otherwise).
    Latin1,
}

/// Why a term cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Atoms are limited to 255 characters.
    #[error("atom '{0}' is longer than 255 characters")]
    AtomTooLong(String),
    /// A length that does not fit the format's 32-bit fields.
    #[error("{0} too large to encode")]
    TooLarge(&'static str),
}

/// Encodes a term with the version byte into a new vector.
pub fn encode_to_vec(term: &Term, atoms: AtomEncoding) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    encode(term, atoms, &mut out)?;
    Ok(out)
}

/// Appends a term with the version byte to `out`.
pub fn encode(term: &Term, atoms: AtomEncoding, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.push(VERSION);
    Encoder { atoms, out }.term(term)
}

struct Encoder<'a> {
    atoms: AtomEncoding,
    out: &'a mut Vec<u8>,
}

fn len32(n: usize, what: &'static str) -> Result<u32, EncodeError> {
    u32::try_from(n).map_err(|_| EncodeError::TooLarge(what))
}

impl Encoder<'_> {
    fn term(&mut self, term: &Term) -> Result<(), EncodeError> {
        match term {
            Term::Atom(a) => self.atom(a.as_str()),
            Term::Int(i) => {
                self.int(*i);
                Ok(())
            }
            Term::BigInt(b) => {
                let (sign, digits) = b.to_bytes_le();
                if digits.len() <= 255 {
                    self.out.extend([SMALL_BIG, digits.len() as u8]);
                } else {
                    self.out.push(LARGE_BIG);
                    self.out
                        .extend(len32(digits.len(), "integer")?.to_be_bytes());
                }
                self.out.push(u8::from(sign == Sign::Minus));
                self.out.extend(digits);
                Ok(())
            }
            Term::Float(f) => {
                self.out.push(NEW_FLOAT);
                self.out.extend(f.to_be_bytes());
                Ok(())
            }
            Term::Binary(b) => {
                self.out.push(BINARY);
                self.out.extend(len32(b.len(), "binary")?.to_be_bytes());
                self.out.extend_from_slice(b);
                Ok(())
            }
            Term::BitBinary { bytes, bits } => {
                self.out.push(BIT_BINARY);
                self.out
                    .extend(len32(bytes.len(), "bitstring")?.to_be_bytes());
                self.out.push(*bits);
                self.out.extend_from_slice(bytes);
                Ok(())
            }
            Term::List(items) => self.list(items, None),
            Term::ImproperList(items, tail) => self.list(items, Some(tail)),
            Term::Tuple(items) => {
                if items.len() <= 255 {
                    self.out.extend([SMALL_TUPLE, items.len() as u8]);
                } else {
                    self.out.push(LARGE_TUPLE);
                    self.out.extend(len32(items.len(), "tuple")?.to_be_bytes());
                }
                items.iter().try_for_each(|t| self.term(t))
            }
            Term::Map(pairs) => {
                self.out.push(MAP);
                self.out.extend(len32(pairs.len(), "map")?.to_be_bytes());
                for (k, v) in pairs {
                    self.term(k)?;
                    self.term(v)?;
                }
                Ok(())
            }
            Term::Opaque(o) => {
                self.out.extend_from_slice(&o.bytes);
                Ok(())
            }
        }
    }

    fn int(&mut self, i: i64) {
        if (0..=255).contains(&i) {
            self.out.extend([SMALL_INTEGER, i as u8]);
        } else if let Ok(v) = i32::try_from(i) {
            self.out.push(INTEGER);
            self.out.extend(v.to_be_bytes());
        } else {
            let digits: Vec<u8> = {
                let mut m = i.unsigned_abs();
                let mut d = Vec::with_capacity(8);
                while m > 0 {
                    d.push((m & 0xff) as u8);
                    m >>= 8;
                }
                d
            };
            self.out
                .extend([SMALL_BIG, digits.len() as u8, u8::from(i < 0)]);
            self.out.extend(digits);
        }
    }

    fn atom(&mut self, name: &str) -> Result<(), EncodeError> {
        if name.chars().count() > 255 {
            return Err(EncodeError::AtomTooLong(name.to_owned()));
        }
        let latin1 = self.atoms == AtomEncoding::Latin1 && name.chars().all(|c| (c as u32) < 256);
        if latin1 {
            self.out.push(ATOM);
            self.out.extend((name.chars().count() as u16).to_be_bytes());
            self.out.extend(name.chars().map(|c| c as u8));
        } else if name.len() <= 255 {
            self.out.extend([SMALL_ATOM_UTF8, name.len() as u8]);
            self.out.extend_from_slice(name.as_bytes());
        } else {
            self.out.push(ATOM_UTF8);
            self.out.extend((name.len() as u16).to_be_bytes());
            self.out.extend_from_slice(name.as_bytes());
        }
        Ok(())
    }

    fn list(&mut self, items: &[Term], tail: Option<&Term>) -> Result<(), EncodeError> {
        if items.is_empty() {
            return match tail {
                None => {
                    self.out.push(NIL);
                    Ok(())
                }
                Some(t) => self.term(t),
            };
        }
        let bytes = tail.is_none()
            && items.len() <= u16::MAX as usize
            && items.iter().all(|t| matches!(t, Term::Int(0..=255)));
        if bytes {
            self.out.push(STRING);
            self.out.extend((items.len() as u16).to_be_bytes());
            self.out.extend(items.iter().map(|t| match t {
                Term::Int(b) => *b as u8,
                _ => 0,
            }));
            return Ok(());
        }
        self.out.push(LIST);
        self.out.extend(len32(items.len(), "list")?.to_be_bytes());
        items.iter().try_for_each(|t| self.term(t))?;
        match tail {
            None => {
                self.out.push(NIL);
                Ok(())
            }
            Some(t) => self.term(t),
        }
    }
}
