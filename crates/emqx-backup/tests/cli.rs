//! The command line against real EMQX archives and hostile ones.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let v = emqx_backup_tests::fixture_archives();
    assert_eq!(v.len(), 5, "the five real EMQX archives");
    v
}

fn fixture(name: &str) -> PathBuf {
    fixtures()
        .into_iter()
        .find(|p| p.file_name().unwrap() == name)
        .unwrap()
}

/// The binary with every domain plugin built (tests must not depend on what other test
/// binaries happened to build first).
fn cmd() -> Command {
    emqx_backup_tests::plugins::build();
    let mut c = Command::cargo_bin("emqx-backup").unwrap();
    c.env_remove("EMQX_BACKUP_PLUGIN_DIR");
    c
}

/// The fixture whose config EMQX's schema check refuses (the plugins' checks catch it).
const BAD_CONFIG: &str = "emqx-export-bad-upload.tar.gz";

fn is_bad_config(f: &Path) -> bool {
    f.file_name().unwrap() == BAD_CONFIG
}

/// Builds a .tar.gz from (name, type, data) entries, with raw names (no path checks).
fn tarball(dir: &Path, file: &str, entries: &[(&str, tar::EntryType, &[u8])]) -> PathBuf {
    let path = dir.join(file);
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut b = tar::Builder::new(gz);
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if *kind == tar::EntryType::Symlink || *kind == tar::EntryType::Link {
            h.set_link_name("/etc/passwd").unwrap();
        }
        let bytes = name.as_bytes();
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
    path
}

const META: &[u8] = b"edition = ce\nversion = \"5.3.1\"\n";

#[test]
fn verify_accepts_every_real_archive_but_the_bad_config() {
    for f in fixtures() {
        if is_bad_config(&f) {
            cmd().arg("verify").arg(&f).assert().code(3);
            continue;
        }
        cmd()
            .arg("verify")
            .arg(&f)
            .assert()
            .success()
            .stdout(predicate::str::starts_with("ok: "));
    }
}

#[test]
fn inspect_json_has_the_documented_shape() {
    let out = cmd()
        .args(["inspect", "--json"])
        .arg(fixture("emqx-export-upload-ce.tar.gz"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["meta"]["edition"], "ce");
    assert_eq!(doc["meta"]["version"], "5.3.1");
    assert_eq!(doc["tables"]["emqx_banned"]["records"], 3);
    assert_eq!(
        doc["tables"]["emqx_acl"]["attributes"],
        serde_json::json!(["who", "rules"])
    );
    assert_eq!(
        doc["config_roots"],
        serde_json::json!(["authentication", "authorization", "bridges"])
    );
    assert_eq!(doc["entries"].as_array().unwrap().len(), 9);
    assert_eq!(doc["entries"][0]["kind"], "meta");
}

#[test]
fn inspect_lists_retained_messages_and_legacy_tables() {
    cmd()
        .arg("inspect")
        .arg(fixture("emqx-export-ce-retained-msgs-test.tar.gz"))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("emqx_retainer_message")
                .and(predicate::str::contains("emqx_banned_rules")),
        );
    cmd()
        .arg("inspect")
        .arg(fixture("emqx-export-test-bootstrap-ce.tar.gz"))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("emqx_enhanced_authn_scram_mnesia")
                .and(predicate::str::contains("desc")),
        );
}

#[test]
fn rewrite_round_trips_every_real_archive() {
    let dir = tempfile::tempdir().unwrap();
    for (i, f) in fixtures().iter().enumerate() {
        for reencode in [false, true] {
            let out = dir.path().join(format!("{i}-{reencode}"));
            let mut c = cmd();
            c.args(["rewrite", "--json"]).arg(f).arg("-o").arg(&out);
            if reencode {
                c.arg("--reencode");
            }
            let o = c.output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let written = PathBuf::from(report["output"].as_str().unwrap());
            let name = written.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(
                name.starts_with("emqx-export-") && name.ends_with(".tar.gz"),
                "{name}"
            );
            if is_bad_config(f) {
                cmd()
                    .arg("verify")
                    .arg(&written)
                    .assert()
                    .code(3)
                    .stderr(predicate::str::contains("problems EMQX would refuse"));
            } else {
                cmd()
                    .arg("verify")
                    .arg(&written)
                    .assert()
                    .success()
                    .stdout(predicate::str::contains("manifest verified"));
            }
            let src = inspect_json(f);
            let dst = inspect_json(&written);
            assert_eq!(src["meta"], dst["meta"]);
            assert_eq!(
                src["config_roots"].as_array().map(|a| a.len()),
                dst["config_roots"].as_array().map(|a| a.len())
            );
            for (table, info) in src["tables"].as_object().unwrap() {
                assert_eq!(info["records"], dst["tables"][table]["records"], "{table}");
                assert_eq!(
                    info["attributes"], dst["tables"][table]["attributes"],
                    "{table}"
                );
            }
            let dirs = std::fs::read_dir(&out).unwrap().count();
            assert_eq!(dirs, 1, "only the archive is left in the output folder");
        }
    }
}

