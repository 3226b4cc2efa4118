//! A node: seeding, export, import of every real EMQX archive, EMQX's refusals and lines, and
//! the backup files.

use emqx_archive::{Contents, Edition, Limits};
use emqx_backup_tests::{fixture_archives, plugins};
use emqx_sim_store::{DataError, ExportOptions, Node, NodeInfo, Role, StoreError};
use erlang_term::Term;
use mnesia_backup::{BackupReader, ReadOptions};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const NAME: &str = "emqx@127.0.0.1";

fn open(dir: &Path, role: Role, edition: Edition, version: &str) -> Node {
    let info = NodeInfo {
        name: NAME.into(),
        role,
        edition,
        version: version.into(),
        data_dir: dir.join("data"),
    };
    Node::open(info, Some(&plugins::build())).expect("node opens")
}

fn core(dir: &Path) -> Node {
    open(dir, Role::Core, Edition::Ce, "5.8.6")
}

fn fixture(name: &str) -> PathBuf {
    fixture_archives()
        .into_iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap() == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Copies a fixture into the node's backup dir (as an upload would) and returns its path.
fn staged(node: &Node, name: &str) -> PathBuf {
    let to = node.backup_dir().join(name);
    std::fs::copy(fixture(name), &to).unwrap();
    to
}

fn quiet() -> impl FnMut(&str) {
    |_| {}
}

/// Every table of an archive as its records.
fn tables(contents: &Contents) -> Vec<(String, Vec<Term>)> {
    contents
        .entries
        .iter()
        .filter_map(|(rel, bytes)| {
            let table = rel.strip_prefix("mnesia/")?;
            let mut reader =
                BackupReader::open(rel, bytes.as_slice(), ReadOptions::default()).ok()?;
            let mut records = Vec::new();
            while let Some((_, t)) = reader.next_record().unwrap() {
                records.push(t);
            }
            Some((table.to_owned(), records))
        })
        .collect()
}

fn read(path: &Path) -> Contents {
    Contents::read(path, &Limits::default()).unwrap()
}

fn export(node: &Node) -> PathBuf {
    node.export(&ExportOptions::default(), &mut quiet())
        .expect("export")
}

/// A snapshot of everything the node holds, to check that a refused import changed nothing.
/// Config, tables and stored files.
type State = (Map<String, Value>, Vec<(String, Vec<Term>)>, Vec<String>);

fn state(node: &Node) -> State {
    node.store
        .read(|tx| {
            let tables = node
                .tables()
                .iter()
                .map(|d| Ok((d.name.to_owned(), tx.scan(d.name)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok((tx.config_all()?, tables, tx.file_paths()?))
        })
        .unwrap()
}

#[test]
fn shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Node>();
    // A node opened on a thread that has exited works from other threads (the plugins'
    // allocator must not take that thread as its main thread).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let node = std::thread::spawn(move || core(&path)).join().unwrap();
    let file = staged(&node, "emqx-export-upload-ce.tar.gz");
    let node = std::sync::Arc::new(node);
    let n = node.clone();
    std::thread::spawn(move || n.import(&file, &mut quiet()).map(|_| ()))
        .join()
        .unwrap()
        .unwrap();
    export(&node);
}

#[test]
fn fresh_node_has_admin_public() {
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    for sub in ["configs", "certs", "authz", "backup"] {
        assert!(dir.path().join("data").join(sub).is_dir(), "{sub}");
    }
    let admin = node
        .store
        .read(|tx| tx.get("emqx_admin", &Term::binary("admin")))
        .unwrap()
        .expect("admin seeded");
    let fields = admin.as_tuple().unwrap();
    assert_eq!(fields.len(), 6);
    let hash = fields[2].as_binary().unwrap();
    assert_eq!(hash.len(), 36);
    let salt = &hash[..4];
    assert!(salt
        .iter()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)));
    use sha2::Digest;
    let mut sha = sha2::Sha256::new();
    sha.update(salt);
    sha.update(b"public");
    assert_eq!(&hash[4..], sha.finalize().as_slice());
    assert_eq!(fields[3], Term::binary("administrator"));
    assert_eq!(fields[4], Term::binary("administrator"));
    assert_eq!(node.store.read(|tx| tx.config_all()).unwrap().len(), 0);
    // Reopening does not seed again: a changed admin stays.
    node.store
        .write(|tx| tx.delete("emqx_admin", &Term::binary("admin")))
        .unwrap();
    drop(node);
    let node = core(dir.path());
    assert_eq!(node.store.read(|tx| tx.count("emqx_admin")).unwrap(), 0);
}

#[test]
fn export_lines_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    node.store
        .write(|tx| -> Result<(), StoreError> {
            tx.put(
                "emqx_banned",
                &Term::tuple(vec![
                    Term::atom("emqx_banned"),
                    Term::tuple(vec![Term::atom("clientid"), Term::binary("c1")]),
                    Term::binary("mgmt_api"),
                    Term::binary(""),
                    Term::Int(1_700_000_000),
                    Term::atom("infinity"),
                ]),
            )?;
            tx.set_config("mqtt", &json!({"max_packet_size": "1MB"}))?;
            tx.put_file("certs/listeners/ssl/default/cert-X", b"CERT TEXT")?;
            let cert = format!(
                "{}/certs/listeners/ssl/default/cert-X",
                tx.data_dir().display()
            );
            tx.set_config(
                "listeners",
                &json!({"ssl": {"default": {"bind": "0.0.0.0:8883", "ssl_options": {"certfile": cert}}}}),
            )?;
            tx.set_config(
                "authorization",
                &json!({"sources": [{"type": "file", "enable": true, "rules": "{allow, all}.\n"}]}),
            )
        })
        .unwrap();
    let mut lines = Vec::new();
    let path = node
        .export(&ExportOptions::default(), &mut |l| lines.push(l.to_owned()))
        .unwrap();
    let data_dir = dir.path().join("data");
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(emqx_archive::is_export_name(&name), "{name}");
    assert_eq!(path.parent().unwrap(), data_dir.join("backup"));
    let mut expected = vec![
        format!("Exporting data to \"{}\"...", path.display()),
        "Exporting cluster configuration...".to_owned(),
        format!(
            "Exporting additional files from EMQX data_dir: \"{}\"...",
            data_dir.display()
        ),
        "Exporting built-in database...".to_owned(),
    ];
    for table in [
        "emqx_banned",
        "emqx_banned_rules",
        "emqx_authn_mnesia",
        "emqx_authn_scram_mnesia",
        "emqx_acl",
        "emqx_admin",
        "emqx_app",
        "emqx_psk",
        "emqx_retainer_message",
    ] {
        expected.push(format!("Exporting {table} database table..."));
    }
    expected.push(format!(
        "Data has been successfully exported to {}.",
        path.display()
    ));
    assert_eq!(lines, expected);

    let inspection = emqx_archive::inspect(&path, &Limits::default()).expect("inspect passes");
    assert_eq!(inspection.meta.version, "5.8.6");
    assert_eq!(inspection.tables["emqx_banned"].records, 1);
    assert_eq!(inspection.tables["emqx_admin"].records, 1);
    assert_eq!(inspection.tables["emqx_banned"].node, NAME);
    let contents = read(&path);
    let config = contents.config.unwrap();
    // §1.7: files in the data dir are inlined.
    assert_eq!(
        config["listeners"]["ssl"]["default"]["ssl_options"]["certfile"],
        "CERT TEXT"
    );
    assert_eq!(
        config["authorization"]["sources"][0]["rules"],
        "{allow, all}.\n"
    );

    // Filters.
    let path = node
        .export(
            &ExportOptions {
                table_sets: vec!["banned".into()],
                root_keys: vec!["mqtt".into()],
                dir: Some(dir.path().join("elsewhere")),
                without_sensitive: false,
            },
            &mut quiet(),
        )
        .unwrap();
    assert_eq!(path.parent().unwrap(), dir.path().join("elsewhere"));
    let contents = read(&path);
    let config = contents.config.unwrap();
    assert_eq!(config.keys().collect::<Vec<_>>(), ["mqtt"]);
    let names: Vec<&str> = contents.entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mnesia/emqx_banned", "mnesia/emqx_banned_rules"]);
    let path = node
        .export(
            &ExportOptions {
                without_sensitive: true,
                ..ExportOptions::default()
            },
            &mut quiet(),
        )
        .unwrap();
    let contents = read(&path);
    assert!(contents.entry("mnesia/emqx_admin").is_none());
    assert!(contents.entry("mnesia/emqx_app").is_none());
    assert!(contents.entry("mnesia/emqx_banned").is_some());

    // Unknown names, as EMQX words them.
    let err = node
        .export(
            &ExportOptions {
                root_keys: vec!["zzz".into(), "mqtt".into(), "aaa".into()],
                ..ExportOptions::default()
            },
            &mut quiet(),
        )
        .unwrap_err();
    assert!(matches!(err, DataError::InvalidRootKeys(_)));
    assert_eq!(err.to_string(), "Invalid root keys: aaa, zzz");
    let err = node
        .export(
            &ExportOptions {
                table_sets: vec!["nope".into(), "banned".into()],
                ..ExportOptions::default()
            },
            &mut quiet(),
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "Invalid table sets: nope");
}

