//! The Erlang term decoder: any bytes give a term or an error, never a panic; a decoded term
//! encodes, decodes back to an equal term, and compares equal to itself.

#![no_main]

use erlang_term::{decode, encode_to_vec, AtomEncoding, DecodeLimits, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(term) = decode(data) else {
        return;
    };
    let mut shared = Decoder::new(DecodeLimits::default());
    let again = shared.decode(data).expect("a second decoder agrees");
    assert_eq!(term, again);
    assert_eq!(term.cmp(&again), std::cmp::Ordering::Equal);
    let _ = term.to_string();
    for atoms in [AtomEncoding::Utf8, AtomEncoding::Latin1] {
        let Ok(bytes) = encode_to_vec(&term, atoms) else {
            continue;
        };
        let back = decode(&bytes).expect("an encoded term decodes");
        assert_eq!(back, term, "encode/decode round trip");
    }
});
