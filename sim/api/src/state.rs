//! What every handler shares: the node, the cluster, the login tokens.

use crate::error::ApiError;
use crate::login_lock::LoginLock;
use crate::ServeConfig;
use emqx_sim_store::{Node, Role};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// A login session (EMQX keeps the JWT in `emqx_admin_jwt`).
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub username: String,
    pub expires: Instant,
}

/// Another node known to the core.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub url: String,
    pub role: Role,
}

/// Where a node named in a request is.
pub(crate) enum Target {
    /// This node.
    Local,
    /// Another member, at this base URL.
    Remote(String),
}

/// The node's view of its cluster.
pub(crate) struct Cluster {
    /// This node's name.
    pub name: String,
    /// This node's base URL.
    pub self_url: String,
    /// The core's base URL (replicants).
    pub core_url: Option<String>,
    /// The shared secret of the internal endpoints.
    pub cookie: String,
    /// The other nodes (kept by the core), by name.
    pub members: RwLock<BTreeMap<String, Member>>,
}

/// The state behind every route.
pub(crate) struct AppState {
    pub node: Arc<Node>,
    pub cluster: Cluster,
    pub sessions: Mutex<HashMap<String, Session>>,
    pub token_ttl: Duration,
    pub login_lock: LoginLock,
    pub ctl_token: String,
    pub http: reqwest::Client,
    pub started: Instant,
}

impl AppState {
    pub fn new(node: Arc<Node>, config: &ServeConfig, ctl_token: String) -> AppState {
        let trim = |u: &str| u.trim_end_matches('/').to_owned();
        AppState {
            cluster: Cluster {
                name: node.info.name.clone(),
                self_url: trim(&config.cluster.self_url),
                core_url: config.cluster.core_url.as_deref().map(trim),
                cookie: config.cluster.cookie.clone(),
                members: RwLock::new(BTreeMap::new()),
            },
            node,
            sessions: Mutex::new(HashMap::new()),
            token_ttl: config.token_ttl,
            login_lock: LoginLock::new(config.login_lock),
            ctl_token,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("the HTTP client builds with its defaults"),
            started: Instant::now(),
        }
    }

    /// The core's URL (on a replicant) or an error naming the misconfiguration.
    pub fn core_url(&self) -> Result<&str, ApiError> {
        self.cluster
            .core_url
            .as_deref()
            .ok_or_else(|| ApiError::internal("this node has no core to ask"))
    }

    /// Where the node named in a request lives (`Unknown node: X` when nowhere).
    pub fn locate(&self, node: &str) -> Result<Target, ApiError> {
        if node == self.cluster.name {
            return Ok(Target::Local);
        }
        match self.members().get(node) {
            Some(m) => Ok(Target::Remote(m.url.clone())),
            None => Err(ApiError::bad_request(format!("Unknown node: {node}"))),
        }
    }

    /// The other nodes, by name.
    pub fn members(&self) -> BTreeMap<String, Member> {
        self.cluster
            .members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Runs a call into the node (SQLite, files) on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("node task failed: {e}")))
}
