//! Atom interning for a decoder: each distinct atom is allocated once and shared after that.

use crate::term::Atom;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Slots of the direct-mapped cache in front of the hash map: a record's few atoms each land
/// in a slot picked from their length and end bytes, and one comparison finds them.
const SLOTS: usize = 64;

/// Distinct atoms kept per table; past this, atoms are allocated each time, so input with
/// endless distinct atoms costs at most this many names (255 characters each at most).
const MAX_INTERNED: usize = 16_384;

/// Atoms seen so far, by encoded bytes, per encoding (Latin-1 bytes mean other text than UTF-8).
pub(crate) struct AtomTable {
    slots: Vec<Option<(bool, Atom)>>,
    more_latin1: FxHashMap<Box<[u8]>, Atom>,
    more_utf8: FxHashMap<Box<[u8]>, Atom>,
}

impl Default for AtomTable {
    fn default() -> Self {
        AtomTable {
            slots: vec![None; SLOTS],
            more_latin1: FxHashMap::default(),
            more_utf8: FxHashMap::default(),
        }
    }
}

fn slot(bytes: &[u8], latin1: bool) -> usize {
    let (first, last) = (
        bytes.first().copied().unwrap_or(0),
        bytes.last().copied().unwrap_or(0),
    );
    (bytes.len() * 31 + first as usize * 7 + last as usize + latin1 as usize) % SLOTS
}

impl AtomTable {
    /// The atom for `bytes` in Latin-1 (`ATOM_EXT`, `SMALL_ATOM_EXT`) or UTF-8; `None` if not valid UTF-8.
    pub(crate) fn atom(&mut self, bytes: &[u8], latin1: bool) -> Option<Atom> {
        let slot = slot(bytes, latin1);
        if let Some((l, a)) = &self.slots[slot] {
            if *l == latin1 && a.as_str().as_bytes() == bytes {
                return Some(a.clone());
            }
        }
        let more = if latin1 {
            &mut self.more_latin1
        } else {
            &mut self.more_utf8
        };
        if let Some(a) = more.get(bytes) {
            let a = a.clone();
            self.cache(slot, latin1, bytes, &a);
            return Some(a);
        }
        let name: Arc<str> = if latin1 && !bytes.is_ascii() {
            bytes.iter().map(|&b| b as char).collect::<String>().into()
        } else {
            std::str::from_utf8(bytes).ok()?.into()
        };
        let atom = Atom(name);
        if more.len() < MAX_INTERNED {
            more.insert(bytes.into(), atom.clone());
            self.cache(slot, latin1, bytes, &atom);
        }
        Some(atom)
    }

    /// Puts an atom in its slot when its name is its encoding (always but for non-ASCII Latin-1).
    fn cache(&mut self, slot: usize, latin1: bool, bytes: &[u8], atom: &Atom) {
        if atom.as_str().as_bytes() == bytes {
            self.slots[slot] = Some((latin1, atom.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_atom_shares_one_allocation() {
        let mut t = AtomTable::default();
        let a = t.atom(b"emqx_acl", true).unwrap();
        let b = t.atom(b"emqx_acl", false).unwrap();
        let c = t.atom(b"emqx_acl", true).unwrap();
        assert_eq!(a, b);
        assert!(Arc::ptr_eq(&a.0, &c.0));
        assert_eq!(t.atom(b"caf\xe9", true).unwrap().as_str(), "café");
        assert!(t.atom(b"caf\xe9", false).is_none());
        for i in 0..100 {
            let name = format!("atom_{i}");
            let x = t.atom(name.as_bytes(), false).unwrap();
            let y = t.atom(name.as_bytes(), false).unwrap();
            assert!(Arc::ptr_eq(&x.0, &y.0), "{name}");
        }
    }
}