/// Records of every table of `archive` the node has must be in `export`, equal as terms;
/// every root a plugin owns and imports must be in it with the same value.
fn assert_holds(node: &Node, archive: &Contents, export: &Contents) {
    let exported = tables(export);
    for (table, records) in tables(archive) {
        if !node.tables().iter().any(|d| d.name == table) {
            continue;
        }
        let (_, have) = exported
            .iter()
            .find(|(t, _)| *t == table)
            .unwrap_or_else(|| panic!("{table} not exported"));
        for r in &records {
            assert!(have.contains(r), "{table}: {r} missing after import");
        }
    }
    let incoming = archive.config.clone().unwrap_or_default();
    let config = export.config.clone().unwrap_or_default();
    for (root, value) in &incoming {
        let Some(owner) = node.plugins.root_owner(root) else {
            continue;
        };
        if owner.name() == "dashboard" {
            continue; // exported, never imported
        }
        assert_eq!(config.get(root), Some(value), "root {root}");
    }
}

#[test]
fn imports_every_fixture() {
    for path in fixture_archives() {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let dir = tempfile::tempdir().unwrap();
        let node = core(dir.path());
        let before = state(&node);
        let file = staged(&node, &name);
        let result = node.import(&file, &mut quiet());
        match name.as_str() {
            "emqx-export-bad-upload.tar.gz" => {
                let err = result.expect_err("bad upload refused");
                let text = err.to_string();
                assert!(matches!(err, DataError::Invalid(_)), "{text}");
                assert!(
                    text.contains("authn: authentication[0].mechanism"),
                    "{text}"
                );
                assert!(text.contains("authz: authorization.deny_action"), "{text}");
                assert_eq!(state(&node), before, "a refused import changes nothing");
            }
            "emqx-export-upload-ee.tar.gz" => {
                let err = result.expect_err("ee into ce refused");
                assert!(matches!(err, DataError::EeToCe));
                assert_eq!(
                    err.to_string(),
                    "importing EMQX Enterprise data backup to EMQX is not allowed"
                );
                assert_eq!(state(&node), before);
                // An ee node takes it.
                let ee_dir = tempfile::tempdir().unwrap();
                let ee = open(ee_dir.path(), Role::Core, Edition::Ee, "5.8.6");
                let file = staged(&ee, &name);
                ee.import(&file, &mut quiet()).expect("ee imports ee");
                let archive = read(&fixture(&name));
                assert_holds(&ee, &archive, &read(&export(&ee)));
            }
            _ => {
                let report = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(
                    report.lines.last().unwrap(),
                    "Data has been imported successfully."
                );
                let archive = read(&fixture(&name));
                let export1 = export(&node);
                assert_holds(&node, &archive, &read(&export1));
                // Again: nothing to insert or update.
                let again = node.import(&file, &mut quiet()).expect("second import");
                for plan in &again.plans {
                    for scope in &plan.scopes {
                        assert!(
                            scope.insert.is_empty() && scope.update.is_empty(),
                            "{name}: second import changes {}/{}: {:?} {:?}",
                            plan.domain,
                            scope.name,
                            scope.insert,
                            scope.update
                        );
                    }
                }
                assert!(again.overwritten.is_empty());
                assert_holds(&node, &archive, &read(&export(&node)));
            }
        }
    }
}