fn inspect_json(p: &Path) -> serde_json::Value {
    let out = cmd().args(["inspect", "--json"]).arg(p).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn refused(path: &Path, needle: &str) {
    cmd()
        .arg("verify")
        .arg(path)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(needle));
}

#[test]
fn hostile_and_broken_archives_are_refused_with_named_entries() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let reg = tar::EntryType::Regular;
    refused(
        &tarball(dir, "a.tar.gz", &[("a/../../etc/x", reg, b"x")]),
        "'..' in path",
    );
    refused(
        &tarball(dir, "b.tar.gz", &[("/b/META.hocon", reg, META)]),
        "absolute path",
    );
    refused(
        &tarball(
            dir,
            "c.tar.gz",
            &[
                ("c/META.hocon", reg, META),
                ("c/link", tar::EntryType::Symlink, b""),
            ],
        ),
        "symbolic link",
    );
    refused(
        &tarball(
            dir,
            "d.tar.gz",
            &[
                ("d/META.hocon", reg, META),
                ("d/hard", tar::EntryType::Link, b""),
            ],
        ),
        "hard link",
    );
    refused(
        &tarball(
            dir,
            "e.tar.gz",
            &[
                ("e/META.hocon", reg, META),
                ("e/dev", tar::EntryType::Char, b""),
            ],
        ),
        "character device",
    );
    refused(
        &tarball(dir, "f.tar.gz", &[("./f/META.hocon", reg, META)]),
        "must be under <backup name> directory",
    );
    refused(
        &tarball(dir, "g.tar.gz", &[("other/META.hocon", reg, META)]),
        "must be under <backup name> directory",
    );
    refused(
        &tarball(
            dir,
            "h.tar.gz",
            &[("h/META.hocon", reg, META), ("h/META.hocon", reg, META)],
        ),
        "more than once",
    );
    refused(
        &tarball(dir, "i.tar.gz", &[("i/cluster.hocon", reg, b"a = 1")]),
        "missing META.hocon",
    );
    refused(
        &tarball(
            dir,
            "j.tar.gz",
            &[("j/META.hocon", reg, b"edition = xe\nversion = \"5.3.1\"")],
        ),
        "wrong EMQX edition value",
    );
    refused(
        &tarball(
            dir,
            "k.tar.gz",
            &[("k/META.hocon", reg, b"edition = ce\nversion = \"5\"")],
        ),
        "wrong EMQX version value",
    );
    refused(
        &tarball(
            dir,
            "l.tar.gz",
            &[
                ("l/META.hocon", reg, META),
                ("l/cluster.hocon", reg, b"a = {"),
            ],
        ),
        "l/cluster.hocon",
    );
    refused(
        &tarball(dir, "m.tar.gz", &[("m\\META.hocon", reg, META)]),
        "backslash",
    );
    refused(
        &tarball(dir, "n.tgz", &[("n/META.hocon", reg, META)]),
        "file name must have .tar.gz extension",
    );
    let junk = b"\x01\x02\x03\x04\x63\x58\x4d\x0bbad file\n\n\n";
    refused(
        &tarball(
            dir,
            "o.tar.gz",
            &[
                ("o/META.hocon", reg, META),
                ("o/mnesia/emqx_acl", reg, junk),
            ],
        ),
        "o/mnesia/emqx_acl: byte 8",
    );
}

#[test]
fn renamed_archives_and_table_files_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let renamed = d.path().join("emqx-export-renamed.tar.gz");
    std::fs::copy(fixture("emqx-export-upload-ce.tar.gz"), &renamed).unwrap();
    refused(&renamed, "must be under <backup name> directory");
    // A table file renamed inside the archive: mnesia would restore it into the wrong table.
    let out = tempfile::tempdir().unwrap();
    let src = fixture("emqx-export-upload-ce.tar.gz");
    let extract = out.path().join("x");
    std::fs::create_dir(&extract).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&src).unwrap(),
    ))
    .unpack(&extract)
    .unwrap();
    let top = extract.join("emqx-export-upload-ce");
    let banned = std::fs::read(top.join("mnesia/emqx_banned")).unwrap();
    let p = tarball(
        d.path(),
        "p.tar.gz",
        &[
            ("p/META.hocon", tar::EntryType::Regular, META),
            (
                "p/mnesia/emqx_banned_rules",
                tar::EntryType::Regular,
                &banned,
            ),
        ],
    );
    refused(
        &p,
        "holds table emqx_banned (schema item), not emqx_banned_rules",
    );
}

