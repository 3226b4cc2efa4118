//! `emqx-sim` processes on this machine: a core and replicants on loopback ports.

use crate::{Broker, BrokerKind, CtlOutput, Node, Role};
use anyhow::Context;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// Builds `emqx-sim`, `emqx-backup` and the plugins (dev profile, once per process) and
/// returns the `emqx-sim` binary.
pub fn sim_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "-q", "-p", "emqx-sim", "-p", "emqx-backup"])
                .current_dir(workspace());
            // The test's own package variables would make build scripts that watch them
            // (ring watches CARGO_MANIFEST_DIR) rebuild.
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy().into_owned();
                if key.starts_with("CARGO_PKG_")
                    || [
                        "CARGO_MANIFEST_DIR",
                        "CARGO_MANIFEST_PATH",
                        "CARGO_CRATE_NAME",
                        "CARGO_PRIMARY_PACKAGE",
                    ]
                    .contains(&key.as_str())
                {
                    cmd.env_remove(&key);
                }
            }
            for entry in std::fs::read_dir(workspace().join("plugins")).expect("plugins/") {
                let toml = std::fs::read_to_string(entry.expect("entry").path().join("Cargo.toml"));
                if let Some(name) = toml.ok().and_then(|t| {
                    t.lines().find_map(|l| {
                        l.strip_prefix("name = \"")?
                            .strip_suffix('"')
                            .map(str::to_owned)
                    })
                }) {
                    cmd.args(["-p", &name]);
                }
            }
            let out = cmd.output().expect("run cargo build");
            assert!(
                out.status.success(),
                "building emqx-sim failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace().join("target"));
            target.join("debug").join("emqx-sim")
        })
        .clone()
}

/// The `emqx-backup` binary built beside [`sim_binary`].
pub fn backup_binary() -> PathBuf {
    sim_binary().with_file_name("emqx-backup")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// One running node process.
struct Proc {
    child: Child,
    args: Vec<std::ffi::OsString>,
    node: Node,
    data_dir: PathBuf,
}

/// An `emqx-sim` core (and replicants) as processes on this machine; stopped when dropped.
pub struct SimProcess {
    procs: Vec<Proc>,
    edition: String,
    _dir: tempfile::TempDir,
}

impl SimProcess {
    /// Starts a core running `edition` and `replicants` replicants joined to it.
    pub fn start(edition: &str, replicants: usize) -> anyhow::Result<SimProcess> {
        let dir = tempfile::tempdir()?;
        let mut procs = Vec::new();
        let mut core_url = String::new();
        for i in 0..=replicants {
            let port = free_port()?;
            let listen = format!("127.0.0.1:{port}");
            let url = format!("http://{listen}");
            let (name, role) = if i == 0 {
                ("emqx@core".to_owned(), Role::Core)
            } else {
                (format!("emqx@replica{i}"), Role::Replicant)
            };
            let data_dir = dir.path().join(format!("node{i}"));
            let mut args: Vec<std::ffi::OsString> = [
                "start",
                "--listen",
                &listen,
                "--name",
                &name,
                "--edition",
                edition,
            ]
            .map(Into::into)
            .to_vec();
            args.extend(["--data-dir".into(), data_dir.clone().into_os_string()]);
            let mut mqtt = None;
            if i == 0 {
                core_url = url.clone();
                let addr = format!("127.0.0.1:{}", free_port()?);
                args.extend(["--mqtt-bind".into(), addr.clone().into()]);
                mqtt = Some(addr);
            } else {
                args.extend(["--join".into(), core_url.clone().into()]);
            }
            let child = spawn(&args)?;
            procs.push(Proc {
                child,
                args,
                node: Node {
                    name,
                    role,
                    url,
                    mqtt,
                },
                data_dir,
            });
        }
        let sim = SimProcess {
            procs,
            edition: edition.to_owned(),
            _dir: dir,
        };
        for n in sim.nodes() {
            sim.api(&n)?;
        }
        Ok(sim)
    }
}

fn spawn(args: &[std::ffi::OsString]) -> anyhow::Result<Child> {
    Command::new(sim_binary())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting emqx-sim")
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        for p in self.procs.iter_mut().rev() {
            // SAFETY: kill only signals our own child process.
            unsafe {
                libc::kill(p.child.id() as libc::pid_t, libc::SIGTERM);
            }
            let _ = p.child.wait();
        }
    }
}

impl Broker for SimProcess {
    fn label(&self) -> String {
        "sim-process".into()
    }

    fn nodes(&self) -> Vec<Node> {
        self.procs.iter().map(|p| p.node.clone()).collect()
    }

    fn edition(&self) -> String {
        self.edition.clone()
    }

    fn restart_core(&mut self) -> anyhow::Result<bool> {
        let core = &mut self.procs[0];
        // SIGKILL: nothing gets a chance to flush; committed data must survive anyway.
        core.child.kill()?;
        core.child.wait()?;
        // The port may stay busy for a moment.
        core.child = crate::retry(10, || {
            let mut child = spawn(&core.args)?;
            std::thread::sleep(std::time::Duration::from_millis(300));
            match child.try_wait()? {
                None => Ok(child),
                Some(status) => anyhow::bail!("emqx-sim exited at once ({status})"),
            }
        })?;
        let node = core.node.clone();
        self.api(&node)?;
        Ok(true)
    }

    fn ctl_import(&self, node: &Node, file: &str) -> anyhow::Result<Option<CtlOutput>> {
        let p = self
            .procs
            .iter()
            .find(|p| p.node.name == node.name)
            .context("no such node")?;
        let out = Command::new(sim_binary())
            .arg("ctl")
            .arg("--data-dir")
            .arg(&p.data_dir)
            .args(["data", "import", file])
            .output()?;
        Ok(Some(CtlOutput {
            ok: out.status.success(),
            text: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }))
    }
}

/// Starts [`SimProcess`] brokers: a core and one replicant.
pub struct SimProcessKind;

impl BrokerKind for SimProcessKind {
    fn label(&self) -> String {
        "sim-process".into()
    }

    fn start(&self, edition: &str) -> anyhow::Result<Box<dyn Broker>> {
        Ok(Box::new(SimProcess::start(edition, 1)?))
    }
}
