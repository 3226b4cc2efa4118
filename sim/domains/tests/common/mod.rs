//! A node in a temp dir with the domain router mounted under `/api/v5`, and requests to it.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use emqx_archive::Edition;
use emqx_backup_tests::plugins;
use emqx_sim_store::{Caller, Node, NodeInfo, Role};
use erlang_term::Term;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// A node and its router.
pub struct Sim {
    pub dir: tempfile::TempDir,
    pub node: Arc<Node>,
    pub app: Router,
}

/// A node of `version` and `edition` in a fresh temp dir.
pub fn sim(version: &str, edition: Edition) -> Sim {
    let dir = tempfile::tempdir().expect("temp dir");
    let info = NodeInfo {
        name: "emqx@127.0.0.1".into(),
        role: Role::Core,
        edition,
        version: version.into(),
        data_dir: dir.path().join("data"),
    };
    let node = Arc::new(Node::open(info, Some(&plugins::build())).expect("node opens"));
    let app = Router::new()
        .nest("/api/v5", emqx_sim_domains::router())
        .with_state(node.clone());
    Sim { dir, node, app }
}

/// An EE 5.8.6 node.
pub fn ee58() -> Sim {
    sim("5.8.6", Edition::Ee)
}

/// A reply: status and JSON body (`null` when empty, a string when not JSON).
pub type Reply = (StatusCode, Value);

impl Sim {
    /// A request as the local caller.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Caller::Local, method, path, body).await
    }

    /// A request as `caller`.
    pub async fn call_as(
        &self,
        caller: Caller,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let builder = Request::builder()
            .method(method)
            .uri(format!("/api/v5{path}"));
        let (builder, body) = match body {
            Some(v) => (
                builder.header("content-type", "application/json"),
                Body::from(v.to_string()),
            ),
            None => (builder, Body::empty()),
        };
        let mut req = builder.body(body).expect("request");
        req.extensions_mut().insert(caller);
        self.send(req).await
    }

    /// A multipart request with one file part named `field`.
    pub async fn upload(&self, path: &str, field: &str, file_name: &str, data: &[u8]) -> Reply {
        let boundary = "----emqx-sim-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = Request::builder()
            .method("POST")
            .uri(format!("/api/v5{path}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request");
        req.extensions_mut().insert(Caller::Local);
        self.send(req).await
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.app.clone().oneshot(req).await.expect("router answers");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, v)
    }

    /// A record of a table by key.
    pub fn get(&self, table: &str, key: &Term) -> Option<Term> {
        self.node
            .store
            .read(|tx| tx.get(table, key))
            .expect("store reads")
    }

    /// Every record of a table.
    pub fn scan(&self, table: &str) -> Vec<Term> {
        self.node
            .store
            .read(|tx| tx.scan(table))
            .expect("store reads")
    }

    /// A config root.
    pub fn config(&self, root: &str) -> Option<Value> {
        self.node
            .store
            .read(|tx| tx.config(root))
            .expect("store reads")
    }
}

/// A viewer's caller.
pub fn viewer() -> Caller {
    Caller::Dashboard {
        username: "v1".into(),
        role: "viewer".into(),
    }
}

/// Asserts status and the error code/message of a reply.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!(reply.0.as_u16(), status, "reply {:?}", reply.1);
    assert_eq!(reply.1["code"], code, "reply {:?}", reply.1);
    assert_eq!(reply.1["message"], message, "reply {:?}", reply.1);
}

/// A binary term.
pub fn b(s: &str) -> Term {
    Term::binary(s)
}

/// A tuple term.
pub fn t(items: Vec<Term>) -> Term {
    Term::tuple(items)
}

/// An atom term.
pub fn a(s: &str) -> Term {
    Term::atom(s)
}
