//! The release tarball: `cargo xtask dist` builds it, the test unpacks it in a temporary
//! folder and runs it from there as on a machine without Rust: a clean environment, the
//! temporary folder as working directory, the plugins found next to the binary.

use emqx_backup_tests::plugins;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// Runs `cargo xtask dist --out-dir OUT` and returns what it printed.
fn xtask_dist(out: &Path) -> String {
    let output = plugins::cargo()
        .args(["xtask", "dist", "--out-dir"])
        .arg(out)
        .output()
        .expect("run cargo xtask dist");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cargo xtask dist failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The host's target triple.
fn host_target() -> String {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host")
}

/// Unpacks `tarball` into `dir`, checking that entries come sorted with one mtime and owner
/// 0:0; returns the paths of the regular files, relative to the top folder `top`.
fn unpack(tarball: &Path, dir: &Path, top: &str) -> BTreeSet<String> {
    let bytes = std::fs::read(tarball).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut paths = Vec::new();
    let mut mtimes = BTreeSet::new();
    let mut files = BTreeSet::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let header = entry.header();
        mtimes.insert(header.mtime().unwrap());
        assert_eq!(
            (header.uid().unwrap(), header.gid().unwrap()),
            (0, 0),
            "{path}"
        );
        assert!(
            path == top || path.starts_with(&format!("{top}/")),
            "{path} outside the top folder {top}"
        );
        if header.entry_type().is_file() {
            files.insert(path[top.len() + 1..].to_owned());
        } else {
            assert!(
                header.entry_type().is_dir(),
                "{path}: only files and folders"
            );
        }
        paths.push(path.clone());
        entry.set_preserve_permissions(true);
        assert!(entry.unpack_in(dir).unwrap(), "{path} unpacked");
    }
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "entries in path order");
    assert_eq!(mtimes.len(), 1, "one mtime for every entry: {mtimes:?}");
    files
}

/// A command run from `cwd` with nothing of the caller's environment but a system PATH.
fn clean(program: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", cwd);
    cmd
}

fn run_ok(mut cmd: Command) -> String {
    let out: Output = cmd.output().expect("run a program of the tarball");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout + &String::from_utf8_lossy(&out.stderr)
}

/// An `emqx-sim start` of the tarball, killed when dropped.
struct Sim {
    child: Child,
    url: String,
    token: String,
}

