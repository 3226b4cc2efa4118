//! The archives `merge` writes, checked against real Erlang/OTP: restoring a merged table into
//! an empty mnesia must give exactly the rows that EMQX's own import gives when it restores the
//! incoming table (`keep_tables`) over a node seeded with the base table's rows.
//!
//! Skipped with a loud banner when `escript` is not on PATH; fails instead when `REQUIRE_OTP=1`.

use emqx_archive::{classify, table_def, Contents, EntryKind, Limits};
use emqx_backup_plugin_host::{default_search_path, plan_import, Registry};
use emqx_backup_plugin_sdk::Options;
use emqx_backup_tests::oracle::{oracle_read, oracle_restore, require_otp};
use emqx_backup_tests::{fixture_archives, plugins};
use erlang_term::Term;
use mnesia_backup::{BackupReader, ReadOptions};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap()
}

fn registry() -> Registry {
    let dir = plugins::build();
    let registry = Registry::load(&default_search_path(Some(&dir))).expect("plugins load");
    assert!(
        registry.plugins.len() >= 8,
        "all domain plugins: {:?}",
        registry.names()
    );
    registry
}

/// The table's records as mnesia holds them: tagged with the record name.
fn rows(table: &str, bytes: &[u8]) -> Vec<Term> {
    let record_name = table_def(table).unwrap().record_name;
    let mut reader = BackupReader::open(table, bytes, ReadOptions::default()).unwrap();
    let mut out = Vec::new();
    while let Some((_, term)) = reader.next_record().unwrap() {
        let mut fields = term.as_tuple().unwrap().to_vec();
        fields[0] = Term::atom(record_name);
        out.push(Term::tuple(fields));
    }
    out
}

fn tables(c: &Contents) -> Vec<(String, Vec<u8>)> {
    c.entries
        .iter()
        .filter_map(|(rel, bytes)| match classify(rel) {
            EntryKind::Table(t) if table_def(&t).is_some() => Some((t, bytes.clone())),
            _ => None,
        })
        .collect()
}

/// Writes table files under `dir/<side>/<table>`: the oracle takes the table from the name.
fn spill(dir: &Path, side: &str, tables: &[(String, Vec<u8>)]) -> Vec<PathBuf> {
    let dir = dir.join(side);
    std::fs::create_dir_all(&dir).unwrap();
    tables
        .iter()
        .map(|(t, bytes)| {
            let p = dir.join(t);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

fn restored(res: &Term) -> Vec<(String, Term, Vec<Term>)> {
    res.as_list()
        .unwrap()
        .iter()
        .map(|e| match e.as_tuple() {
            Some([tab, status, rows]) => (
                tab.as_atom().unwrap().to_owned(),
                status.clone(),
                rows.as_list().unwrap().to_vec(),
            ),
            _ => panic!("bad restore entry {e}"),
        })
        .collect()
}

fn check_pair(registry: &Registry, base: &str, incoming: &str) {
    let limits = Limits::default();
    let base_c = Contents::read(&fixture(base), &limits).unwrap();
    let inc_c = Contents::read(&fixture(incoming), &limits).unwrap();
    let base_tables = tables(&base_c);
    let inc_tables = tables(&inc_c);
    let options = Options {
        want_merged: true,
        ..Options::default()
    };
    let plan = plan_import(registry, base_c, inc_c, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = plan
        .merged
        .unwrap()
        .write(dir.path(), "emqx-export-2026-01-01-00-00-00.000.tar.gz")
        .unwrap();
    emqx_archive::inspect(&written, &limits).unwrap();
    let merged = tables(&Contents::read(&written, &limits).unwrap());

    // Only the tables the import touches: those the incoming archive has.
    let touched: Vec<(String, Vec<u8>)> = merged
        .into_iter()
        .filter(|(t, _)| inc_tables.iter().any(|(i, _)| i == t))
        .collect();
    let ours = restored(&oracle_restore(
        &spill(dir.path(), "merged", &touched),
        None,
    ));
    let seed: Vec<(String, Vec<Term>)> = base_tables
        .iter()
        .map(|(t, b)| (t.clone(), rows(t, b)))
        .collect();
    let emqx = restored(&oracle_restore(
        &spill(dir.path(), "incoming", &inc_tables),
        Some(&seed),
    ));
    for (tab, status, rows) in &ours {
        assert_eq!(
            status.as_atom(),
            Some("ok"),
            "{base} + {incoming}: restoring merged {tab}: {status}"
        );
        let (_, s, want) = emqx
            .iter()
            .find(|(t, _, _)| t == tab)
            .unwrap_or_else(|| panic!("{tab} not restored by EMQX's path"));
        assert_eq!(
            s.as_atom(),
            Some("ok"),
            "{base} + {incoming}: EMQX's restore of {tab}: {s}"
        );
        assert_eq!(
            rows, want,
            "{base} + {incoming}: table {tab} differs from what EMQX's import leaves"
        );
    }
    assert_eq!(ours.len(), touched.len());
    for p in spill(dir.path(), "read", &touched) {
        let read = oracle_read(&p);
        assert_eq!(
            read.as_tuple().and_then(|t| t[0].as_atom()),
            Some("ok"),
            "disk_log reads {}",
            p.display()
        );
    }
}

#[test]
fn merged_archives_restore_like_emqx_imports() {
    if !require_otp() {
        return;
    }
    let registry = registry();
    check_pair(
        &registry,
        "emqx-export-ce-retained-msgs-test.tar.gz",
        "emqx-export-upload-ce.tar.gz",
    );
    check_pair(
        &registry,
        "emqx-export-upload-ce.tar.gz",
        "emqx-export-ce-retained-msgs-test.tar.gz",
    );
    check_pair(
        &registry,
        "emqx-export-upload-ce.tar.gz",
        "emqx-export-upload-ee.tar.gz",
    );
    check_pair(
        &registry,
        "emqx-export-test-bootstrap-ce.tar.gz",
        "emqx-export-upload-ce.tar.gz",
    );
}

#[test]
fn filtered_and_merged_archives_from_the_binary_read_and_restore_in_otp() {
    if !require_otp() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(plugins::binary())
            .args(args)
            .env_remove("EMQX_BACKUP_PLUGIN_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let upload = fixture("emqx-export-upload-ce.tar.gz");
    let retained = fixture("emqx-export-ce-retained-msgs-test.tar.gz");
    let filtered = dir.path().join("filtered");
    let merged = dir.path().join("merged");
    run(&[
        "filter".as_ref(),
        "--domains".as_ref(),
        "authn,authz,banned".as_ref(),
        "-o".as_ref(),
        filtered.as_os_str(),
        upload.as_os_str(),
    ]);
    run(&[
        "merge".as_ref(),
        "-o".as_ref(),
        merged.as_os_str(),
        retained.as_os_str(),
        upload.as_os_str(),
    ]);
    for out in [filtered, merged] {
        let archive = std::fs::read_dir(&out)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let contents = Contents::read(&archive, &Limits::default()).unwrap();
        let files = spill(
            dir.path(),
            &format!("{}-tables", out.file_name().unwrap().to_string_lossy()),
            &tables(&contents),
        );
        assert!(!files.is_empty());
        for (tab, status, _) in restored(&oracle_restore(&files, None)) {
            assert_eq!(
                status.as_atom(),
                Some("ok"),
                "{}: {tab}: {status}",
                archive.display()
            );
        }
    }
}
