//! Decoding one term from a byte slice, bounded and panic-free.

use crate::intern::AtomTable;
use crate::tags::*;
use crate::term::{Atom, Opaque, Term};
use num_bigint::{BigInt, Sign};

/// Bounds the decoder enforces on top of the input's own length.
#[derive(Clone, Copy, Debug)]
pub struct DecodeLimits {
    /// Deepest nesting of tuples, lists and maps accepted.
    pub max_depth: usize,
    /// Most terms one decode builds (the term and everything inside it). Each takes a byte or
    /// two of input but some 32 bytes of memory, so this bounds what one item can cost.
    pub max_terms: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_depth: 128,
            max_terms: 1 << 20,
        }
    }
}

/// Why a byte slice is not one well-formed term. Offsets count from the version byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is empty.
    #[error("empty term")]
    Empty,
    /// The first byte is not 131.
    #[error("bad version byte {found} at byte 0 (expected 131)")]
    BadVersion {
        /// The byte found.
        found: u8,
    },
    /// The input ends inside a term.
    #[error("term truncated at byte {offset}: {needed} more bytes needed")]
    Truncated {
        /// Where the missing bytes start.
        offset: usize,
        /// How many bytes the term claims beyond the end.
        needed: u64,
    },
    /// A tag byte that the format does not define.
    #[error("unknown term tag {tag} at byte {offset}")]
    UnknownTag {
        /// The tag byte.
        tag: u8,
        /// Where it is.
        offset: usize,
    },
    /// A tag that exists but has no place in a stored term.
    #[error("unsupported term tag {tag} ({}) at byte {offset}", unsupported_meaning(*tag))]
    Unsupported {
        /// The tag byte.
        tag: u8,
        /// Where it is.
        offset: usize,
    },
    /// Nesting beyond [`DecodeLimits::max_depth`].
    #[error("term nested deeper than {limit} levels at byte {offset}")]
    TooDeep {
        /// The limit in force.
        limit: usize,
        /// Where the limit was crossed.
        offset: usize,
    },
    /// An atom whose text is not valid for its encoding.
    #[error("invalid atom text at byte {offset}")]
    BadAtom {
        /// Where the atom starts.
        offset: usize,
    },
    /// A float that is not a finite number.
    #[error("invalid float at byte {offset}")]
    BadFloat {
        /// Where the float starts.
        offset: usize,
    },
    /// A bitstring whose bit count is not 1..=8.
    #[error("invalid bitstring at byte {offset}")]
    BadBitstring {
        /// Where the bitstring starts.
        offset: usize,
    },
    /// More terms than [`DecodeLimits::max_terms`].
    #[error("term holds more than {limit} terms at byte {offset}")]
    TooMany {
        /// The limit in force.
        limit: u64,
        /// Where the limit was crossed.
        offset: usize,
    },
    /// Bytes left over after the term.
    #[error("{extra} unexpected bytes after the term at byte {offset}")]
    Trailing {
        /// Count of bytes left.
        extra: usize,
        /// Where they start.
        offset: usize,
    },
}

fn unsupported_meaning(tag: u8) -> &'static str {
    match tag {
        COMPRESSED => "compressed term",
        ATOM_CACHE_REF => "atom cache reference",
        LOCAL => "local term",
        OLD_FUN => "old fun",
        _ => "unsupported",
    }
}

/// Decodes a whole slice holding exactly one term (version byte first), with default limits.
pub fn decode(bytes: &[u8]) -> Result<Term, DecodeError> {
    Decoder::new(DecodeLimits::default()).decode(bytes)
}

/// Decodes a whole slice holding exactly one term (version byte first).
pub fn decode_with_limits(bytes: &[u8], limits: DecodeLimits) -> Result<Term, DecodeError> {
    Decoder::new(limits).decode(bytes)
}

/// Decodes many terms in a row, sharing one allocation per distinct atom among them:
/// a backup file repeats the same few atoms in every record.
pub struct Decoder {
    limits: DecodeLimits,
    atoms: AtomTable,
}

impl Decoder {
    /// A decoder with these limits and an empty atom table.
    pub fn new(limits: DecodeLimits) -> Self {
        Decoder {
            limits,
            atoms: AtomTable::default(),
        }
    }

