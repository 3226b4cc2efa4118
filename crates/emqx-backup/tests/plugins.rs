//! The command line with the domain plugins: loading and refusing plugins, ownership in
//! inspect, plugin checks in verify, and the offline commands diff, merge and filter.

use assert_cmd::Command;
use emqx_backup_tests::plugins::{build, library_file};
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DOMAINS: [&str; 8] = [
    "authn",
    "authz",
    "banned",
    "certs",
    "config",
    "dashboard",
    "psk",
    "rules",
];

fn fixture(name: &str) -> PathBuf {
    emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.file_name().unwrap() == name)
        .unwrap()
}

/// The binary, with the plugins built and no plugin folder from the environment.
fn cmd() -> Command {
    build();
    let mut c = Command::cargo_bin("emqx-backup").unwrap();
    c.env_remove("EMQX_BACKUP_PLUGIN_DIR");
    c
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

fn copy_plugin(lib: &str, to: &Path, as_name: &str) -> PathBuf {
    let from = build().join(library_file(lib));
    let dest = to.join(library_file(as_name));
    std::fs::copy(&from, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    dest
}

fn only_archive(dir: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    assert_eq!(found.len(), 1, "one archive in {}", dir.display());
    found.pop().unwrap()
}

#[test]
fn lists_every_domain_and_what_it_owns() {
    let out = cmd()
        .args(["plugins", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc = json_of(&out);
    let names: Vec<&str> = doc["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["manifest"]["name"].as_str().unwrap())
        .collect();
    for d in DOMAINS {
        assert!(names.contains(&d), "{d} missing from {names:?}");
    }
    let authn = doc["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["manifest"]["name"] == "authn")
        .unwrap();
    assert!(authn["manifest"]["tables"]
        .as_array()
        .unwrap()
        .contains(&"emqx_authn_mnesia".into()));
    assert!(authn["file"]
        .as_str()
        .unwrap()
        .ends_with(&library_file("emqx_backup_plugin_authn")));
    cmd()
        .arg("plugins")
        .assert()
        .success()
        .stdout(predicate::str::contains("cargo target dir"));
}

#[test]
fn refuses_a_plugin_of_another_abi_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = copy_plugin(
        "emqx_backup_test_old_abi_plugin",
        dir.path(),
        "emqx_backup_plugin_old",
    );
    let assert = cmd()
        .arg("--plugin-dir")
        .arg(dir.path())
        .arg("plugins")
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(err.contains("another plugin ABI"), "{err}");
    assert!(err.contains("emqx-backup"), "names the host binary: {err}");
}

#[test]
fn refuses_two_plugins_claiming_the_same_tables_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_plugin(
        "emqx_backup_plugin_banned",
        dir.path(),
        "emqx_backup_plugin_banned2",
    );
    let original = build().join(library_file("emqx_backup_plugin_banned"));
    let assert = cmd()
        .arg("--plugin-dir")
        .arg(dir.path())
        .arg("plugins")
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(err.contains(&copy.display().to_string()), "{err}");
    assert!(err.contains(&original.display().to_string()), "{err}");
    assert!(err.contains("both claim"), "{err}");
}

#[test]
fn an_earlier_folder_shadows_a_plugin_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_plugin(
        "emqx_backup_plugin_psk",
        dir.path(),
        "emqx_backup_plugin_psk",
    );
    let out = cmd()
        .env("EMQX_BACKUP_PLUGIN_DIR", dir.path())
        .args(["plugins", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc = json_of(&out);
    let psk = doc["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["manifest"]["name"] == "psk")
        .unwrap();
    assert_eq!(psk["file"].as_str().unwrap(), copy.display().to_string());
    assert_eq!(doc["shadowed"].as_array().unwrap().len(), 1);
    assert_eq!(doc["search_path"][0]["origin"], "$EMQX_BACKUP_PLUGIN_DIR");
}

#[test]
fn inspect_names_owners_and_lists_unowned_sections() {
    let out = cmd()
        .args(["inspect", "--json"])
        .arg(fixture("emqx-export-ce-retained-msgs-test.tar.gz"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc = json_of(&out);
    assert_eq!(doc["owners"]["tables"]["emqx_authn_mnesia"], "authn");
    assert_eq!(doc["owners"]["tables"]["emqx_acl"], "authz");
    let unowned: Vec<&str> = doc["owners"]["unowned_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(unowned, ["mnesia/emqx_retainer_message"]);
    cmd()
        .arg("inspect")
        .arg(fixture("emqx-export-test-bootstrap-ce.tar.gz"))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("unowned").and(predicate::str::contains(
                "mnesia/emqx_enhanced_authn_scram_mnesia",
            )),
        );
}

#[test]
fn inspect_prints_a_domains_records() {
    let out = cmd()
        .args(["inspect", "--domain", "authn", "--records", "--json"])
        .arg(fixture("emqx-export-upload-ce.tar.gz"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc = json_of(&out);
    let authn = &doc["records"]["authn"];
    let text = authn.to_string();
    assert!(text.contains("authn-user-1"), "{text}");
    assert!(doc["records"].get("banned").is_none());
    cmd()
        .args(["inspect", "--domain", "nosuch"])
        .arg(fixture("emqx-export-upload-ce.tar.gz"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown domain \"nosuch\""));
}

#[test]
fn verify_flags_the_bad_upload_naming_authn_and_authz_faults() {
    let assert = cmd()
        .arg("verify")
        .arg(fixture("emqx-export-bad-upload.tar.gz"))
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(err.contains("authn: authentication[0]"), "{err}");
    assert!(err.contains("authz: authorization"), "{err}");
    assert!(err.contains("deny_action"), "{err}");
    for name in [
        "emqx-export-upload-ce.tar.gz",
        "emqx-export-upload-ee.tar.gz",
        "emqx-export-ce-retained-msgs-test.tar.gz",
        "emqx-export-test-bootstrap-ce.tar.gz",
    ] {
        cmd().arg("verify").arg(fixture(name)).assert().success();
    }
}

#[test]
fn diff_of_an_archive_with_itself_is_empty() {
    let f = fixture("emqx-export-upload-ce.tar.gz");
    cmd()
        .arg("diff")
        .arg(&f)
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("no differences"));
    let out = cmd()
        .args(["diff", "--json"])
        .arg(fixture("emqx-export-ce-retained-msgs-test.tar.gz"))
        .arg(&f)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc = json_of(&out);
    assert_eq!(doc["same"], false);
    let authn = doc["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "authn")
        .unwrap();
    let users = authn["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "emqx_authn_mnesia")
        .unwrap();
    assert!(!users["only_in_b"].as_array().unwrap().is_empty());
}

#[test]
fn merge_writes_a_sound_archive_and_a_second_merge_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("emqx-export-ce-retained-msgs-test.tar.gz");
    let incoming = fixture("emqx-export-upload-ce.tar.gz");
    let out = cmd()
        .args(["merge", "--json", "-o"])
        .arg(dir.path())
        .arg(&base)
        .arg(&incoming)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc = json_of(&out);
    let merged = PathBuf::from(doc["file"].as_str().unwrap());
    cmd().arg("verify").arg(&merged).assert().success();
    let again = cmd()
        .args(["merge", "--json", "--dry-run"])
        .arg(&merged)
        .arg(&incoming)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    for plan in json_of(&again)["plan"].as_array().unwrap() {
        for scope in plan["scopes"].as_array().unwrap() {
            assert!(
                scope["insert"].as_array().unwrap().is_empty()
                    && scope["update"].as_array().unwrap().is_empty(),
                "second merge changes {}: {scope}",
                plan["domain"]
            );
        }
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "dry run writes nothing"
    );
}

#[test]
fn filter_keeps_chosen_domains_and_refuses_unknown_names_as_emqx_does() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture("emqx-export-upload-ce.tar.gz");
    cmd()
        .args(["filter", "--domains", "authn,banned", "-o"])
        .arg(dir.path())
        .arg(&f)
        .assert()
        .success();
    let out = only_archive(dir.path());
    let doc = json_of(
        &cmd()
            .args(["inspect", "--json"])
            .arg(&out)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let tables: Vec<&String> = doc["tables"].as_object().unwrap().keys().collect();
    assert_eq!(
        tables,
        [
            "emqx_authn_mnesia",
            "emqx_authn_scram_mnesia",
            "emqx_banned"
        ]
    );
    assert_eq!(doc["config_roots"], serde_json::json!(["authentication"]));
    cmd().arg("verify").arg(&out).assert().success();

    cmd()
        .args(["filter", "--table-sets", "x,banned,a", "-o"])
        .arg(dir.path())
        .arg(&f)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("Invalid table sets: a, x"));
    cmd()
        .args(["filter", "--root-keys", "nope", "-o"])
        .arg(dir.path())
        .arg(&f)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("Invalid root keys: nope"));
}

#[test]
fn unowned_sections_pass_through_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("emqx-export-ce-retained-msgs-test.tar.gz");
    cmd()
        .args(["merge", "-q", "-o"])
        .arg(dir.path())
        .arg(&base)
        .arg(fixture("emqx-export-upload-ce.tar.gz"))
        .assert()
        .success();
    let limits = emqx_archive::Limits::default();
    let before = emqx_archive::Contents::read(&base, &limits).unwrap();
    let after = emqx_archive::Contents::read(&only_archive(dir.path()), &limits).unwrap();
    let entry = "mnesia/emqx_retainer_message";
    assert!(before.entry(entry).is_some());
    assert_eq!(before.entry(entry), after.entry(entry), "{entry} changed");
}
