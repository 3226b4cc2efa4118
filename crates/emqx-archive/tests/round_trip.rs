//! Rewrite of every real EMQX archive keeps every table's terms and every config tree.

use emqx_archive::{classify, read_archive, rewrite, EntryKind, Limits, RewriteOptions};
use erlang_term::Term;
use mnesia_backup::{BackupReader, ReadOptions};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

#[derive(Debug, PartialEq)]
enum Content {
    Table { schema: Term, records: Vec<Term> },
    Hocon(emqx_hocon::Object),
    Bytes(Vec<u8>),
}

fn contents(path: &Path) -> BTreeMap<String, Content> {
    let mut out = BTreeMap::new();
    read_archive(path, &Limits::default(), |e| {
        let rel = e.rel.to_owned();
        let c = match classify(&rel) {
            EntryKind::Table(_) => {
                let mut r = BackupReader::open(e.name, &mut *e, ReadOptions::default()).unwrap();
                let schema = r.schema().to_term();
                let mut records = Vec::new();
                while let Some((_, t)) = r.next_record().unwrap() {
                    records.push(t);
                }
                Content::Table { schema, records }
            }
            EntryKind::ClusterConfig | EntryKind::Meta => {
                let mut s = String::new();
                e.read_to_string(&mut s).unwrap();
                Content::Hocon(emqx_hocon::parse(&s).unwrap())
            }
            EntryKind::Manifest => return Ok(()),
            _ => {
                let mut b = Vec::new();
                e.read_to_end(&mut b).unwrap();
                Content::Bytes(b)
            }
        };
        out.insert(rel, c);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn rewrite_keeps_terms_and_trees() {
    let out = tempfile::tempdir().unwrap();
    for f in emqx_backup_tests::fixture_archives() {
        let before = contents(&f);
        assert!(before.values().any(|c| matches!(c, Content::Table { .. })));
        for reencode in [false, true] {
            let report = rewrite(
                &f,
                out.path(),
                &RewriteOptions {
                    reencode,
                    ..Default::default()
                },
            )
            .unwrap();
            let after = contents(&report.output);
            assert_eq!(before, after, "{} (reencode {reencode})", f.display());
            std::fs::remove_file(&report.output).unwrap();
        }
    }
}

#[test]
fn copy_mode_is_byte_identical_for_tables() {
    let out = tempfile::tempdir().unwrap();
    for f in emqx_backup_tests::fixture_archives() {
        let raw = |p: &Path| {
            let mut m = BTreeMap::new();
            read_archive(p, &Limits::default(), |e| {
                if let EntryKind::Table(t) = classify(e.rel) {
                    let mut b = Vec::new();
                    e.read_to_end(&mut b).unwrap();
                    m.insert(t, b);
                }
                Ok(())
            })
            .unwrap();
            m
        };
        let report = rewrite(&f, out.path(), &RewriteOptions::default()).unwrap();
        assert_eq!(raw(&f), raw(&report.output), "{}", f.display());
        std::fs::remove_file(&report.output).unwrap();
    }
}

#[test]
fn a_short_source_is_an_error_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = emqx_archive::ArchiveWriter::create(
        dir.path(),
        "emqx-export-2024-01-01-00-00-00.000.tar.gz",
    )
    .unwrap();
    let e = w
        .add_reader("mnesia/emqx_acl", 100, &b"only ten b"[..], Some(0))
        .unwrap_err();
    assert!(e.to_string().contains("source gave 10 of 100 bytes"), "{e}");
    drop(w);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no archive and no temporary file left"
    );
}
