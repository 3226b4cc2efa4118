//! A running `emqx-sim` node of the release build, driven through EMQX's REST API.

use anyhow::{ensure, Context};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `emqx-sim` node, stopped with SIGTERM when dropped.
pub struct SimNode {
    child: Child,
    /// The node's dashboard listener, `http://127.0.0.1:<port>`.
    pub url: String,
    token: String,
}

impl SimNode {
    /// Starts a core in `data_dir` on a free port and logs in as admin/public.
    pub fn start(data_dir: &Path) -> anyhow::Result<SimNode> {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(crate::release_bin("emqx-sim"));
        cmd.args(["start", "--listen", &listen, "--data-dir"])
            .arg(data_dir);
        if has_mqtt_listener()? {
            // Two nodes on one machine: each gets its own MQTT port.
            cmd.args(["--mqtt-bind", "127.0.0.1:0"]);
        }
        let child = cmd.spawn().context("starting emqx-sim")?;
        let mut node = SimNode {
            child,
            url: format!("http://{listen}"),
            token: String::new(),
        };
        let started = Instant::now();
        loop {
            if let Ok(token) = node.login("admin", "public") {
                node.token = token;
                return Ok(node);
            }
            ensure!(
                started.elapsed() < Duration::from_secs(20),
                "emqx-sim did not come up on {listen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Logs in to the dashboard as `user` and returns the bearer token.
    pub fn login(&self, user: &str, password: &str) -> anyhow::Result<String> {
        let resp = Client::new()
            .post(format!("{}/api/v5/login", self.url))
            .json(&json!({"username": user, "password": password}))
            .send()?;
        ensure!(
            resp.status().is_success(),
            "login as {user}: {}",
            resp.status()
        );
        Ok(resp.json::<Value>()?["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = Client::new()
            .request(method.clone(), format!("{}/api/v5{path}", self.url))
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

    /// `POST /api/v5<path>`.
    pub fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// `PUT /api/v5<path>`.
    pub fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::PUT, path, Some(body))
    }

    /// `GET /api/v5<path>`.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None)
    }

    /// The values of `field` in the items of the list at `path` (an array or its `data`).
    pub fn list(&self, path: &str, field: &str) -> anyhow::Result<Vec<String>> {
        let v = self.get(path)?;
        let items = v.as_array().or_else(|| v["data"].as_array());
        Ok(items
            .into_iter()
            .flatten()
            .filter_map(|i| i[field].as_str().map(str::to_owned))
            .collect())
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

/// Whether this `emqx-sim` serves MQTT too (`start --mqtt-bind`).
fn has_mqtt_listener() -> anyhow::Result<bool> {
    let out = Command::new(crate::release_bin("emqx-sim"))
        .args(["start", "--help"])
        .stderr(Stdio::null())
        .output()
        .context("running emqx-sim start --help")?;
    Ok(String::from_utf8_lossy(&out.stdout).contains("--mqtt-bind"))
}
