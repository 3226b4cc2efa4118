//! One conformance suite for EMQX 5.x data backup and restore, run unchanged against every
//! "broker under test" ([`Broker`]): an `emqx-sim` process on this machine ([`sim::SimProcess`]),
//! an `emqx-sim` cluster in containers ([`containers::SimCluster`]) and a real EMQX container
//! named by `EMQX_IMAGE` ([`containers::RealEmqx`]).
//!
//! The cases ([`cases`]) talk to the brokers through EMQX's REST API only; export and import go
//! through a [`transfer::Transfer`]: the `emqx-backup` binary, or the bare REST API.

pub mod api;
pub mod archive;
pub mod cases;
pub mod containers;
pub mod gate;
pub mod mqtt;
pub mod report;
pub mod seed;
pub mod sim;
pub mod transfer;

use anyhow::{bail, Context};
use api::Api;

/// The role of a node in its cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A core node: holds the data and runs imports.
    Core,
    /// A replicant: serves the API, forwards writes and imports to a core.
    Replicant,
}

/// One node of a broker under test.
#[derive(Clone, Debug)]
pub struct Node {
    /// The Erlang node name (`emqx@core`).
    pub name: String,
    /// Core or replicant.
    pub role: Role,
    /// Base URL of its REST API as reachable from the tests (`http://127.0.0.1:18083`).
    pub url: String,
    /// Its MQTT listener as reachable from the tests (`127.0.0.1:1883`), when it serves one.
    pub mqtt: Option<String>,
}

/// What a `ctl data import` printed and whether it succeeded.
#[derive(Debug)]
pub struct CtlOutput {
    /// True when the command exited 0.
    pub ok: bool,
    /// Its standard output and error.
    pub text: String,
}

/// A broker under test: its nodes and roles, credentials, how to seed it.
pub trait Broker {
    /// A short name for reports (`sim-process`, `sim-cluster`, `emqx:5.8.6`).
    fn label(&self) -> String;
    /// Every node, the core first.
    fn nodes(&self) -> Vec<Node>;
    /// The dashboard user the tests log in with.
    fn credentials(&self) -> (String, String) {
        ("admin".into(), "public".into())
    }
    /// The edition the broker runs (`ce` or `ee`).
    fn edition(&self) -> String {
        "ce".into()
    }
    /// Seeds every domain through the REST API of `node`.
    fn seed(&self, node: &Node) -> anyhow::Result<()> {
        seed::all(&self.api(node)?)
    }
    /// Runs `emqx ctl data import FILE` on `node`; `None` when the broker cannot.
    fn ctl_import(&self, _node: &Node, _file: &str) -> anyhow::Result<Option<CtlOutput>> {
        Ok(None)
    }
    /// Restarts the core node; `Ok(false)` when the broker cannot.
    fn restart_core(&mut self) -> anyhow::Result<bool> {
        Ok(false)
    }
    /// The first core node.
    fn core(&self) -> Node {
        self.nodes()
            .into_iter()
            .find(|n| n.role == Role::Core)
            .expect("a broker has a core node")
    }
    /// The replicants.
    fn replicants(&self) -> Vec<Node> {
        self.nodes()
            .into_iter()
            .filter(|n| n.role == Role::Replicant)
            .collect()
    }
    /// The node a client talks to: a replicant when there is one (to exercise routing).
    fn entry(&self) -> Node {
        self.replicants()
            .into_iter()
            .next()
            .unwrap_or_else(|| self.core())
    }
    /// A REST client logged into `node` with [`Broker::credentials`].
    fn api(&self, node: &Node) -> anyhow::Result<Api> {
        let (user, pass) = self.credentials();
        Api::login(&node.url, &user, &pass).with_context(|| format!("login on {}", node.name))
    }
}

/// Starts fresh brokers of one kind.
pub trait BrokerKind {
    /// A short name for reports.
    fn label(&self) -> String;
    /// Starts a fresh broker of this kind running `edition`.
    fn start(&self, edition: &str) -> anyhow::Result<Box<dyn Broker>>;
}

/// Polls `f` every 200 ms until it succeeds or `secs` pass.
pub fn retry<T>(secs: u64, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if std::time::Instant::now() >= deadline => {
                bail!("gave up after {secs} s: {e:#}")
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
}