#[test]
fn import_lines_match_emqx() {
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    let file = staged(&node, "emqx-export-ce-retained-msgs-test.tar.gz");
    let mut logged = Vec::new();
    let report = node
        .import(&file, &mut |l| logged.push(l.to_owned()))
        .unwrap();
    assert_eq!(logged, report.lines);
    let mut expected = vec![
        format!("Importing data from \"{}\"...", file.display()),
        "Importing cluster configuration...".to_owned(),
        "Importing built-in database...".to_owned(),
    ];
    let present = [
        "emqx_banned",
        "emqx_banned_rules",
        "emqx_authn_mnesia",
        "emqx_authn_scram_mnesia",
        "emqx_acl",
        "emqx_admin",
        "emqx_app",
        "emqx_psk",
        "emqx_retainer_message",
    ];
    for table in present {
        expected.push(format!("Importing {table} database table..."));
    }
    expected.extend([
        "Starting reindexing retained messages ".to_owned(),
        "Reindexed 5 messages".to_owned(),
        "Reindexing retained messages finished".to_owned(),
        "Data has been imported successfully.".to_owned(),
    ]);
    assert_eq!(report.lines, expected);

    // A changed authenticator is reported as overwritten; tables the archive lacks are named.
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    node.store
        .write(|tx| {
            tx.set_config(
                "authentication",
                &json!([{"mechanism": "password_based", "backend": "built_in_database",
                         "user_id_type": "clientid",
                         "password_hash_algorithm": {"name": "plain", "salt_position": "disable"}}]),
            )
        })
        .unwrap();
    let file = staged(&node, "emqx-export-upload-ce.tar.gz");
    let report = node.import(&file, &mut quiet()).unwrap();
    assert_eq!(
        report.overwritten,
        ["authentication.password_based:built_in_database"]
    );
    assert!(report.lines.contains(
        &"Config key path \"authentication.password_based:built_in_database\" was present before import and has been overwritten."
            .to_owned()
    ));
    assert!(report
        .lines
        .contains(&"No backup file for emqx_retainer_message database table...".to_owned()));
}

