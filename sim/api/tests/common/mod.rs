//! Real nodes on 127.0.0.1 (port 0) in temporary data dirs, with the workspace's plugins.

#![allow(dead_code)]

pub mod synth;

use emqx_archive::Edition;
use emqx_sim_api::{ServeConfig, ServeError, Server};
use emqx_sim_store::{Node, NodeInfo, Role};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fixture archive written by real EMQX.
pub fn fixture(name: &str) -> PathBuf {
    emqx_backup_tests::plugins::workspace()
        .join("tests/fixtures/emqx-archives")
        .join(name)
}

/// How to start a node.
pub struct Opts {
    pub name: String,
    pub edition: Edition,
    pub core_url: Option<String>,
    pub api_keys: Option<String>,
}

impl Opts {
    pub fn core() -> Opts {
        Opts {
            name: "emqx@127.0.0.1".into(),
            edition: Edition::Ce,
            core_url: None,
            api_keys: None,
        }
    }

    pub fn replicant(name: &str, core: &Sim) -> Opts {
        Opts {
            name: name.into(),
            core_url: Some(core.url.clone()),
            ..Opts::core()
        }
    }
}

/// A running node.
pub struct Sim {
    pub url: String,
    pub name: String,
    pub node: Arc<Node>,
    pub data_dir: PathBuf,
    pub client: Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
    _dir: tempfile::TempDir,
}

impl Sim {
    pub async fn start(opts: Opts) -> Sim {
        let plugins = tokio::task::spawn_blocking(emqx_backup_tests::plugins::build)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let info = NodeInfo {
            name: opts.name.clone(),
            role: if opts.core_url.is_some() {
                Role::Replicant
            } else {
                Role::Core
            },
            edition: opts.edition,
            version: "5.8.6".into(),
            data_dir: data_dir.clone(),
        };
        let node = tokio::task::spawn_blocking(move || Node::open(info, Some(&plugins)))
            .await
            .unwrap()
            .expect("node opens");
        let node = Arc::new(node);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut config = ServeConfig::new(&url);
        config.cluster.core_url = opts.core_url.clone();
        if let Some(keys) = &opts.api_keys {
            let f = dir.path().join("api-keys.txt");
            std::fs::write(&f, keys).unwrap();
            config.api_key_file = Some(f);
        }
        let server = Server::start(node.clone(), config, listener)
            .await
            .expect("server starts");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Sim {
            url,
            name: opts.name,
            node,
            data_dir,
            client: Client::new(),
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops the server gracefully and checks it ended without error.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(self.url(path))
    }

    /// A bearer token of `admin` / `public`.
    pub async fn token(&self) -> String {
        let r = self
            .post("/api/v5/login")
            .json(&json!({"username": "admin", "password": "public"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login");
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    /// Uploads archive bytes under `name` (multipart field `filename`).
    pub async fn upload(&self, auth: &Auth, name: &str, bytes: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        let form = reqwest::multipart::Form::new().part("filename", part);
        auth.apply(self.post("/api/v5/data/files"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The file names in this node's backup dir.
    pub fn backup_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data_dir.join("backup"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".tar.gz"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Records in one of the node's tables.
    pub fn count(&self, table: &str) -> u64 {
        self.node.store.read(|tx| tx.count(table)).unwrap()
    }
}

/// Credentials of a request.
pub enum Auth {
    Bearer(String),
    Basic(String, String),
}

impl Auth {
    pub fn apply(&self, rb: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::Basic(k, s) => rb.basic_auth(k, Some(s)),
        }
    }
}

/// Status and JSON body of a response (`null` when the body is not JSON).
pub async fn answer(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts an EMQX error answer.
pub async fn assert_error(r: Response, status: u16, code: &str, message: &str) {
    let (s, v) = answer(r).await;
    assert_eq!(
        (s, v["code"].as_str(), v["message"].as_str()),
        (status, Some(code), Some(message)),
        "{v}"
    );
}
