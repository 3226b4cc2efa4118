//! Brokers in containers, started by `testcontainers`: an `emqx-sim` cluster (one core, two
//! replicants on one Docker network) from the local image `emqx-sim:dev`, and a real EMQX from
//! `EMQX_IMAGE`.

use crate::gate::SIM_IMAGE;
use crate::{Broker, BrokerKind, CtlOutput, Node, Role};
use anyhow::{ensure, Context};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use testcontainers::core::{ExecCommand, IntoContainerPort};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

/// The REST API port inside the containers.
const API_PORT: u16 = 18083;

/// The MQTT port inside the containers.
const MQTT_PORT: u16 = 1883;

/// A name unique to this process and call, for networks and containers.
fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The URL the tests reach a container's REST API at (its port mapped on this machine).
fn host_url(c: &Container<GenericImage>) -> anyhow::Result<String> {
    let host = c.get_host()?;
    let port = c.get_host_port_ipv4(API_PORT.tcp())?;
    Ok(format!("http://{host}:{port}"))
}

/// The `host:port` the tests reach a container's MQTT listener at.
fn host_mqtt(c: &Container<GenericImage>) -> anyhow::Result<String> {
    let host = c.get_host()?;
    let port = c.get_host_port_ipv4(MQTT_PORT.tcp())?;
    Ok(format!("{host}:{port}"))
}

/// One `emqx-sim` container and the node it runs.
struct SimContainer {
    container: Container<GenericImage>,
    node: Node,
}

/// An `emqx-sim` cluster in containers: one core and replicants, on one Docker network.
/// The containers (and the network) are removed when it is dropped.
pub struct SimCluster {
    members: Vec<SimContainer>,
    edition: String,
}

impl SimCluster {
    /// Starts a core running `edition` and `replicants` replicants joined to it.
    pub fn start(edition: &str, replicants: usize) -> anyhow::Result<SimCluster> {
        let network = unique("emqx-sim-net");
        let cookie = unique("cookie");
        let core_host = unique("emqx-core");
        let mut members = Vec::new();
        for i in 0..=replicants {
            let (host, name, role) = if i == 0 {
                (core_host.clone(), "emqx@core".to_owned(), Role::Core)
            } else {
                (
                    unique(&format!("emqx-replica{i}")),
                    format!("emqx@replica{i}"),
                    Role::Replicant,
                )
            };
            let mut cmd: Vec<String> = [
                "start",
                "--listen",
                "0.0.0.0:18083",
                "--data-dir",
                "/data",
                "--name",
                &name,
                "--edition",
                edition,
            ]
            .map(String::from)
            .to_vec();
            cmd.extend(["--advertise".into(), format!("http://{host}:{API_PORT}")]);
            if i > 0 {
                cmd.extend(["--join".into(), format!("http://{core_host}:{API_PORT}")]);
            } else {
                cmd.extend(["--mqtt-bind".into(), format!("0.0.0.0:{MQTT_PORT}")]);
            }
            let image =
                GenericImage::new(SIM_IMAGE.0, SIM_IMAGE.1).with_exposed_port(API_PORT.tcp());
            let image = if i == 0 {
                image.with_exposed_port(MQTT_PORT.tcp())
            } else {
                image
            };
            let container = image
                .with_network(network.clone())
                .with_container_name(host.clone())
                .with_env_var("EMQX_SIM_COOKIE", cookie.clone())
                .with_cmd(cmd)
                .with_startup_timeout(Duration::from_secs(60))
                .start()
                .with_context(|| format!("starting the container of {name}"))?;
            let url = host_url(&container)?;
            let mqtt = if i == 0 {
                Some(host_mqtt(&container)?)
            } else {
                None
            };
            members.push(SimContainer {
                container,
                node: Node {
                    name,
                    role,
                    url,
                    mqtt,
                },
            });
        }
        let cluster = SimCluster {
            members,
            edition: edition.to_owned(),
        };
        cluster.wait_joined()?;
        Ok(cluster)
    }

    /// Waits until every node answers and the core lists every member in `/nodes`.
    fn wait_joined(&self) -> anyhow::Result<()> {
        let api = self.api(&self.core())?;
        let want = self.members.len();
        crate::retry(60, || {
            let nodes = crate::seed::items(&api.get("/nodes")?);
            ensure!(
                nodes.len() >= want,
                "{} of {want} nodes joined",
                nodes.len()
            );
            Ok(())
        })?;
        for n in self.nodes() {
            self.api(&n)?;
        }
        Ok(())
    }
}