#[test]
fn refusals() {
    let dir = tempfile::tempdir().unwrap();
    let replicant = open(dir.path(), Role::Replicant, Edition::Ce, "5.8.6");
    let file = staged(&replicant, "emqx-export-upload-ce.tar.gz");
    let err = replicant.import(&file, &mut quiet()).unwrap_err();
    assert!(matches!(err, DataError::NotCoreNode(ref n) if n == NAME));
    assert_eq!(
        err.to_string(),
        "backup data import is only allowed on core EMQX nodes, but requested node 'emqx@127.0.0.1' is not core"
    );

    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    let before = state(&node);
    // Renamed: the top folder no longer matches.
    let renamed = node.backup_dir().join("renamed.tar.gz");
    std::fs::copy(fixture("emqx-export-upload-ce.tar.gz"), &renamed).unwrap();
    let mut lines = Vec::new();
    let err = node
        .import(&renamed, &mut |l| lines.push(l.to_owned()))
        .unwrap_err();
    assert!(matches!(err, DataError::BadArchiveDir), "{err}");
    assert_eq!(
        lines,
        [format!("Importing data from \"{}\"...", renamed.display())]
    );
    // Newer than the node.
    let old_dir = tempfile::tempdir().unwrap();
    let old = open(old_dir.path(), Role::Core, Edition::Ce, "5.0.2");
    let file = staged(&old, "emqx-export-upload-ce.tar.gz");
    let err = old.import(&file, &mut quiet()).unwrap_err();
    assert!(matches!(err, DataError::UnsupportedVersion { .. }));
    assert_eq!(
        err.to_string(),
        "[warning] Backup version \"5.3.1\" is newer than EMQX version \"5.0.2\", import is not allowed.\n"
    );
    // A 6.x node takes a 5.x archive whose minor is higher than its own (6.x compares the
    // minor only within one major), and refuses a newer major with 6.x's wording.
    let six_dir = tempfile::tempdir().unwrap();
    let six = open(six_dir.path(), Role::Core, Edition::Ee, "6.0.1");
    let ce = staged(&six, "emqx-export-ce-retained-msgs-test.tar.gz");
    six.import(&ce, &mut quiet()).unwrap();
    let older_six_dir = tempfile::tempdir().unwrap();
    let old_five = open(older_six_dir.path(), Role::Core, Edition::Ce, "4.4.0");
    let file = staged(&old_five, "emqx-export-upload-ce.tar.gz");
    let err = old_five.import(&file, &mut quiet()).unwrap_err();
    assert!(err.to_string().contains("is newer than"), "{err}");
    let six_one_dir = tempfile::tempdir().unwrap();
    let six_one = open(six_one_dir.path(), Role::Core, Edition::Ee, "6.1.0");
    let newer = staged(&six_one, "emqx-export-upload-ee.tar.gz");
    six_one.import(&newer, &mut quiet()).unwrap();
    let mut four = read(&fixture("emqx-export-upload-ee.tar.gz"));
    four.meta.version = "4.4.24".into();
    let four = four
        .write(
            &six_one.backup_dir(),
            "emqx-export-2020-01-01-00-00-00.000.tar.gz",
        )
        .unwrap();
    let err = six_one.import(&four, &mut quiet()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "[warning] Backup version \"4.4.24\" is incompatible with EMQX version \"6.1.0\", import is not allowed.\n"
    );
    // Missing file, bad name.
    assert!(matches!(
        node.import(&node.backup_dir().join("nope.tar.gz"), &mut quiet()),
        Err(DataError::NotFound)
    ));
    let zip = node.backup_dir().join("x.zip");
    std::fs::write(&zip, b"x").unwrap();
    assert!(matches!(
        node.import(&zip, &mut quiet()),
        Err(DataError::BadBackupName)
    ));
    assert_eq!(state(&node), before);
}

