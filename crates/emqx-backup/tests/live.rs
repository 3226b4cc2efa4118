//! `emqx-backup` against live `emqx-sim` nodes started by the tests: export, plan, import
//! with verification, files, and every refusal with its exit code and message.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `emqx-sim start`, killed on drop.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    fn start(data_dir: &Path, extra: &[&str]) -> Node {
        let bin = emqx_backup_tests::plugins::build();
        let mut child = Command::new(bin.join("emqx-sim"))
            .arg("start")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--plugin-dir")
            .arg(&bin)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("emqx-sim starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = std::fs::read(data_dir.join("node.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            {
                return Node {
                    url: v["url"].as_str().unwrap().to_owned(),
                    child,
                };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("emqx-sim start exited early: {status}");
            }
            assert!(Instant::now() < deadline, "no node.json after 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A REST call as admin; the JSON answer (Null when empty).
    fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let http = reqwest::blocking::Client::new();
        let token = http
            .post(format!("{}/api/v5/login", self.url))
            .json(&json!({"username": "admin", "password": "public"}))
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = http
            .request(method, format!("{}/api/v5{path}", self.url))
            .bearer_auth(token);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn seed_user(&self, user: &str, password: &str) {
        let (s, _) = self.call(
            "POST",
            "/authentication/password_based:built_in_database/users",
            json!({"user_id": user, "password": password}),
        );
        assert_eq!(s, 201, "creating user {user}");
    }

    fn seed_authn(&self) {
        let (s, b) = self.call(
            "POST",
            "/authentication",
            json!({"mechanism": "password_based", "backend": "built_in_database",
                   "user_id_type": "username",
                   "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}),
        );
        assert_eq!(s, 200, "{b}");
    }

    fn ban(&self, who: &str) {
        let (s, b) = self.call(
            "POST",
            "/banned",
            json!({"as": "clientid", "who": who, "reason": "test"}),
        );
        assert_eq!(s, 200, "{b}");
    }

    fn banned(&self) -> Vec<String> {
        let (_, b) = self.call("GET", "/banned", Value::Null);
        let mut who: Vec<String> = b["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["who"].as_str().unwrap().to_owned())
            .collect();
        who.sort();
        who
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `emqx-backup` with the node and admin credentials, no inherited EMQX_BACKUP_*.
fn backup(node: &str, args: &[&str]) -> Output {
    backup_with(node, &["--username", "admin", "--password", "public"], args)
}

fn backup_with(node: &str, creds: &[&str], args: &[&str]) -> Output {
    let mut cmd = Command::new(emqx_backup_tests::plugins::binary());
    for (k, _) in std::env::vars() {
        if k.starts_with("EMQX_BACKUP_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--plugin-dir")
        .arg(emqx_backup_tests::plugins::build())
        .args(["--node", node])
        .args(creds)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

/// Every change of a plan document, `(domain, scope, "insert"|"update", key)`.
fn changes(plan: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for d in plan.as_array().unwrap() {
        for s in d["scopes"].as_array().unwrap() {
            for kind in ["insert", "update"] {
                for k in s[kind].as_array().unwrap() {
                    out.push((
                        d["domain"].as_str().unwrap().to_owned(),
                        s["name"].as_str().unwrap().to_owned(),
                        kind.to_owned(),
                        k.as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

fn only_archive(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn export_plan_import_verify_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Node::start(&tmp.path().join("a"), &[]);
    let b = Node::start(&tmp.path().join("b"), &[]);
    a.seed_authn();
    a.seed_user("u1", "p1");
    a.seed_user("u2", "p2");
    a.ban("c1");
    b.seed_authn();
    b.seed_user("u1", "other");
    b.seed_user("u3", "p3");
    b.ban("c2");

    // Export: downloaded, verified, saved under the EMQX name, per domain.
    let out_dir = tmp.path().join("out");
    let out = backup(
        &a.url,
        &[
            "export",
            "--table-sets",
            "banned,builtin_authn",
            "--root-keys",
            "authentication",
            "-o",
            out_dir.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let doc = json_of(&out);
    let file = only_archive(&out_dir);
    assert_eq!(doc["file"], json!(file));
    assert!(emqx_archive::is_export_name(
        doc["filename"].as_str().unwrap()
    ));
    assert_eq!(doc["domains"]["banned"]["tables"]["emqx_banned"], 1);
    assert_eq!(doc["domains"]["authn"]["tables"]["emqx_authn_mnesia"], 2);
    assert_eq!(doc["domains"]["authn"]["roots"], json!(["authentication"]));
    assert!(doc["domains"].get("dashboard").is_none());
    let verify = backup(&a.url, &["verify", file.to_str().unwrap()]);
    assert_eq!(code(&verify), 0, "{}", text(&verify));
    assert!(text(&verify).contains("manifest verified"));
    // Text output names each domain.
    let out = backup(
        &a.url,
        &[
            "export",
            "--domains",
            "banned",
            "-o",
            tmp.path().join("out2").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("banned: emqx_banned 1 records"), "{t}");
    assert!(!t.contains("authn:"), "{t}");

    // Plan against B: exactly the inserts and updates, by key; nothing deleted.
    let f = file.to_str().unwrap();
    let out = backup(&b.url, &["plan", f, "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let plan = json_of(&out);
    let got = changes(&plan["plan"]);
    let keys: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(d, _, k, key)| (d.as_str(), k.as_str(), key.as_str()))
        .collect();
    assert!(
        keys.contains(&("banned", "insert", "clientid:c1")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|(d, k, key)| *d == "authn" && *k == "insert" && key.ends_with("u2")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|(d, k, key)| *d == "authn" && *k == "update" && key.ends_with("u1")),
        "{keys:?}"
    );
    assert_eq!(plan["totals"]["update"], 1, "{keys:?}");
    assert_eq!(plan["totals"]["insert"], 2, "{keys:?}");
    // The plan changed nothing on B.
    assert_eq!(b.banned(), ["c2"]);
    // Text plan lists the keys.
    let out = backup(&b.url, &["plan", f]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("+ clientid:c1"), "{t}");
    assert!(t.contains("nothing is deleted"), "{t}");

    // Without --yes and no terminal: refused as a usage error.
    let out = backup(&b.url, &["import", f]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    // Dry run: nothing imported.
    let out = backup(&b.url, &["import", f, "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains("dry run: nothing imported"));
    assert_eq!(b.banned(), ["c2"]);

    // Import, verified.
    let out = backup(&b.url, &["import", f, "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["uploaded"], true);
    assert_eq!(b.banned(), ["c1", "c2"]);
    let (_, users) = b.call(
        "GET",
        "/authentication/password_based:built_in_database/users",
        Value::Null,
    );
    let mut ids: Vec<&str> = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["u1", "u2", "u3"]);

    // A second import plans nothing and passes.
    let out = backup(&b.url, &["plan", f, "--json"]);
    let plan = json_of(&out);
    assert_eq!(changes(&plan["plan"]), vec![]);
    assert_eq!(
        plan["totals"],
        json!({"insert": 0, "update": 0, "unchanged": 4})
    );
    let out = backup(&b.url, &["import", f, "--yes"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains("not uploading"), "{}", text(&out));
    assert!(text(&out).contains("verified, 0 inserted and 0 updated"));

    // Files: the imported file is on B; download, delete, upload.
    let name = file.file_name().unwrap().to_str().unwrap();
    let out = backup(&b.url, &["files", "list", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let list = json_of(&out);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, [name], "the plan's temporary exports are deleted");
    let out = backup(&b.url, &["files", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("FILENAME"));
    let dl = tmp.path().join("dl");
    let out = backup(
        &b.url,
        &[
            "files",
            "download",
            name,
            "-o",
            dl.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(json_of(&out)["node"], "emqx@127.0.0.1");
    assert_eq!(
        std::fs::read(dl.join(name)).unwrap(),
        std::fs::read(&file).unwrap()
    );
    // Downloading again does not replace the file.
    let out = backup(
        &b.url,
        &["files", "download", name, "-o", dl.to_str().unwrap()],
    );
    assert_eq!(code(&out), 1, "{}", text(&out));
    let out = backup(&b.url, &["files", "delete", name, "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(json_of(&out)["ok"], true);
    let out = backup(&b.url, &["files", "delete", name]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(
        text(&out).contains("backup file not found"),
        "{}",
        text(&out)
    );
    let out = backup(
        &b.url,
        &["files", "download", name, "--from-node", "emqx@127.0.0.1"],
    );
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(text(&out).contains("404"), "{}", text(&out));
    let out = backup(&b.url, &["files", "upload", f, "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    // EMQX refuses a second upload of the same name.
    let out = backup(&b.url, &["files", "upload", f]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    let out = backup(&b.url, &["files", "list", "--json"]);
    assert_eq!(json_of(&out).as_array().unwrap().len(), 1);
}

#[test]
fn refusals_and_connection_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    std::fs::write(&keys, "key1:secret1\n").unwrap();
    let core = Node::start(
        &tmp.path().join("core"),
        &["--api-key-file", keys.to_str().unwrap()],
    );
    let fixtures = emqx_backup_tests::plugins::workspace().join("tests/fixtures/emqx-archives");
    let ee = fixtures.join("emqx-export-upload-ee.tar.gz");
    let ce = fixtures.join("emqx-export-upload-ce.tar.gz");

    // ee into ce: EMQX's message, refused (4).
    let out = backup(&core.url, &["plan", ee.to_str().unwrap()]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(text(&out).contains("importing EMQX Enterprise data backup to EMQX is not allowed"));
    let out = backup(
        &core.url,
        &["import", ee.to_str().unwrap(), "--yes", "--json"],
    );
    assert_eq!(code(&out), 4, "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exit_code"], 4);

    // A newer version: EMQX's 5.x message.
    let newer = Node::start(&tmp.path().join("old"), &["--version", "5.1.0"]);
    let out = backup(&newer.url, &["plan", ce.to_str().unwrap()]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(
        text(&out).contains("Backup version \"5.3.1\" is newer than EMQX version \"5.1.0\""),
        "{}",
        text(&out)
    );
    drop(newer);

    // A renamed archive: EMQX's name rule, invalid archive (3).
    let renamed = tmp.path().join("x.tgz");
    std::fs::copy(&ce, &renamed).unwrap();
    let out = backup(&core.url, &["plan", renamed.to_str().unwrap()]);
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(text(&out).contains("file name must have .tar.gz extension"));

    // A replicant as target: EMQX routes the import to a core, and so does the plan.
    let replicant = Node::start(
        &tmp.path().join("replicant"),
        &["--name", "emqx@replicant", "--join", &core.url],
    );
    let out = backup(&replicant.url, &["plan", ce.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        text(&out).contains("emqx@replicant (runs on core "),
        "{}",
        text(&out)
    );
    let out = backup(
        &replicant.url,
        &["import", ce.to_str().unwrap(), "--yes", "--json"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(doc["node"], "emqx@replicant");
    assert_eq!(doc["verified"], true);
    assert_ne!(doc["runs_on"], "emqx@replicant");
    assert!(
        !core.banned().is_empty(),
        "the import through the replicant landed on the core"
    );
    // Leave no file behind: the upload on the replicant and the core's copy.
    let name = doc["filename"].as_str().unwrap();
    for node in ["emqx@replicant", doc["runs_on"].as_str().unwrap()] {
        let out = backup(&core.url, &["files", "delete", name, "--from-node", node]);
        assert_eq!(code(&out), 0, "{}", text(&out));
    }
    drop(replicant);

    // Bad credentials: 401, auth exit code.
    let out = backup_with(
        &core.url,
        &["--username", "admin", "--password", "wrong"],
        &["files", "list"],
    );
    assert_eq!(code(&out), 6, "{}", text(&out));
    assert!(
        text(&out).contains("401 BAD_USERNAME_OR_PWD: Auth failed"),
        "{}",
        text(&out)
    );
    let out = backup_with(
        &core.url,
        &["--api-key", "key1", "--api-secret", "nope"],
        &["files", "list", "--json"],
    );
    assert_eq!(code(&out), 6, "{}", text(&out));
    assert_eq!(json_of(&out)["exit_code"], 6);

    // No credentials at all, or half of them: usage.
    let out = backup_with(&core.url, &[], &["files", "list"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    let out = backup_with(&core.url, &["--api-key", "key1"], &["files", "list"]);
    assert_eq!(code(&out), 2, "{}", text(&out));

    // Connection refused: connection exit code, naming the URL.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}");
    let out = backup(&url, &["files", "list"]);
    assert_eq!(code(&out), 5, "{}", text(&out));
    assert!(text(&out).contains(&url), "{}", text(&out));
    assert!(
        text(&out).contains("cannot reach the node"),
        "{}",
        text(&out)
    );

    // A node without the data API (404 on /data/*).
    let fake = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_url = format!("http://{}", fake.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in fake.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 45\r\nconnection: close\r\n\r\n{\"code\":\"NOT_FOUND\",\"message\":\"Not Found.\"}  ",
            );
        }
    });
    let out = backup_with(
        &fake_url,
        &["--api-key", "k", "--api-secret", "s"],
        &["files", "list"],
    );
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(
        text(&out).contains("has no data backup API"),
        "{}",
        text(&out)
    );

    // API key importing dashboard users: EMQX's 403, explained; auth exit code.
    let out = backup_with(
        &core.url,
        &["--api-key", "key1", "--api-secret", "secret1"],
        &["import", ce.to_str().unwrap(), "--yes"],
    );
    assert_eq!(code(&out), 6, "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(
            "API key import refused: backup contains restricted tables: dashboard_users, api_keys"
        ),
        "{t}"
    );
    assert!(t.contains("--username/--password"), "{t}");
    // The refused upload is removed again.
    let out = backup(&core.url, &["files", "list", "--json"]);
    assert_eq!(json_of(&out), json!([]));

    // Settings from a TOML config file, a JSON config file and the environment.
    let toml = tmp.path().join("c.toml");
    std::fs::write(
        &toml,
        format!(
            "node = \"{}\"\napi_key = \"key1\"\napi_secret = \"secret1\"\ntimeout = 30\n",
            core.url
        ),
    )
    .unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(emqx_backup_tests::plugins::binary());
        for (k, _) in std::env::vars() {
            if k.starts_with("EMQX_BACKUP_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied()).args(args).output().unwrap()
    };
    let out = run(
        &[
            "--config",
            toml.to_str().unwrap(),
            "files",
            "list",
            "--json",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let jsonf = tmp.path().join("c.json");
    std::fs::write(
        &jsonf,
        json!({"node": core.url, "username": "admin", "password": "public"}).to_string(),
    )
    .unwrap();
    let out = run(
        &["files", "list", "--json"],
        &[("EMQX_BACKUP_CONFIG", jsonf.to_str().unwrap())],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = run(
        &["files", "list", "--json"],
        &[
            ("EMQX_BACKUP_NODE", core.url.as_str()),
            ("EMQX_BACKUP_API_KEY", "key1"),
            ("EMQX_BACKUP_API_SECRET", "secret1"),
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    // Flags win over the config file.
    let out = run(
        &[
            "--config",
            toml.to_str().unwrap(),
            "--node",
            &url,
            "files",
            "list",
        ],
        &[],
    );
    assert_eq!(code(&out), 5, "{}", text(&out));
    // A bad config file is a usage error.
    std::fs::write(&toml, "nod = 1\n").unwrap();
    let out = run(&["--config", toml.to_str().unwrap(), "files", "list"], &[]);
    assert_eq!(code(&out), 2, "{}", text(&out));
}
