//! The HTTP server of an `emqx-sim` node: EMQX's `/api/v5` (login, API keys, nodes, status,
//! data backup, and the domain endpoints of `emqx-sim-domains`), the cluster of one core and
//! any number of replicants, and the endpoints `emqx-sim ctl` talks to.
//!
//! Routes:
//!
//! * `POST /api/v5/login` (no credentials; EMQX's login lock, see [`LoginLockConfig`]) and
//!   `POST /api/v5/logout`;
//! * every other `/api/v5` route takes a bearer token from `/login` or HTTP Basic
//!   `api_key:api_secret` (rows of `emqx_app`, bootstrap file loaded at start);
//! * `GET /api/v5/nodes[/{node}]`, `GET /api/v5/status`; `GET /status` (no credentials, as
//!   EMQX's health check);
//! * `/api/v5/data/{export,import,files,files/{filename}}` (spec §6);
//! * `/internal/cluster/*`: node to node, with the cluster cookie (`X-Emqx-Sim-Cookie`);
//! * `/internal/ctl/data/{export,import}`: `emqx-sim ctl`, with the token of
//!   `<data_dir>/.ctl-token` (`X-Emqx-Sim-Ctl`).
//!
//! [`routes()`] lists every route with what it takes to call it.
//!
//! A replicant holds no data: it serves its own backup files and its exports itself (with the
//! archive built by the core) and proxies every other `/api/v5` request to the core.

mod auth;
mod cluster;
mod ctl;
mod data;
mod error;
mod login_lock;
mod nodes;
mod proxy;
mod routes;
mod state;

use axum::Router;
use emqx_sim_store::{Node, Role};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use ctl::{CtlExportRequest, CtlImportRequest, CtlReply, CTL_HEADER, CTL_TOKEN_FILE};
pub use login_lock::LoginLockConfig;
pub use routes::{routes, Access, Route};

/// The cluster cookie EMQX ships with (`node.cookie`), the default of `--cookie`.
pub const DEFAULT_COOKIE: &str = "emqxsecretcookie";

/// How a node takes part in its cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The node's own base URL as other nodes and `ctl` reach it (`http://127.0.0.1:18083`).
    pub self_url: String,
    /// The core's base URL on a replicant (`--join`); `None` on the core.
    pub core_url: Option<String>,
    /// The shared secret of the internal cluster endpoints (EMQX's node cookie).
    pub cookie: String,
}

/// What the server needs besides the node.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The node's place in the cluster.
    pub cluster: ClusterConfig,
    /// Bootstrap API keys (`api_key:api_secret[:role]` lines, EMQX's
    /// `api_key.bootstrap_file`), written into `emqx_app` at start on a core.
    pub api_key_file: Option<PathBuf>,
    /// How long a login token lives (EMQX's `dashboard.token_expired_time`, 60 minutes).
    pub token_ttl: Duration,
    /// When failed logins lock a username (EMQX's `dashboard.unsuccessful_login_*`).
    pub login_lock: LoginLockConfig,
}

