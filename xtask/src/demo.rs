//! `cargo xtask demo`: the whole job on simulated EMQX nodes. Starts node A, seeds it through
//! EMQX's REST API, exports it with `emqx ctl data export`, inspects and verifies the archive,
//! starts node B holding other data, shows the plan of importing A's archive into B, imports it,
//! and checks through B's REST API that A's data arrived and B's own data stayed.

use anyhow::{anyhow, ensure, Context};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `emqx-sim` node, stopped with SIGTERM when dropped.
struct SimNode {
    child: Child,
    data_dir: PathBuf,
    url: String,
    token: String,
}

impl SimNode {
    fn start(data_dir: &Path) -> anyhow::Result<SimNode> {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(crate::release_bin("emqx-sim"))
            .args(["start", "--listen", &listen, "--data-dir"])
            .arg(data_dir)
            .spawn()
            .context("starting emqx-sim")?;
        let mut node = SimNode {
            child,
            data_dir: data_dir.to_owned(),
            url: format!("http://{listen}/api/v5"),
            token: String::new(),
        };
        let started = Instant::now();
        loop {
            let login = Client::new()
                .post(format!("{}/login", node.url))
                .json(&json!({"username": "admin", "password": "public"}))
                .send();
            if let Ok(r) = login {
                if r.status().is_success() {
                    node.token = r.json::<Value>()?["token"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    return Ok(node);
                }
            }
            ensure!(
                started.elapsed() < Duration::from_secs(20),
                "emqx-sim did not come up on {listen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = Client::new()
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send()?;
        let status = resp.status();
        let text = resp.text()?;
        ensure!(status.is_success(), "{method} {path}: {status}: {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None)
    }

    fn ctl(&self, args: &[&str]) -> anyhow::Result<String> {
        let text = self.ctl_quiet(args)?;
        print!("{text}");
        Ok(text)
    }

    fn ctl_quiet(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(crate::release_bin("emqx-sim"))
            .arg("ctl")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        ensure!(
            out.status.success(),
            "emqx-sim ctl {} failed:\n{text}",
            args.join(" ")
        );
        Ok(text)
    }
}

impl Drop for SimNode {
    fn drop(&mut self) {
        // SAFETY: kill only signals our own child process.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn title(text: &str) {
    println!("\n==> {text}");
}

fn backup(args: &[&std::ffi::OsStr]) -> anyhow::Result<String> {
    let out = Command::new(crate::release_bin("emqx-backup"))
        .args(args)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    ensure!(out.status.success(), "emqx-backup failed");
    Ok(text)
}

const AUTHN: &str = "/authentication/password_based:built_in_database";

/// Data in every domain the REST API seeds.
fn seed_a(a: &SimNode) -> anyhow::Result<()> {
    a.post("/authentication", json!({"mechanism": "password_based", "backend": "built_in_database",
        "user_id_type": "username", "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}))?;
    for (user, pass) in [("alice", "alice-pass"), ("bob", "bob-pass")] {
        a.post(
            &format!("{AUTHN}/users"),
            json!({"user_id": user, "password": pass}),
        )?;
    }
    a.post(
        "/authentication",
        json!({"mechanism": "scram", "backend": "built_in_database",
        "algorithm": "sha256", "iteration_count": 4096}),
    )?;
    a.post(
        "/authentication/scram:built_in_database/users",
        json!({"user_id": "scram-user", "password": "s3cret"}),
    )?;
    a.post(
        "/authorization/sources",
        json!({"type": "built_in_database", "enable": true}),
    )?;
    a.post(
        "/authorization/sources/built_in_database/rules/users",
        json!([{"username": "alice", "rules": [
        {"topic": "alice/#", "permission": "allow", "action": "all"},
        {"topic": "secret/#", "permission": "deny", "action": "subscribe"}]}]),
    )?;
    a.post("/banned", json!({"as": "clientid", "who": "mallory", "reason": "demo", "until": "2099-01-01T00:00:00Z"}))?;
    a.post(
        "/users",
        json!({"username": "operator", "password": "operator-pass1", "description": "demo"}),
    )?;
    a.post(
        "/api_key",
        json!({"name": "ci", "desc": "demo key", "enable": true}),
    )?;
    a.post(
        "/connectors",
        json!({"type": "http", "name": "hook", "url": "http://127.0.0.1:8080", "enable": true}),
    )?;
    a.post("/actions", json!({"type": "http", "name": "hook", "connector": "hook", "parameters": {"method": "post", "path": "/"}}))?;
    a.post(
        "/rules",
        json!({"id": "demo_rule", "sql": "SELECT * FROM \"alice/#\"", "actions": ["http:hook"]}),
    )?;
    Ok(())
}

/// Builds everything, runs the whole job on two simulated nodes, and prints the checks.
pub fn run() -> anyhow::Result<()> {
    crate::build_release_with_plugins()?;
    let started = Instant::now();
    let root = crate::root().join("target/demo");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;

    title("start node A (emqx-sim, a fresh EMQX 5.8.6 core) and seed every domain through the REST API");
    let a = SimNode::start(&root.join("a"))?;
    seed_a(&a)?;
    println!("seeded users alice, bob and scram-user, ACL rules for alice, a ban of mallory, a dashboard account, an API key, a connector, an action and a rule");

    title("emqx ctl data export on node A");
    let out = a.ctl(&["data", "export"])?;
    let archive = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("Data has been successfully exported to ")?
                .strip_suffix('.')
        })
        .map(|p| {
            if Path::new(p).is_absolute() {
                PathBuf::from(p)
            } else {
                std::env::current_dir().unwrap_or_default().join(p)
            }
        })
        .ok_or_else(|| anyhow!("no archive path in the export output"))?;

    title("emqx-backup inspect");
    backup(&["inspect".as_ref(), archive.as_os_str()])?;
    title("emqx-backup verify");
    backup(&["verify".as_ref(), archive.as_os_str()])?;

    title(
        "start node B, which already holds other data: user carol, and alice with another password",
    );
    let b = SimNode::start(&root.join("b"))?;
    b.post("/authentication", json!({"mechanism": "password_based", "backend": "built_in_database",
        "user_id_type": "username", "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}))?;
    b.post(
        &format!("{AUTHN}/users"),
        json!({"user_id": "carol", "password": "carol-pass"}),
    )?;
    b.post(
        &format!("{AUTHN}/users"),
        json!({"user_id": "alice", "password": "old-pass"}),
    )?;
    let out = b.ctl(&["data", "export"])?;
    let b_archive = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("Data has been successfully exported to ")?
                .strip_suffix('.')
        })
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("no archive path in node B's export output"))?;

    title("the plan of importing A's archive into B (emqx-backup merge --dry-run)");
    backup(&[
        "merge".as_ref(),
        "--dry-run".as_ref(),
        b_archive.as_os_str(),
        archive.as_os_str(),
    ])?;

    title("emqx ctl data import on node B");
    b.ctl(&["data", "import", "--report", &archive.display().to_string()])?;

    title("checks through node B's REST API");
    let users: Vec<String> = b.get(&format!("{AUTHN}/users"))?["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["user_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut checks: Vec<(String, bool)> = Vec::new();
    for u in ["alice", "bob", "carol"] {
        checks.push((format!("user {u} is on B"), users.iter().any(|x| x == u)));
    }
    let rules = b.get("/authorization/sources/built_in_database/rules/users/alice")?;
    checks.push((
        "alice's 2 ACL rules arrived".into(),
        rules["rules"].as_array().is_some_and(|r| r.len() == 2),
    ));
    let banned = b.get("/banned")?;
    checks.push((
        "mallory is banned".into(),
        banned.to_string().contains("mallory"),
    ));
    checks.push((
        "rule demo_rule arrived".into(),
        b.get("/rules/demo_rule").is_ok(),
    ));
    checks.push(("API key ci arrived".into(), b.get("/api_key/ci").is_ok()));
    let second = b.ctl_quiet(&["data", "import", "--report", &archive.display().to_string()])?;
    checks.push((
        "a second import changes nothing".into(),
        !second.contains("    + ") && !second.contains("    ~ "),
    ));
    println!();
    for (what, ok) in &checks {
        println!("  [{}] {what}", if *ok { "ok" } else { "FAILED" });
    }
    ensure!(checks.iter().all(|(_, ok)| *ok), "some checks failed");
    println!(
        "\ndemo finished in {:.1} s after the build; node data in {}",
        started.elapsed().as_secs_f64(),
        root.display()
    );
    Ok(())
}