    /// Decodes a whole slice holding exactly one term (version byte first).
    pub fn decode(&mut self, bytes: &[u8]) -> Result<Term, DecodeError> {
        let first = *bytes.first().ok_or(DecodeError::Empty)?;
        if first != VERSION {
            return Err(DecodeError::BadVersion { found: first });
        }
        let mut cursor = Cursor {
            buf: bytes,
            pos: 1,
            depth: 0,
            terms: 0,
            limits: self.limits,
            atoms: &mut self.atoms,
        };
        let term = cursor.term()?;
        if cursor.pos != bytes.len() {
            return Err(DecodeError::Trailing {
                extra: bytes.len() - cursor.pos,
                offset: cursor.pos,
            });
        }
        Ok(term)
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    terms: u64,
    limits: DecodeLimits,
    atoms: &'a mut AtomTable,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() as u64 {
            return Err(DecodeError::Truncated {
                offset: self.pos,
                needed: n - self.remaining() as u64,
            });
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Capacity for `count` elements that each take at least one byte: never more than the input can hold.
    fn capacity(&self, count: u64) -> usize {
        count.min(self.remaining() as u64) as usize
    }

    /// Counts `n` more terms against the limit.
    fn count(&mut self, n: u64, start: usize) -> Result<(), DecodeError> {
        self.terms = self.terms.saturating_add(n);
        if self.terms > self.limits.max_terms {
            return Err(DecodeError::TooMany {
                limit: self.limits.max_terms,
                offset: start,
            });
        }
        Ok(())
    }

    fn term(&mut self) -> Result<Term, DecodeError> {
        let start = self.pos;
        self.count(1, start)?;
        let tag = self.u8()?;
        match tag {
            SMALL_INTEGER => Ok(Term::Int(self.u8()? as i64)),
            INTEGER => Ok(Term::Int(self.u32()? as i32 as i64)),
            SMALL_BIG => {
                let n = self.u8()? as u64;
                self.big(n)
            }
            LARGE_BIG => {
                let n = self.u32()? as u64;
                self.big(n)
            }
            NEW_FLOAT => {
                let b = self.take(8)?;
                let mut raw = [0u8; 8];
                raw.copy_from_slice(b);
                let v = f64::from_be_bytes(raw);
                if !v.is_finite() {
                    return Err(DecodeError::BadFloat { offset: start });
                }
                Ok(Term::Float(v))
            }
            FLOAT => {
                let b = self.take(31)?;
                let text = std::str::from_utf8(b)
                    .ok()
                    .map(|s| s.trim_end_matches('\0').trim());
                match text.and_then(|s| s.parse::<f64>().ok()) {
                    Some(v) if v.is_finite() => Ok(Term::Float(v)),
                    _ => Err(DecodeError::BadFloat { offset: start }),
                }
            }
            ATOM | SMALL_ATOM | ATOM_UTF8 | SMALL_ATOM_UTF8 => {
                self.atom_body(tag, start).map(Term::Atom)
            }
            BINARY => {
                let n = self.u32()? as u64;
                Ok(Term::Binary(self.take(n)?.to_vec()))
            }
            BIT_BINARY => {
                let n = self.u32()? as u64;
                let bits = self.u8()?;
                if !(1..=8).contains(&bits) || n == 0 {
                    return Err(DecodeError::BadBitstring { offset: start });
                }
                Ok(Term::BitBinary {
                    bytes: self.take(n)?.into(),
                    bits,
                })
            }
            NIL => Ok(Term::List(Vec::new())),
            STRING => {
                let n = self.u16()? as u64;
                self.count(n, start)?;
                Ok(Term::List(
                    self.take(n)?.iter().map(|&b| Term::Int(b as i64)).collect(),
                ))
            }
            LIST => {
                let n = self.u32()? as u64;
                self.nested(start, |c| {
                    let mut elements = Vec::with_capacity(c.capacity(n));
                    for _ in 0..n {
                        elements.push(c.term()?);
                    }
                    let tail = c.term()?;
                    if elements.is_empty() {
                        return Ok(tail);
                    }
                    Ok(match tail {
                        Term::List(ref t) if t.is_empty() => Term::List(elements),
                        other => Term::ImproperList(elements.into_boxed_slice(), Box::new(other)),
                    })
                })
            }
            SMALL_TUPLE => {
                let n = self.u8()? as u64;
                self.tuple(start, n)
            }
            LARGE_TUPLE => {
                let n = self.u32()? as u64;
                self.tuple(start, n)
            }
            MAP => {
                let n = self.u32()? as u64;
                self.nested(start, |c| {
                    let mut pairs = Vec::with_capacity(c.capacity(n.saturating_mul(2)) / 2);
                    for _ in 0..n {
                        let k = c.term()?;
                        let v = c.term()?;
                        pairs.push((k, v));
                    }
                    Ok(Term::Map(pairs))
                })
            }
            PID | NEW_PID | PORT | NEW_PORT | V4_PORT | REFERENCE | NEW_REFERENCE
            | NEWER_REFERENCE | EXPORT | NEW_FUN => {
                self.nested(start, |c| c.skip_opaque(tag, start))?;
                Ok(Term::Opaque(Opaque {
                    tag,
                    bytes: self.buf[start..self.pos].into(),
                }))
            }
            COMPRESSED | ATOM_CACHE_REF | LOCAL | OLD_FUN => {
                Err(DecodeError::Unsupported { tag, offset: start })
            }
            _ => Err(DecodeError::UnknownTag { tag, offset: start }),
        }
    }

    fn nested<T>(
        &mut self,
        start: usize,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::TooDeep {
                limit: self.limits.max_depth,
                offset: start,
            });
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn tuple(&mut self, start: usize, n: u64) -> Result<Term, DecodeError> {
        self.nested(start, |c| {
            let mut elements = Vec::with_capacity(c.capacity(n));
            for _ in 0..n {
                elements.push(c.term()?);
            }
            Ok(Term::Tuple(elements))
        })
    }

    fn big(&mut self, n: u64) -> Result<Term, DecodeError> {
        let sign = self.u8()?;
        let digits = self.take(n)?;
        let sign = if sign == 0 { Sign::Plus } else { Sign::Minus };
        Ok(Term::from(BigInt::from_bytes_le(sign, digits)))
    }

    fn atom_body(&mut self, tag: u8, start: usize) -> Result<Atom, DecodeError> {
        let n = match tag {
            ATOM | ATOM_UTF8 => self.u16()? as u64,
            _ => self.u8()? as u64,
        };
        let bytes = self.take(n)?;
        let latin1 = matches!(tag, ATOM | SMALL_ATOM);
        self.atoms
            .atom(bytes, latin1)
            .ok_or(DecodeError::BadAtom { offset: start })
    }

    fn any_atom(&mut self) -> Result<(), DecodeError> {
        let start = self.pos;
        let tag = self.u8()?;
        match tag {
            ATOM | SMALL_ATOM | ATOM_UTF8 | SMALL_ATOM_UTF8 => {
                self.atom_body(tag, start).map(|_| ())
            }
            _ => Err(DecodeError::BadAtom { offset: start }),
        }
    }

    /// Walks over a pid, port, reference or fun, checking its shape.
    fn skip_opaque(&mut self, tag: u8, start: usize) -> Result<(), DecodeError> {
        match tag {
            PID => {
                self.any_atom()?;
                self.take(9)?;
            }
            NEW_PID => {
                self.any_atom()?;
                self.take(12)?;
            }
            PORT => {
                self.any_atom()?;
                self.take(5)?;
            }
            NEW_PORT => {
                self.any_atom()?;
                self.take(8)?;
            }
            V4_PORT => {
                self.any_atom()?;
                self.take(12)?;
            }
            REFERENCE => {
                self.any_atom()?;
                self.take(5)?;
            }
            NEW_REFERENCE => {
                let n = self.u16()? as u64;
                self.any_atom()?;
                self.take(1 + 4 * n)?;
            }
            NEWER_REFERENCE => {
                let n = self.u16()? as u64;
                self.any_atom()?;
                self.take(4 + 4 * n)?;
            }
            EXPORT => {
                for _ in 0..3 {
                    self.term()?;
                }
            }
            NEW_FUN => {
                let size = self.u32()? as u64;
                if size < 5 {
                    return Err(DecodeError::Truncated {
                        offset: start,
                        needed: 5 - size,
                    });
                }
                self.take(size - 4)?;
            }
            _ => return Err(DecodeError::UnknownTag { tag, offset: start }),
        }
        Ok(())
    }
}
