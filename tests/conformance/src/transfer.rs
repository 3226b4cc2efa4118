//! How an archive leaves one broker and enters another: [`BackupTransfer`] runs the
//! `emqx-backup` binary (`export`, then `import --yes`, which plans, uploads, imports and
//! verifies); [`RestTransfer`] calls EMQX's REST API directly (`/data/export`, download,
//! upload, `/data/import`), as the Dashboard does.

use crate::{Broker, Node};
use anyhow::{bail, ensure, Context};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// An archive exported from a broker.
#[derive(Clone, Debug)]
pub struct Exported {
    /// The file name EMQX gave it.
    pub filename: String,
    /// The node that holds it.
    pub node: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Export from and import into brokers.
pub trait Transfer {
    /// A short name for reports.
    fn label(&self) -> &'static str;
    /// Exports everything through `node` of `broker`.
    fn export(&self, broker: &dyn Broker, node: &Node) -> anyhow::Result<Exported>;
    /// Imports `archive` into `broker` through `node`.
    fn import(&self, broker: &dyn Broker, node: &Node, archive: &Exported) -> anyhow::Result<()>;
}

/// Export, download, upload and import through EMQX's REST API.
pub struct RestTransfer;

impl Transfer for RestTransfer {
    fn label(&self) -> &'static str {
        "rest"
    }

    fn export(&self, broker: &dyn Broker, node: &Node) -> anyhow::Result<Exported> {
        let api = broker.api(node)?;
        let info = api.export()?;
        let filename = info["filename"]
            .as_str()
            .context("export reply has no filename")?
            .to_owned();
        let on = info["node"].as_str().unwrap_or(&node.name).to_owned();
        let bytes = api.download(&filename, Some(&on))?;
        Ok(Exported {
            filename,
            node: on,
            bytes,
        })
    }

    fn import(&self, broker: &dyn Broker, node: &Node, archive: &Exported) -> anyhow::Result<()> {
        let api = broker.api(node)?;
        let up = api.upload(&archive.filename, archive.bytes.clone())?;
        ensure!(
            up.ok(),
            "upload {} to {}: {}: {}",
            archive.filename,
            node.name,
            up.status,
            up.text
        );
        let r = api.import(&archive.filename, None)?;
        ensure!(
            r.ok(),
            "import {} through {}: {}: {}",
            archive.filename,
            node.name,
            r.status,
            r.text
        );
        Ok(())
    }
}

/// Export and import with the `emqx-backup` binary, logged in as the broker's dashboard user.
pub struct BackupTransfer {
    /// The `emqx-backup` binary.
    pub binary: PathBuf,
}

impl BackupTransfer {
    /// Builds `emqx-backup` and the plugins (once per process) and uses that binary.
    pub fn built() -> BackupTransfer {
        BackupTransfer {
            binary: crate::sim::backup_binary(),
        }
    }

    /// Runs `emqx-backup --json ARGS` against `node` and returns its JSON document.
    fn run(&self, broker: &dyn Broker, node: &Node, args: &[&str]) -> anyhow::Result<Value> {
        let (user, pass) = broker.credentials();
        let out = Command::new(&self.binary)
            .args([
                "--node",
                &node.url,
                "--username",
                &user,
                "--password",
                &pass,
            ])
            .args(args)
            .arg("--json")
            .env_remove("EMQX_BACKUP_API_KEY")
            .env_remove("EMQX_BACKUP_API_SECRET")
            .output()
            .with_context(|| format!("running {}", self.binary.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!(
                "emqx-backup {} on {} exited {}: {}{}",
                args.join(" "),
                node.name,
                out.status,
                stdout.trim(),
                stderr.trim()
            );
        }
        serde_json::from_str(&stdout)
            .with_context(|| format!("emqx-backup {} printed no JSON: {stdout}", args.join(" ")))
    }
}

impl Transfer for BackupTransfer {
    fn label(&self) -> &'static str {
        "emqx-backup"
    }

    fn export(&self, broker: &dyn Broker, node: &Node) -> anyhow::Result<Exported> {
        let dir = tempfile::tempdir()?;
        let out = dir.path().to_str().context("a UTF-8 temporary folder")?;
        let doc = self.run(broker, node, &["export", "--output", out])?;
        let file = doc["file"].as_str().context("export printed no file")?;
        let filename = doc["filename"]
            .as_str()
            .context("export printed no filename")?
            .to_owned();
        let on = doc["node"].as_str().unwrap_or(&node.name).to_owned();
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        Ok(Exported {
            filename,
            node: on,
            bytes,
        })
    }

    fn import(&self, broker: &dyn Broker, node: &Node, archive: &Exported) -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join(&archive.filename);
        std::fs::write(&file, &archive.bytes)?;
        let path = file.to_str().context("a UTF-8 temporary path")?;
        let doc = self.run(broker, node, &["import", path, "--yes"])?;
        ensure!(
            doc["verified"] == Value::Bool(true),
            "emqx-backup import into {} did not verify: {doc}",
            node.name
        );
        Ok(())
    }
}
