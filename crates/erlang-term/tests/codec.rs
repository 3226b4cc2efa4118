use erlang_term::{
    decode, decode_with_limits, encode_to_vec, AtomEncoding, DecodeError, DecodeLimits, Term,
};
use proptest::prelude::*;

/// The ban record from the spec's worked example (EMQX 5.3.1 on OTP 25, ATOM_EXT atoms).
const BANNED: &[u8] = b"\x83\x68\x06\x64\x00\x0bemqx_banned\x68\x02\x64\x00\x08clientid\x6d\x00\x00\x00\x08banned-3\x6d\x00\x00\x00\x08mgmt_api\x6d\x00\x00\x00\x04test\x62\x65\x60\x82\x44\x62\x65\x61\x1c\xe0";

#[test]
fn decodes_real_ban_record() {
    let t = decode(BANNED).unwrap();
    let expected = Term::tuple(vec![
        Term::atom("emqx_banned"),
        Term::tuple(vec![Term::atom("clientid"), Term::binary("banned-3")]),
        Term::binary("mgmt_api"),
        Term::binary("test"),
        Term::Int(1700823620),
        Term::Int(1700863200),
    ]);
    assert_eq!(t, expected);
    assert_eq!(
        t.to_string(),
        r#"{emqx_banned,{clientid,<<"banned-3">>},<<"mgmt_api">>,<<"test">>,1700823620,1700863200}"#
    );
}

#[test]
fn latin1_atoms_reencode_byte_identical() {
    let t = decode(BANNED).unwrap();
    assert_eq!(encode_to_vec(&t, AtomEncoding::Latin1).unwrap(), BANNED);
    let utf8 = encode_to_vec(&t, AtomEncoding::Utf8).unwrap();
    assert_ne!(utf8, BANNED);
    assert_eq!(decode(&utf8).unwrap(), t);
}

#[test]
fn string_ext_equals_list_of_integers() {
    let s = decode(b"\x83\x6b\x00\x031.2").unwrap();
    assert_eq!(s, Term::charlist("1.2"));
    assert_eq!(s.as_charlist().as_deref(), Some("1.2"));
    assert_eq!(
        encode_to_vec(&s, AtomEncoding::Utf8).unwrap(),
        b"\x83\x6b\x00\x031.2"
    );
}

#[test]
fn integers_pick_the_smallest_tag() {
    for (i, tag) in [
        (0i64, 97u8),
        (255, 97),
        (256, 98),
        (-1, 98),
        (1 << 40, 110),
        (i64::MIN, 110),
    ] {
        let bytes = encode_to_vec(&Term::Int(i), AtomEncoding::Utf8).unwrap();
        assert_eq!(bytes[1], tag, "{i}");
        assert_eq!(decode(&bytes).unwrap(), Term::Int(i));
    }
    let big = "123456789012345678901234567890"
        .parse::<num_bigint::BigInt>()
        .unwrap();
    let t = Term::from(-big.clone());
    let bytes = encode_to_vec(&t, AtomEncoding::Utf8).unwrap();
    assert_eq!(decode(&bytes).unwrap(), t);
}

#[test]
fn maps_compare_regardless_of_order() {
    let a = Term::Map(vec![
        (Term::atom("a"), Term::Int(1)),
        (Term::atom("b"), Term::Int(2)),
    ]);
    let b = Term::Map(vec![
        (Term::atom("b"), Term::Int(2)),
        (Term::atom("a"), Term::Int(1)),
    ]);
    assert_eq!(a, b);
    assert_ne!(Term::Int(1), Term::Float(1.0));
}