#[test]
fn resolve_import_paths() {
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    let in_backup = staged(&node, "emqx-export-upload-ce.tar.gz");
    assert_eq!(
        node.resolve_import_path("emqx-export-upload-ce.tar.gz")
            .unwrap(),
        in_backup
    );
    assert_eq!(
        node.resolve_import_path(in_backup.to_str().unwrap())
            .unwrap(),
        in_backup
    );
    // Relative to the node's root (the data dir's parent).
    assert_eq!(
        node.resolve_import_path("data/backup/emqx-export-upload-ce.tar.gz")
            .unwrap(),
        dir.path().join("data/backup/emqx-export-upload-ce.tar.gz")
    );
    for missing in ["nope.tar.gz", "../nope.tar.gz", "x.zip", ""] {
        assert!(
            matches!(node.resolve_import_path(missing), Err(DataError::NotFound)),
            "{missing}"
        );
    }
}

#[test]
fn certs_and_acl_are_written_back() {
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    let name = "emqx-export-test-bootstrap-ce.tar.gz";
    let file = staged(&node, name);
    node.import(&file, &mut quiet()).unwrap();
    // What the certs plugin says EMQX would write.
    let archive = read(&fixture(name));
    let certs = node.plugins.get("certs").unwrap();
    let section = emqx_backup_plugin_host::plan::section(
        Vec::new(),
        archive.config.clone().unwrap_or_default(),
    );
    let records = certs
        .decode(&section, &emqx_backup_plugin_sdk::Options::default())
        .unwrap();
    let expected: Vec<String> = records
        .items
        .iter()
        .filter(|i| i.get("enabled") != Some(&Value::Bool(false)))
        .filter_map(|i| i.get("would_write")?.as_str().map(str::to_owned))
        .collect();
    assert!(!expected.is_empty());
    let data_dir = dir.path().join("data");
    let stored = node.store.read(|tx| tx.file_paths()).unwrap();
    for rel in &expected {
        let hex = rel.rsplit('-').next().unwrap();
        assert!(
            hex.len() == 16
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
            "{rel}"
        );
        assert!(data_dir.join(rel).is_file(), "{rel} not written");
        assert!(stored.contains(rel), "{rel} not stored");
    }
    // The config points at the files.
    let authn = node
        .store
        .read(|tx| tx.config("authentication"))
        .unwrap()
        .unwrap();
    let ssl_paths: Vec<&str> = authn
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.get("ssl")?.get("certfile")?.as_str())
        .collect();
    assert!(!ssl_paths.is_empty());
    for p in ssl_paths.iter().filter(|p| !p.contains("BEGIN")) {
        assert!(
            p.starts_with(&format!("{}/certs/", data_dir.display())),
            "{p}"
        );
        assert!(Path::new(p).is_file(), "{p}");
    }

    // The upload-ce fixture's file authz source: acl.conf is written.
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    let file = staged(&node, "emqx-export-upload-ce.tar.gz");
    node.import(&file, &mut quiet()).unwrap();
    let archive = read(&fixture("emqx-export-upload-ce.tar.gz"));
    let rules = archive.config.as_ref().unwrap()["authorization"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "file")
        .unwrap()["rules"]
        .as_str()
        .unwrap()
        .to_owned();
    let acl = std::fs::read_to_string(dir.path().join("data/authz/acl.conf")).unwrap();
    assert_eq!(acl, rules);
    let hocon = std::fs::read_to_string(dir.path().join("data/configs/cluster.hocon")).unwrap();
    assert!(hocon.contains("authorization"), "{hocon}");
}

