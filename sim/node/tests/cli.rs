//! The `emqx-sim` binary: start, ctl data export/import (spec §6.3), a replicant, SIGTERM.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_emqx-sim");

fn fixture(name: &str) -> PathBuf {
    emqx_backup_tests::plugins::workspace()
        .join("tests/fixtures/emqx-archives")
        .join(name)
}

/// A running `emqx-sim start`, killed if the test fails before stopping it.
struct Running {
    child: Option<Child>,
    data_dir: PathBuf,
    url: String,
}

impl Running {
    fn start(data_dir: &Path, extra: &[&str]) -> Running {
        let plugins = emqx_backup_tests::plugins::build();
        let _ = std::fs::remove_file(data_dir.join("node.json"));
        let child = Command::new(BIN)
            .arg("start")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--plugin-dir")
            .arg(&plugins)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("emqx-sim starts");
        let mut running = Running {
            child: Some(child),
            data_dir: data_dir.to_owned(),
            url: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = std::fs::read(data_dir.join("node.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            {
                running.url = v["url"].as_str().unwrap().to_owned();
                assert_eq!(v["pid"], running.child.as_ref().unwrap().id());
                return running;
            }
            if let Some(status) = running.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("emqx-sim start exited early: {status}");
            }
            assert!(Instant::now() < deadline, "no node.json after 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("ctl")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .output()
            .unwrap()
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn start_ctl_replicant_and_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let core = Running::start(&tmp.path().join("core"), &[]);
    let client = reqwest::blocking::Client::new();
    let status = client.get(format!("{}/status", core.url)).send().unwrap();
    assert_eq!(status.status(), 200);
    let login = client
        .post(format!("{}/api/v5/login", core.url))
        .json(&json!({"username": "admin", "password": "public"}))
        .send()
        .unwrap();
    assert_eq!(login.status(), 200);

    // ctl data export prints EMQX's lines and writes the archive.
    let out = core.ctl(&["data", "export", "--table-sets", "banned,psk"]);
    let lines = stdout_lines(&out);
    assert!(out.status.success(), "{lines:?}");
    assert!(lines[0].starts_with("Exporting data to \""), "{lines:?}");
    assert!(lines.contains(&"Exporting cluster configuration...".to_owned()));
    assert!(lines.contains(&"Exporting built-in database...".to_owned()));
    let last = lines.last().unwrap();
    let path = last
        .strip_prefix("Data has been successfully exported to ")
        .and_then(|p| p.strip_suffix('.'))
        .unwrap_or_else(|| panic!("{last}"));
    assert!(Path::new(path).is_file(), "{path}");

    let out_dir = tmp.path().join("out");
    let out = core.ctl(&["data", "export", "--dir", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", stdout_lines(&out));
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);

    let out = core.ctl(&["data", "export", "--root-keys", "nope"]);
    assert!(!out.status.success());
    assert_eq!(stdout_lines(&out), ["Invalid root keys: nope"]);

    // ctl data import of a real EMQX archive by path.
    let fixture = fixture("emqx-export-upload-ce.tar.gz");
    let out = core.ctl(&["data", "import", fixture.to_str().unwrap()]);
    let lines = stdout_lines(&out);
    assert!(out.status.success(), "{lines:?}");
    assert_eq!(
        lines[0],
        format!("Importing data from \"{}\"...", fixture.display())
    );
    assert_eq!(
        lines.last().unwrap(),
        "Data has been imported successfully."
    );
    let out = core.ctl(&["data", "import", "emqx-export-none.tar.gz"]);
    assert!(!out.status.success());
    assert_eq!(
        stdout_lines(&out).last().unwrap(),
        "[error] Data import failed, reason: \"backup file not found\"."
    );

    // A replicant refuses ctl imports with EMQX's not_core_node message.
    let rep = Running::start(
        &tmp.path().join("rep"),
        &["--name", "r1@127.0.0.1", "--join", &core.url],
    );
    let out = rep.ctl(&["data", "import", fixture.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(
        stdout_lines(&out),
        ["[error] Data import failed, reason: \"backup data import is only allowed on core EMQX nodes, but requested node 'r1@127.0.0.1' is not core\"."]
    );

    // SIGTERM stops both cleanly.
    let rep_dir = rep.data_dir.clone();
    assert!(rep.terminate().success());
    assert!(!rep_dir.join("node.json").exists());
    let core_dir = core.data_dir.clone();
    assert!(core.terminate().success());
    assert!(!core_dir.join("node.json").exists());
    assert!(!core_dir.join(".ctl-token").exists());
}

#[test]
fn bad_command_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["start", "--role", "replicant", "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role replicant needs --join"));
    let out = Command::new(BIN)
        .args(["ctl", "data", "frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["ctl", "--data-dir"])
        .arg(tmp.path())
        .args(["data", "export"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node is running"));
}