#[test]
fn term_order_follows_erlang() {
    let mut v = [
        Term::binary("b"),
        Term::list(vec![Term::Int(1)]),
        Term::list(vec![]),
        Term::Map(vec![]),
        Term::tuple(vec![]),
        Term::atom("a"),
        Term::Float(2.5),
        Term::Int(1),
    ];
    v.sort();
    let kinds: Vec<_> = v.iter().map(|t| t.kind()).collect();
    assert_eq!(
        kinds,
        ["integer", "float", "atom", "tuple", "map", "list", "list", "binary"]
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    // A binary claiming 4 GB.
    assert!(matches!(
        decode(b"\x83\x6d\xff\xff\xff\xff"),
        Err(DecodeError::Truncated { offset: 6, .. })
    ));
    // A list claiming 4 billion elements.
    assert!(matches!(
        decode(b"\x83\x6c\xff\xff\xff\xff\x6a"),
        Err(DecodeError::Truncated { .. })
    ));
    // An atom claiming 65535 bytes.
    assert!(decode(b"\x83\x64\xff\xff").is_err());
    // Atom cache references, distribution headers and compressed terms.
    assert!(matches!(
        decode(b"\x83\x52\x00"),
        Err(DecodeError::Unsupported { tag: 82, .. })
    ));
    assert!(matches!(
        decode(b"\x83\x44\x00"),
        Err(DecodeError::UnknownTag { tag: 68, offset: 1 })
    ));
    assert!(matches!(
        decode(b"\x83\x50\x00\x00\x00\x01"),
        Err(DecodeError::Unsupported { tag: 80, .. })
    ));
    // Wrong version, trailing bytes, empty input, bad UTF-8 atom, NaN float.
    assert!(matches!(
        decode(b"\x84\x6a"),
        Err(DecodeError::BadVersion { found: 0x84 })
    ));
    assert!(matches!(
        decode(b"\x83\x6a\x6a"),
        Err(DecodeError::Trailing {
            extra: 1,
            offset: 2
        })
    ));
    assert!(matches!(decode(b""), Err(DecodeError::Empty)));
    assert!(matches!(
        decode(b"\x83\x77\x01\xff"),
        Err(DecodeError::BadAtom { .. })
    ));
    assert!(matches!(
        decode(b"\x83\x46\x7f\xf8\x00\x00\x00\x00\x00\x00"),
        Err(DecodeError::BadFloat { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let mut bytes = vec![0x83];
    for _ in 0..100_000 {
        bytes.extend([0x68, 0x01]);
    }
    bytes.push(0x6a);
    assert!(matches!(
        decode(&bytes),
        Err(DecodeError::TooDeep { limit: 128, .. })
    ));
}

#[test]
fn a_swarm_of_terms_is_refused() {
    // Hostile corpus `term-swarm`: a list of millions of empty lists costs one byte each in
    // the input but a whole term each in memory.
    let n: u32 = 3 << 20;
    let mut bytes = vec![0x83, 0x6c];
    bytes.extend(n.to_be_bytes());
    bytes.resize(bytes.len() + n as usize + 1, 0x6a);
    assert!(matches!(
        decode(&bytes),
        Err(DecodeError::TooMany {
            limit: 1_048_576,
            ..
        })
    ));
    // Strings count each character.
    let mut strings = vec![0x83, 0x6c, 0x00, 0x00, 0x00, 0x20];
    for _ in 0..32 {
        strings.extend([0x6b, 0xff, 0xff]);
        strings.resize(strings.len() + 0xffff, b'a');
    }
    strings.push(0x6a);
    assert!(matches!(decode(&strings), Err(DecodeError::TooMany { .. })));
    // Up to the limit is fine.
    let limits = DecodeLimits {
        max_terms: 5,
        ..DecodeLimits::default()
    };
    assert!(
        decode_with_limits(b"\x83\x68\x02\x61\x01\x6c\x00\x00\x00\x01\x6a\x6a", limits).is_ok()
    );
    assert!(matches!(
        decode_with_limits(b"\x83\x68\x02\x61\x01\x6b\x00\x03abc", limits),
        Err(DecodeError::TooMany { limit: 5, .. })
    ));
}

#[test]
fn opaque_terms_pass_through() {
    // A pid: NEW_PID_EXT, node 'a@b', id, serial, creation.
    let bytes = b"\x83\x58\x77\x03a@b\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03";
    let t = decode(bytes).unwrap();
    assert_eq!(t.kind(), "pid");
    assert_eq!(encode_to_vec(&t, AtomEncoding::Utf8).unwrap(), bytes);
}

fn arb_term() -> impl Strategy<Value = Term> {
    let leaf = prop_oneof![
        "[a-z_@A-Z0-9:\\.éあ]{0,20}".prop_map(|s| Term::atom(&s)),
        any::<i64>().prop_map(Term::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Term::Float),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Term::Binary),
        "[ -~]{1,10}".prop_map(|s| Term::charlist(&s)),
        (1u8..=8, proptest::collection::vec(any::<u8>(), 1..4)).prop_map(|(bits, mut bytes)| {
            let last = bytes.len() - 1;
            bytes[last] &= !(0xffu16 >> bits) as u8;
            Term::BitBinary {
                bytes: bytes.into(),
                bits,
            }
        }),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Term::Tuple),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Term::List),
            (
                proptest::collection::vec(inner.clone(), 1..4),
                inner.clone()
            )
                .prop_filter("improper tail", |(_, t)| !matches!(t, Term::List(_)))
                .prop_map(|(l, t)| Term::ImproperList(l.into(), Box::new(t))),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Term::Map),
        ]
    })
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(t in arb_term()) {
        for atoms in [AtomEncoding::Utf8, AtomEncoding::Latin1] {
            let bytes = encode_to_vec(&t, atoms).unwrap();
            prop_assert_eq!(&decode(&bytes).unwrap(), &t);
        }
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut input = vec![0x83];
        input.extend(bytes);
        let _ = decode(&input);
    }
}