#[test]
fn truncated_and_corrupt_gzip_name_the_fault() {
    let d = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("emqx-export-upload-ce.tar.gz")).unwrap();
    for cut in [10, 100, 500, 1000, 2000, bytes.len() - 4] {
        let p = d.path().join("emqx-export-upload-ce.tar.gz");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        cmd()
            .arg("verify")
            .arg(&p)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("emqx-export-upload-ce.tar.gz: "));
    }
    let mut flipped = bytes.clone();
    flipped[600] ^= 0xff;
    let p = d.path().join("emqx-export-upload-ce.tar.gz");
    std::fs::write(&p, &flipped).unwrap();
    cmd().arg("verify").arg(&p).assert().code(3);
}

#[test]
fn tar_truncated_inside_sound_gzip_names_the_place() {
    let d = tempfile::tempdir().unwrap();
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixture("emqx-export-upload-ce.tar.gz")).unwrap(),
    )
    .read_to_end(&mut tar_bytes)
    .unwrap();
    for cut in [700, 1500, 2100, 3000, 6000, 9000] {
        let p = d.path().join("emqx-export-upload-ce.tar.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(&tar_bytes[..cut]).unwrap();
        gz.finish().unwrap();
        cmd().arg("verify").arg(&p).assert().code(3).stderr(
            predicate::str::contains("corrupt archive").or(predicate::str::contains("truncated")),
        );
    }
}

#[test]
fn limits_stop_bombs() {
    let d = tempfile::tempdir().unwrap();
    let big = vec![0u8; 1 << 20];
    let p = tarball(
        d.path(),
        "q.tar.gz",
        &[
            ("q/META.hocon", tar::EntryType::Regular, META),
            ("q/zeros", tar::EntryType::Regular, &big),
        ],
    );
    cmd()
        .args(["verify", "--max-entry-size", "64K"])
        .arg(&p)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("over the limit"));
    cmd()
        .args(["verify", "--max-total-size", "512K"])
        .arg(&p)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("add up to more than"));
    cmd()
        .args(["verify", "--max-entries", "1"])
        .arg(&p)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("more than 1 entries"));
    cmd().arg("verify").arg(&p).assert().success();
}

#[test]
fn missing_file_is_a_failure_not_an_invalid_archive() {
    cmd()
        .args(["verify", "/nonexistent/emqx-export-x.tar.gz"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "/nonexistent/emqx-export-x.tar.gz",
        ));
    cmd()
        .args(["verify", "--json", "/nonexistent/emqx-export-x.tar.gz"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"ok\":false"));
}

/// The args and subcommands of `cmd` and everything below it that have no help text, each
/// named by its command path.
fn missing_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            out.push(format!("{path} {}", arg.get_id()));
        }
    }
    for sub in cmd.get_subcommands() {
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.get_about().is_none() && sub.get_long_about().is_none() {
            out.push(sub_path.clone());
        }
        missing_help(sub, &sub_path, out);
    }
}

#[test]
fn every_subcommand_and_argument_has_help() {
    use clap::CommandFactory;
    let mut cmd = emqx_backup::cli::Cli::command();
    cmd.build();
    let mut commands = 0;
    let mut walk = vec![&cmd];
    while let Some(c) = walk.pop() {
        commands += 1;
        walk.extend(c.get_subcommands());
    }
    assert!(commands > 12, "the tree holds every subcommand: {commands}");
    let mut missing = Vec::new();
    missing_help(&cmd, "emqx-backup", &mut missing);
    assert!(missing.is_empty(), "without help text: {missing:?}");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    emqx_backup_tests::plugins::build();
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("emqx-backup"));
    let mut child = c
        .args(["inspect", "--records"])
        .arg(fixture("emqx-export-upload-ce.tar.gz"))
        .env_remove("EMQX_BACKUP_PLUGIN_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(status.code(), Some(101), "{stderr}");
}

#[test]
fn a_gzip_bomb_stops_at_the_ratio_limit_unless_lifted() {
    let d = tempfile::tempdir().unwrap();
    let bomb = emqx_backup_tests::hostile::gzip_bomb(d.path(), "emqx-export-bomb", 256 << 20);
    cmd()
        .arg("verify")
        .arg(&bomb)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("emqx-export-bomb/data/zeros"))
        .stderr(predicate::str::contains(
            "more than 200 times the compressed size",
        ));
    cmd()
        .args(["verify", "--max-ratio", "0", "--max-entry-size", "64M"])
        .arg(&bomb)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("over the limit of 67108864"));
}
