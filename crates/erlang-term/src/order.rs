//! Erlang's term order, and exact equality derived from it.

use crate::tags::*;
use crate::term::Term;
use num_bigint::BigInt;
use std::cmp::Ordering;

fn class(t: &Term) -> u8 {
    match t {
        Term::Int(_) | Term::BigInt(_) | Term::Float(_) => 0,
        Term::Atom(_) => 1,
        Term::Opaque(o) => match o.tag {
            REFERENCE | NEW_REFERENCE | NEWER_REFERENCE => 2,
            NEW_FUN | EXPORT => 3,
            PORT | NEW_PORT | V4_PORT => 4,
            _ => 5,
        },
        Term::Tuple(_) => 6,
        Term::Map(_) => 7,
        Term::List(l) if l.is_empty() => 8,
        Term::List(_) | Term::ImproperList(..) => 9,
        Term::Binary(_) | Term::BitBinary { .. } => 10,
    }
}

fn cmp_numbers(a: &Term, b: &Term) -> Ordering {
    let big = |t: &Term| match t {
        Term::Int(i) => Some(BigInt::from(*i)),
        Term::BigInt(b) => Some((**b).clone()),
        _ => None,
    };
    let float = |t: &Term| match t {
        Term::Int(i) => *i as f64,
        Term::BigInt(b) => b.to_string().parse::<f64>().unwrap_or(f64::INFINITY),
        Term::Float(f) => *f,
        _ => 0.0,
    };
    match (a, b) {
        (Term::Int(x), Term::Int(y)) => x.cmp(y),
        (Term::Float(x), Term::Float(y)) => x.total_cmp(y),
        (Term::Float(_), _) | (_, Term::Float(_)) => float(a)
            .total_cmp(&float(b))
            .then_with(|| matches!(a, Term::Float(_)).cmp(&matches!(b, Term::Float(_)))),
        _ => big(a).cmp(&big(b)),
    }
}

fn list_parts(t: &Term) -> (&[Term], Option<&Term>) {
    match t {
        Term::List(l) => (l, None),
        Term::ImproperList(l, tail) => (l, Some(tail)),
        _ => (&[], None),
    }
}

fn sorted_pairs(pairs: &[(Term, Term)]) -> Vec<&(Term, Term)> {
    let mut v: Vec<_> = pairs.iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

impl Ord for Term {
    fn cmp(&self, other: &Self) -> Ordering {
        let (ca, cb) = (class(self), class(other));
        if ca != cb {
            return ca.cmp(&cb);
        }
        match (self, other) {
            (Term::Atom(a), Term::Atom(b)) => a.cmp(b),
            (Term::Tuple(a), Term::Tuple(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Term::Map(a), Term::Map(b)) => a.len().cmp(&b.len()).then_with(|| {
                let (sa, sb) = (sorted_pairs(a), sorted_pairs(b));
                let keys = sa.iter().map(|p| &p.0).cmp(sb.iter().map(|p| &p.0));
                keys.then_with(|| sa.iter().map(|p| &p.1).cmp(sb.iter().map(|p| &p.1)))
            }),
            (Term::Binary(a), Term::Binary(b)) => a.cmp(b),
            (Term::Binary(a), Term::BitBinary { bytes, .. }) => {
                a[..].cmp(&bytes[..]).then(Ordering::Less)
            }
            (Term::BitBinary { bytes, .. }, Term::Binary(b)) => {
                bytes[..].cmp(&b[..]).then(Ordering::Greater)
            }
            (Term::BitBinary { bytes: a, bits: x }, Term::BitBinary { bytes: b, bits: y }) => {
                a.cmp(b).then(x.cmp(y))
            }
            (Term::Opaque(a), Term::Opaque(b)) => {
                a.tag.cmp(&b.tag).then_with(|| a.bytes.cmp(&b.bytes))
            }
            _ if ca == 0 => cmp_numbers(self, other),
            _ => {
                let (la, ta) = list_parts(self);
                let (lb, tb) = list_parts(other);
                for (x, y) in la.iter().zip(lb) {
                    let o = x.cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                match la.len().cmp(&lb.len()) {
                    Ordering::Equal => ta.cmp(&tb),
                    o => o,
                }
            }
        }
    }
}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Term {}
