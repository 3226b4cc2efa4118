use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{
    BackupErrorKind, BackupReader, BackupWriter, LogHeader, ReadOptions, Schema, TableType,
};

fn acl_schema() -> Schema {
    Schema::new(
        "emqx_acl",
        TableType::OrderedSet,
        "emqx_acl",
        &["who", "rules"],
        "emqx@127.0.0.1",
    )
}

fn acl(who: Term) -> Term {
    Term::tuple(vec![Term::atom("emqx_acl"), who, Term::list(vec![])])
}

fn file_with(records: &[Term]) -> Vec<u8> {
    let mut w = BackupWriter::new(
        "t",
        Vec::new(),
        &LogHeader::new("emqx@127.0.0.1"),
        &acl_schema(),
        AtomEncoding::Utf8,
    )
    .unwrap();
    for r in records {
        w.write_record(r).unwrap();
    }
    w.finish().unwrap()
}

fn items(records: &[Term]) -> Vec<u8> {
    let mut w = disk_log::Writer::new(Vec::new()).unwrap();
    for r in records {
        w.write_item(&erlang_term::encode_to_vec(r, AtomEncoding::Utf8).unwrap())
            .unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn writes_and_reads_back() {
    let recs = vec![
        acl(Term::Int(0)),
        acl(Term::tuple(vec![Term::Int(1), Term::binary("u")])),
    ];
    let bytes = file_with(&recs);
    let mut r = BackupReader::open("mnesia/emqx_acl", &bytes[..], ReadOptions::default()).unwrap();
    assert_eq!(r.header().log_version, "1.2");
    assert_eq!(r.schema().table, "emqx_acl");
    assert_eq!(r.schema().attributes().unwrap(), ["who", "rules"]);
    assert_eq!(r.schema().table_type(), Some(TableType::OrderedSet));
    let mut got = Vec::new();
    while let Some((_, t)) = r.next_record().unwrap() {
        got.push(t);
    }
    assert_eq!(got, recs);
    assert_eq!(r.records(), 2);
}

#[test]
fn missing_header_and_schema_are_named() {
    let header = LogHeader::new("n").to_term();
    let e = BackupReader::open("mnesia/emqx_acl", &items(&[])[..], ReadOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e.kind, BackupErrorKind::MissingHeader));
    assert!(
        e.to_string()
            .starts_with("mnesia/emqx_acl: byte 8: missing header"),
        "{e}"
    );
    let e = BackupReader::open(
        "f",
        &items(&[acl(Term::Int(0))])[..],
        ReadOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(e.kind, BackupErrorKind::MissingHeader));
    let e = BackupReader::open(
        "f",
        &items(std::slice::from_ref(&header))[..],
        ReadOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(e.kind, BackupErrorKind::MissingSchema));
    let e = BackupReader::open(
        "f",
        &items(&[header.clone(), acl(Term::Int(0))])[..],
        ReadOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(e.kind, BackupErrorKind::MissingSchema));
    let mut h = LogHeader::new("n");
    h.log_version = "9.9".into();
    let e = BackupReader::open("f", &items(&[h.to_term()])[..], ReadOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e.kind, BackupErrorKind::BadHeaderVersion(_)));
}

#[test]
fn records_mnesia_would_drop_are_errors() {
    let header = LogHeader::new("n").to_term();
    let schema = Schema::new(
        "emqx_authn_mnesia",
        TableType::OrderedSet,
        "user_info",
        &["user_id", "password_hash", "salt", "is_superuser"],
        "n",
    );
    let by_record_name = Term::tuple(vec![
        Term::atom("user_info"),
        Term::Int(1),
        Term::Int(2),
        Term::Int(3),
        Term::Int(4),
    ]);
    let bytes = items(&[header.clone(), schema.to_term(), by_record_name]);
    let mut r = BackupReader::open("f", &bytes[..], ReadOptions::default()).unwrap();
    let e = r.next_record().unwrap_err();
    assert!(e.to_string().contains("silently drop"), "{e}");
    let short = Term::tuple(vec![Term::atom("emqx_authn_mnesia"), Term::Int(1)]);
    let bytes = items(&[header.clone(), schema.to_term(), short]);
    let mut r = BackupReader::open("f", &bytes[..], ReadOptions::default()).unwrap();
    let e = r.next_record().unwrap_err();
    assert!(e.to_string().contains("2 elements, expected 5"), "{e}");
    let bytes = items(&[header, schema.to_term(), schema.to_term()]);
    let mut r = BackupReader::open("f", &bytes[..], ReadOptions::default()).unwrap();
    assert!(matches!(
        r.next_record().unwrap_err().kind,
        BackupErrorKind::ExtraSchema(_)
    ));
}

#[test]
fn corrupt_items_name_offsets() {
    let bytes = file_with(&[acl(Term::Int(0))]);
    let mut bad = bytes.clone();
    let last = bad.len() - 3;
    bad[last] = 0xee; // inside the record's term
    let mut r = BackupReader::open("mnesia/emqx_acl", &bad[..], ReadOptions::default()).unwrap();
    let e = r.next_record().unwrap_err();
    assert!(matches!(e.kind, BackupErrorKind::Term(_)), "{e}");
    let truncated = &bytes[..bytes.len() - 2];
    let mut r = BackupReader::open("mnesia/emqx_acl", truncated, ReadOptions::default()).unwrap();
    let e = r.next_record().unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn raw_copy_is_byte_identical() {
    let bytes = file_with(&[acl(Term::Int(0)), acl(Term::Int(5))]);
    let mut r = BackupReader::open("f", &bytes[..], ReadOptions::default()).unwrap();
    let mut w =
        BackupWriter::new("g", Vec::new(), r.header(), r.schema(), AtomEncoding::Utf8).unwrap();
    while let Some(raw) = r.next_raw().unwrap() {
        w.write_raw(raw.bytes).unwrap();
    }
    assert_eq!(w.finish().unwrap(), bytes);
}
