//! The term type.

use num_bigint::BigInt;
use std::sync::Arc;

/// An Erlang atom, held as its UTF-8 name whatever tag it was encoded with. Shared: the
/// decoder hands out the same allocation for every occurrence of an atom.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom(pub Arc<str>);

impl Atom {
    /// The atom's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Atom(s.into())
    }
}

/// A term that backups never hold but that we must carry unchanged: pid, port, reference or fun.
/// `bytes` is the complete encoding starting with `tag`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Opaque {
    /// The ETF tag of the term (pid, port, reference or fun).
    pub tag: u8,
    /// The whole encoded term, tag included.
    pub bytes: Box<[u8]>,
}

/// An Erlang term.
///
/// Equality is Erlang's exact equality (`=:=`): `1` and `1.0` differ, map pairs compare
/// regardless of their order, and a string (`STRING_EXT`) equals the same list of integers.
#[derive(Clone, Debug)]
pub enum Term {
    /// An atom (`ATOM_EXT`, `SMALL_ATOM_EXT`, `ATOM_UTF8_EXT`, `SMALL_ATOM_UTF8_EXT`).
    Atom(Atom),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// An integer beyond 64 bits.
    BigInt(Box<BigInt>),
    /// A float.
    Float(f64),
    /// A binary.
    Binary(Vec<u8>),
    /// A bitstring whose last byte holds `bits` (1..=8) significant bits.
    BitBinary {
        /// The bytes, the last one padded.
        bytes: Box<[u8]>,
        /// Significant bits in the last byte.
        bits: u8,
    },
    /// A proper list; `[]` is the empty list. `STRING_EXT` decodes to a list of integers.
    List(Vec<Term>),
    /// An improper list: elements and a tail that is not `[]`.
    ImproperList(Box<[Term]>, Box<Term>),
    /// A tuple.
    Tuple(Vec<Term>),
    /// A map, pairs in encoded order.
    Map(Vec<(Term, Term)>),
    /// A pid, port, reference or fun, kept as its encoding.
    Opaque(Opaque),
}

impl Term {
    /// An atom term.
    pub fn atom(name: &str) -> Term {
        Term::Atom(Atom::from(name))
    }

    /// A binary term.
    pub fn binary(bytes: impl AsRef<[u8]>) -> Term {
        Term::Binary(bytes.as_ref().to_vec())
    }

    /// A tuple term.
    pub fn tuple(elements: Vec<Term>) -> Term {
        Term::Tuple(elements)
    }

    /// A proper list term.
    pub fn list(elements: Vec<Term>) -> Term {
        Term::List(elements)
    }

    /// An Erlang string (a list of character codes), as `"1.2"` in a log header.
    pub fn charlist(s: &str) -> Term {
        Term::List(s.chars().map(|c| Term::Int(c as i64)).collect())
    }

    /// `true` or `false`.
    pub fn boolean(b: bool) -> Term {
        Term::atom(if b { "true" } else { "false" })
    }

    /// The atom's name, if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a.as_str()),
            _ => None,
        }
    }

    /// The elements, if this is a tuple.
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(e) => Some(e),
            _ => None,
        }
    }

    /// The elements, if this is a proper list.
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(e) => Some(e),
            _ => None,
        }
    }

    /// The bytes, if this is a binary.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The value, if this is an integer that fits in 64 bits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text, if this is a list of Unicode code points (an Erlang string).
    pub fn as_charlist(&self) -> Option<String> {
        let items = self.as_list()?;
        items
            .iter()
            .map(|t| match t {
                Term::Int(c) => u32::try_from(*c).ok().and_then(char::from_u32),
                _ => None,
            })
            .collect()
    }

    /// A short name for the kind of term, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Term::Atom(_) => "atom",
            Term::Int(_) | Term::BigInt(_) => "integer",
            Term::Float(_) => "float",
            Term::Binary(_) => "binary",
            Term::BitBinary { .. } => "bitstring",
            Term::List(_) => "list",
            Term::ImproperList(..) => "improper list",
            Term::Tuple(_) => "tuple",
            Term::Map(_) => "map",
            Term::Opaque(o) => match o.tag {
                crate::tags::PID | crate::tags::NEW_PID => "pid",
                crate::tags::PORT | crate::tags::NEW_PORT | crate::tags::V4_PORT => "port",
                crate::tags::NEW_FUN | crate::tags::EXPORT => "fun",
                _ => "reference",
            },
        }
    }
}

impl From<i64> for Term {
    fn from(i: i64) -> Self {
        Term::Int(i)
    }
}

impl From<BigInt> for Term {
    fn from(b: BigInt) -> Self {
        match i64::try_from(&b) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(Box::new(b)),
        }
    }
}

#[cfg(test)]
mod layout {
    #[test]
    fn terms_stay_small() {
        // Every record is a tree of these: a larger term means more memory traffic per record.
        assert_eq!(std::mem::size_of::<super::Term>(), 32);
        assert!(std::mem::size_of::<Result<super::Term, crate::DecodeError>>() <= 32);
    }
}