#[test]
fn backup_files() {
    let dir = tempfile::tempdir().unwrap();
    let node = core(dir.path());
    assert!(node.list_files().unwrap().is_empty());
    let bytes = std::fs::read(fixture("emqx-export-upload-ce.tar.gz")).unwrap();
    node.upload("emqx-export-upload-ce.tar.gz", &bytes).unwrap();
    let err = node
        .upload("emqx-export-upload-ce.tar.gz", &bytes)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Backup file \"emqx-export-upload-ce.tar.gz\" already exists"
    );
    for bad in ["x.zip", "a/b.tar.gz", "../b.tar.gz", ".tar.gz"] {
        assert!(
            matches!(node.upload(bad, &bytes), Err(DataError::BadBackupName)),
            "{bad}"
        );
    }
    // Top folder ≠ name.
    assert!(matches!(
        node.upload("other.tar.gz", &bytes),
        Err(DataError::BadArchiveDir)
    ));
    // ee on a ce node, schema problems, garbage: refused, nothing stays.
    let ee = std::fs::read(fixture("emqx-export-upload-ee.tar.gz")).unwrap();
    assert!(matches!(
        node.upload("emqx-export-upload-ee.tar.gz", &ee),
        Err(DataError::EeToCe)
    ));
    let bad = std::fs::read(fixture("emqx-export-bad-upload.tar.gz")).unwrap();
    let err = node
        .upload("emqx-export-bad-upload.tar.gz", &bad)
        .unwrap_err();
    assert!(
        err.to_string().contains("authentication[0].mechanism"),
        "{err}"
    );
    assert!(node.upload("junk.tar.gz", b"not gzip").is_err());
    let listed: Vec<String> = std::fs::read_dir(node.backup_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(listed, ["emqx-export-upload-ce.tar.gz"]);

    // Listing: newest first, ties by name descending.
    let exported = export(&node);
    let exported_name = exported.file_name().unwrap().to_str().unwrap().to_owned();
    let files = node.list_files().unwrap();
    assert_eq!(files.len(), 2);
    let mut names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
    names.sort_unstable();
    let mut expected = ["emqx-export-upload-ce.tar.gz", exported_name.as_str()];
    expected.sort_unstable();
    assert_eq!(names, expected);
    for w in files.windows(2) {
        assert!(
            (w[0].created_at_sec, &w[0].filename) >= (w[1].created_at_sec, &w[1].filename),
            "{files:?}"
        );
    }
    let info = files
        .iter()
        .find(|f| f.filename == "emqx-export-upload-ce.tar.gz")
        .unwrap();
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(info.node, NAME);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&info.created_at)
            .unwrap()
            .timestamp(),
        info.created_at_sec
    );

    // Download, sensitive tables, delete.
    assert_eq!(
        node.download("emqx-export-upload-ce.tar.gz").unwrap(),
        bytes
    );
    assert!(matches!(
        node.download("nope.tar.gz"),
        Err(DataError::NotFound)
    ));
    assert!(matches!(
        node.download("../x.tar.gz"),
        Err(DataError::BadBackupName)
    ));
    assert!(node
        .has_sensitive_tables("emqx-export-upload-ce.tar.gz")
        .unwrap());
    let no_sensitive = node
        .export(
            &ExportOptions {
                without_sensitive: true,
                ..ExportOptions::default()
            },
            &mut quiet(),
        )
        .unwrap();
    let no_sensitive = no_sensitive.file_name().unwrap().to_str().unwrap();
    assert!(!node.has_sensitive_tables(no_sensitive).unwrap());
    node.delete("emqx-export-upload-ce.tar.gz").unwrap();
    assert!(matches!(
        node.delete("emqx-export-upload-ce.tar.gz"),
        Err(DataError::NotFound)
    ));
    for bad in ["a/b.tar.gz", "..", "x\0.tar.gz", "x.zip"] {
        assert!(
            matches!(node.delete(bad), Err(DataError::BadBackupName)),
            "{bad}"
        );
    }
    assert_eq!(node.list_files().unwrap().len(), 2);
    assert_eq!(DataError::NotFound.code(), "NOT_FOUND");
    // What an interrupted upload or export leaves is removed when the node starts.
    std::fs::create_dir(node.backup_dir().join(".upload-x")).unwrap();
    std::fs::write(node.backup_dir().join(".x.tar.gz.123.tmp"), b"partial").unwrap();
    assert_eq!(node.list_files().unwrap().len(), 2);
    drop(node);
    let node = core(dir.path());
    let mut left: Vec<String> = std::fs::read_dir(node.backup_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    left.sort();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(DataError::BadBackupName.code(), "BAD_REQUEST");
}