impl ServeConfig {
    /// A configuration with EMQX's defaults for a node reachable at `self_url`.
    pub fn new(self_url: impl Into<String>) -> ServeConfig {
        ServeConfig {
            cluster: ClusterConfig {
                self_url: self_url.into(),
                core_url: None,
                cookie: DEFAULT_COOKIE.to_owned(),
            },
            api_key_file: None,
            token_ttl: Duration::from_secs(60 * 60),
            login_lock: LoginLockConfig::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A file of the node could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bootstrap API key file is malformed.
    #[error("api key file {}: line {line}: {message}", path.display())]
    ApiKeyFile {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The node's store failed while preparing it (default user, bootstrap keys).
    #[error("node store: {0}")]
    Store(String),
    /// A replicant could not join its core.
    #[error("cannot join the core at {url}: {message}")]
    Join {
        /// The core's URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A configuration that cannot work (a replicant without a core, a core with one).
    #[error("{0}")]
    Config(String),
    /// Serving HTTP failed.
    #[error("http server: {0}")]
    Http(std::io::Error),
}

/// A started server: the ctl token is written, the default user and bootstrap keys are in
/// the store, a replicant has joined its core; [`Server::run`] serves until shutdown.
pub struct Server {
    state: Arc<state::AppState>,
    app: Router,
    listener: tokio::net::TcpListener,
}

impl Server {
    /// Prepares the node and the routes (see the crate doc) on a bound listener.
    pub async fn start(
        node: Arc<Node>,
        config: ServeConfig,
        listener: tokio::net::TcpListener,
    ) -> Result<Server, ServeError> {
        match (node.info.role, &config.cluster.core_url) {
            (Role::Replicant, None) => {
                return Err(ServeError::Config(
                    "a replicant needs the URL of its core (--join)".into(),
                ))
            }
            (Role::Core, Some(url)) => {
                return Err(ServeError::Config(format!(
                    "a core node joins no cluster (--join {url} needs --role replicant)"
                )))
            }
            _ => {}
        }
        let ctl_token = ctl::write_ctl_token(&node.info.data_dir)?;
        let state = Arc::new(state::AppState::new(node, &config, ctl_token));
        let prepared = Self::prepare(&state, &config).await;
        if prepared.is_err() {
            ctl::remove_ctl_token(&state.node.info.data_dir);
        }
        prepared?;
        let app = router(state.clone());
        let info = &state.node.info;
        eprintln!(
            "emqx-sim: node {} ({}, {} {}) listening on {}",
            info.name,
            role_name(info.role),
            info.edition.as_str(),
            info.version,
            state.cluster.self_url
        );
        Ok(Server {
            state,
            app,
            listener,
        })
    }

    /// A core's default user and bootstrap keys; a replicant's join.
    async fn prepare(state: &Arc<state::AppState>, config: &ServeConfig) -> Result<(), ServeError> {
        if state.node.info.role == Role::Core {
            auth::prepare_store(state, config.api_key_file.as_deref()).await
        } else {
            if let Some(file) = &config.api_key_file {
                // EMQX loads the bootstrap file on core nodes only.
                eprintln!(
                    "emqx-sim: {}: replicant ignores the api key file {} (cores load it)",
                    state.cluster.name,
                    file.display()
                );
            }
            cluster::join_core(state).await
        }
    }

    /// The node's base URL.
    pub fn url(&self) -> &str {
        &self.state.cluster.self_url
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight; a replicant
    /// leaves its core and the ctl token file is removed.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server {
            state,
            app,
            listener,
        } = self;
        let keepalive = if state.node.info.role == Role::Replicant {
            Some(tokio::spawn(cluster::keep_joined(state.clone())))
        } else {
            None
        };
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some(task) = keepalive {
            task.abort();
        }
        if state.node.info.role == Role::Replicant {
            cluster::leave_core(&state).await;
        }
        ctl::remove_ctl_token(&state.node.info.data_dir);
        eprintln!("emqx-sim: node {} stopped", state.cluster.name);
        served.map_err(ServeError::Http)
    }
}

/// Starts the server on `listener` and serves until `shutdown` completes.
pub async fn serve(
    node: Arc<Node>,
    config: ServeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::start(node, config, listener)
        .await?
        .run(shutdown)
        .await
}

/// `core` or `replicant`.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Core => "core",
        Role::Replicant => "replicant",
    }
}

fn router(state: Arc<state::AppState>) -> Router {
    let api = if state.node.info.role == Role::Core {
        auth::core_api(state.clone())
    } else {
        proxy::replicant_api(state.clone())
    };
    Router::new()
        .nest("/api/v5", api)
        .merge(nodes::public_routes(state.clone()))
        .merge(cluster::internal_routes(state.clone()))
        .merge(ctl::routes(state.clone()))
        .fallback(error::not_found_fallback)
}