impl Sim {
    fn start(top: &Path, cwd: &Path, data_dir: &str) -> Sim {
        let bin = top.join("bin/emqx-sim");
        let help = run_ok({
            let mut c = clean(&bin, cwd);
            c.args(["start", "--help"]);
            c
        });
        let mut cmd = clean(&bin, cwd);
        cmd.args(["start", "--listen", "127.0.0.1:0", "--data-dir", data_dir]);
        if help.contains("--mqtt-bind") {
            cmd.args(["--mqtt-bind", "127.0.0.1:0"]);
        }
        let child = cmd.spawn().expect("start emqx-sim");
        let mut sim = Sim {
            child,
            url: String::new(),
            token: String::new(),
        };
        let node_file = cwd.join(data_dir).join("node.json");
        let started = Instant::now();
        loop {
            if let Ok(node) = std::fs::read(&node_file) {
                let node: Value = serde_json::from_slice(&node).unwrap_or(Value::Null);
                if let Some(url) = node["url"].as_str() {
                    sim.url = url.to_owned();
                    let login: Value = reqwest::blocking::Client::new()
                        .post(format!("{url}/api/v5/login"))
                        .json(&json!({"username": "admin", "password": "public"}))
                        .send()
                        .and_then(|r| r.error_for_status())
                        .and_then(|r| r.json())
                        .expect("log in to emqx-sim");
                    sim.token = login["token"].as_str().unwrap().to_owned();
                    return sim;
                }
            }
            if let Some(status) = sim.child.try_wait().unwrap() {
                panic!("emqx-sim in {data_dir} exited: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "emqx-sim in {data_dir} did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = reqwest::blocking::Client::new()
            .request(method.clone(), format!("{}/api/v5{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().unwrap();
        let status = resp.status();
        let text = resp.text().unwrap();
        assert!(status.is_success(), "{method} {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// The sorted values of `field` in the items of the list at `path`.
    fn list(&self, path: &str, field: &str) -> Vec<String> {
        let v = self.call(reqwest::Method::GET, path, None);
        let items = v.as_array().or_else(|| v["data"].as_array()).unwrap();
        let mut out: Vec<String> = items
            .iter()
            .map(|i| i[field].as_str().unwrap_or_default().to_owned())
            .collect();
        out.sort();
        out
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const USERS: &str = "/authentication/password_based:built_in_database/users";

fn seed(sim: &Sim) {
    sim.post(
        "/authentication",
        json!({"mechanism": "password_based", "backend": "built_in_database",
            "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}),
    );
    for user in ["alice", "bob"] {
        sim.post(USERS, json!({"user_id": user, "password": "pw-1234"}));
    }
    sim.post(
        "/banned",
        json!({"as": "clientid", "who": "mallory", "until": "2099-01-01T00:00:00Z"}),
    );
}

#[test]
fn the_tarball_works_from_any_directory_without_rust() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let first = xtask_dist(&out);
    let top = format!(
        "emqx-backup-{}-{}",
        env!("CARGO_PKG_VERSION"),
        host_target()
    );
    let tarball = out.join(format!("{top}.tar.gz"));
    assert!(first.contains(&format!("{top}.tar.gz")), "{first}");
    let bytes = std::fs::read(&tarball).expect("the tarball has the release name");

    // Idempotent: a second run writes nothing and the bytes stay.
    let second = xtask_dist(&out);
    assert!(
        second.lines().any(|l| l.starts_with("unchanged ")),
        "{second}"
    );
    assert_eq!(std::fs::read(&tarball).unwrap(), bytes);

    let cwd = work.path().join("elsewhere");
    std::fs::create_dir(&cwd).unwrap();
    let files = unpack(&tarball, &cwd, &top);
    let top = cwd.join(&top);
    let plugin_files: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with("lib/emqx-backup/plugins/") && f.ends_with(".so"))
        .collect();
    assert_eq!(plugin_files.len(), 8, "{files:?}");
    for f in [
        "bin/emqx-backup",
        "bin/emqx-sim",
        "README.md",
        "LICENSE",
        "SHA256SUMS",
        "share/man/man1/emqx-backup.1",
        "share/man/man1/emqx-backup-import.1",
        "share/man/man1/emqx-backup-files-list.1",
        "share/man/man1/emqx-sim.1",
        "share/man/man1/emqx-sim-start.1",
        "share/completions/emqx-backup.bash",
        "share/completions/_emqx-backup",
        "share/completions/emqx-backup.fish",
        "share/completions/emqx-sim.bash",
    ] {
        assert!(files.contains(f), "{f} missing from {files:?}");
    }

    // SHA256SUMS names every other file, and sha256sum accepts it.
    let sums = std::fs::read_to_string(top.join("SHA256SUMS")).unwrap();
    let summed: BTreeSet<String> = sums
        .lines()
        .map(|l| l.split_once("  ").expect("<sha256>  <path>").1.to_owned())
        .collect();
    let mut others = files.clone();
    others.remove("SHA256SUMS");
    assert_eq!(summed, others);
    let mut check = clean(Path::new("/usr/bin/sha256sum"), &top);
    check.args(["--check", "--strict", "SHA256SUMS"]);
    let checked = run_ok(check);
    assert_eq!(checked.matches(": OK").count(), others.len(), "{checked}");

    let backup = top.join("bin/emqx-backup");
    let backup_cmd = |args: &[&str]| {
        let mut cmd = clean(&backup, &cwd);
        cmd.args(args.iter().map(OsStr::new));
        run_ok(cmd)
    };

    let listed = backup_cmd(&["plugins"]);
    for domain in [
        "authn",
        "authz",
        "banned",
        "certs",
        "config",
        "dashboard",
        "psk",
        "rules",
    ] {
        assert!(
            listed.contains(&format!("lib{}", plugin_lib(domain))),
            "{domain} not listed:\n{listed}"
        );
    }
    assert!(
        listed.contains(
            &top.join("bin/../lib/emqx-backup/plugins")
                .display()
                .to_string()
        ) || listed.contains(&top.join("lib/emqx-backup/plugins").display().to_string()),
        "plugins found next to the binary:\n{listed}"
    );

    let fixture = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with("emqx-export-upload-ce.tar.gz"))
        .unwrap();
    // A relative path: the archive sits in the working directory, under EMQX's name.
    std::fs::copy(&fixture, cwd.join("emqx-export-upload-ce.tar.gz")).unwrap();
    let inspected = backup_cmd(&["inspect", "emqx-export-upload-ce.tar.gz"]);
    assert!(
        inspected.contains("edition ce, version 5.3.1")
            && inspected.contains("7 tables, 9 records")
            && inspected.contains("domain    psk: mnesia/emqx_psk"),
        "{inspected}"
    );

    // A round trip between two nodes of the tarball's emqx-sim.
    let a = Sim::start(&top, &cwd, "node-a");
    seed(&a);
    let exported = backup_cmd(&[
        "--node",
        &a.url,
        "--username",
        "admin",
        "--password",
        "public",
        "export",
        "-o",
        "backups",
    ]);
    let archives: Vec<PathBuf> = std::fs::read_dir(cwd.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(archives.len(), 1, "{exported}");
    let archive = archives[0].display().to_string();
    assert!(exported.contains("manifest"), "{exported}");

    let b = Sim::start(&top, &cwd, "node-b");
    assert!(b.list("/banned", "who").is_empty());
    let imported = backup_cmd(&[
        "--node",
        &b.url,
        "--username",
        "admin",
        "--password",
        "public",
        "import",
        &archive,
        "--yes",
    ]);
    assert!(imported.contains("verified"), "{imported}");
    assert_eq!(b.list(USERS, "user_id"), ["alice", "bob"]);
    assert_eq!(b.list(USERS, "user_id"), a.list(USERS, "user_id"));
    assert_eq!(b.list("/banned", "who"), ["mallory"]);
}

/// The library file stem of a domain plugin (`emqx_backup_plugin_authn`).
fn plugin_lib(domain: &str) -> String {
    plugins::plugin_packages()
        .into_iter()
        .find(|p| p.ends_with(&format!("-{domain}")))
        .unwrap_or_else(|| panic!("no plugin package for {domain}"))
        .replace('-', "_")
}