impl Broker for SimCluster {
    fn label(&self) -> String {
        "sim-cluster".into()
    }

    fn nodes(&self) -> Vec<Node> {
        self.members.iter().map(|m| m.node.clone()).collect()
    }

    fn edition(&self) -> String {
        self.edition.clone()
    }

    fn ctl_import(&self, node: &Node, file: &str) -> anyhow::Result<Option<CtlOutput>> {
        let m = self
            .members
            .iter()
            .find(|m| m.node.name == node.name)
            .context("no such node")?;
        let mut res = m.container.exec(ExecCommand::new([
            "/usr/local/bin/emqx-sim",
            "ctl",
            "--data-dir",
            "/data",
            "data",
            "import",
            file,
        ]))?;
        let mut text = String::from_utf8_lossy(&res.stdout_to_vec()?).into_owned();
        text.push_str(&String::from_utf8_lossy(&res.stderr_to_vec()?));
        let code = res.exit_code()?;
        Ok(Some(CtlOutput {
            ok: code == Some(0),
            text,
        }))
    }

    fn restart_core(&mut self) -> anyhow::Result<bool> {
        let core = &mut self.members[0];
        // SIGKILL: nothing gets a chance to flush; committed data must survive anyway.
        core.container.stop_with_timeout(Some(0))?;
        core.container.start()?;
        core.node.url = host_url(&core.container)?;
        self.wait_joined()?;
        Ok(true)
    }
}

/// Starts [`SimCluster`] brokers of one core and two replicants.
pub struct SimClusterKind;

impl BrokerKind for SimClusterKind {
    fn label(&self) -> String {
        "sim-cluster".into()
    }

    fn start(&self, edition: &str) -> anyhow::Result<Box<dyn Broker>> {
        Ok(Box::new(SimCluster::start(edition, 2)?))
    }
}

/// A real EMQX node in a container of `EMQX_IMAGE`.
pub struct RealEmqx {
    image: String,
    container: Container<GenericImage>,
    node: Node,
}

impl RealEmqx {
    /// Starts a single EMQX node of `image` (`emqx/emqx:5.8.6`).
    pub fn start(image: &str) -> anyhow::Result<RealEmqx> {
        let (name, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
        let container = GenericImage::new(name, tag)
            .with_exposed_port(API_PORT.tcp())
            .with_exposed_port(MQTT_PORT.tcp())
            .with_env_var("EMQX_NODE__NAME", "emqx@127.0.0.1")
            .with_env_var("EMQX_DASHBOARD__DEFAULT_PASSWORD", "public")
            .with_startup_timeout(Duration::from_secs(120))
            .start()
            .with_context(|| format!("starting {image}"))?;
        let url = host_url(&container)?;
        let mqtt = Some(host_mqtt(&container)?);
        let mut emqx = RealEmqx {
            image: image.to_owned(),
            container,
            node: Node {
                name: "emqx@127.0.0.1".into(),
                role: Role::Core,
                url,
                mqtt,
            },
        };
        let api = crate::retry(120, || emqx.api(&emqx.node))?;
        if let Some(n) = crate::seed::items(&api.get("/nodes")?)
            .first()
            .and_then(|n| n["node"].as_str())
        {
            emqx.node.name = n.to_owned();
        }
        Ok(emqx)
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        self.container.id()
    }
}

impl Broker for RealEmqx {
    fn label(&self) -> String {
        format!("emqx:{}", self.image.rsplit(':').next().unwrap_or("?"))
    }

    fn nodes(&self) -> Vec<Node> {
        vec![self.node.clone()]
    }
}

/// Starts [`RealEmqx`] brokers of one image.
pub struct RealEmqxKind {
    /// The image, e.g. `emqx/emqx:5.8.6`.
    pub image: String,
}

impl BrokerKind for RealEmqxKind {
    fn label(&self) -> String {
        format!("emqx:{}", self.image.rsplit(':').next().unwrap_or("?"))
    }

    fn start(&self, edition: &str) -> anyhow::Result<Box<dyn Broker>> {
        ensure!(
            edition == "ce",
            "a real EMQX image runs the edition it was built as"
        );
        Ok(Box::new(RealEmqx::start(&self.image)?))
    }
}
