//! How an archive leaves one broker and enters another. [`RestTransfer`] uses EMQX's REST API
//! (`/data/export`, download, upload, `/data/import`); a transfer through the `emqx-backup`
//! binary can implement the same trait.

use crate::{Broker, Node};
use anyhow::{ensure, Context};

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
