//! Table files EMQX would refuse or misfile are refused by inspect, naming the entry.

use emqx_archive::{inspect, table_def, ArchiveWriter, ErrorKind, Limits};
use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{BackupWriter, LogHeader, Schema, TableType};
use std::path::PathBuf;

const META: &[u8] = b"edition = ce\nversion = \"5.8.6\"\n";

fn table_file(schema: &Schema, records: &[Term]) -> Vec<u8> {
    let mut w = BackupWriter::new(
        "t",
        Vec::new(),
        &LogHeader::new("n@h"),
        schema,
        AtomEncoding::Utf8,
    )
    .unwrap();
    for r in records {
        w.write_record(r).unwrap();
    }
    w.finish().unwrap()
}

fn archive(dir: &std::path::Path, entries: &[(&str, Vec<u8>)]) -> PathBuf {
    let mut w = ArchiveWriter::create(dir, "emqx-export-2024-01-01-00-00-00.000.tar.gz").unwrap();
    w.add_bytes("META.hocon", META, None).unwrap();
    for (rel, data) in entries {
        w.add_bytes(rel, data, None).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn catalog_schemas_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let acl = table_def("emqx_acl").unwrap();
    let rec = Term::tuple(vec![
        Term::atom("emqx_acl"),
        Term::Int(0),
        Term::list(vec![]),
    ]);
    let p = archive(
        dir.path(),
        &[("mnesia/emqx_acl", table_file(&acl.schema("n@h"), &[rec]))],
    );
    let i = inspect(&p, &Limits::default()).unwrap();
    assert_eq!(i.tables["emqx_acl"].records, 1);
    assert!(i.has_manifest);
}

#[test]
fn attributes_emqx_refuses_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Schema::new(
        "emqx_acl",
        TableType::OrderedSet,
        "emqx_acl",
        &["who", "rules", "extra"],
        "n@h",
    );
    let p = archive(dir.path(), &[("mnesia/emqx_acl", table_file(&schema, &[]))]);
    let e = inspect(&p, &Limits::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::TableSchema { .. }), "{e}");
    assert!(
        e.to_string().contains("mnesia/emqx_acl")
            && e.to_string().contains("different_table_schema"),
        "{e}"
    );
}

#[test]
fn unknown_tables_are_decoded_but_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Schema::new(
        "emqx_future",
        TableType::Set,
        "emqx_future",
        &["k", "v"],
        "n@h",
    );
    let rec = Term::tuple(vec![Term::atom("emqx_future"), Term::Int(1), Term::Int(2)]);
    let p = archive(
        dir.path(),
        &[("mnesia/emqx_future", table_file(&schema, &[rec]))],
    );
    assert_eq!(
        inspect(&p, &Limits::default()).unwrap().tables["emqx_future"].records,
        1
    );
}
