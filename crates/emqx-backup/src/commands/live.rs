//! What the live commands share: connection settings (flags, environment, config file), the
//! progress display, exporting a node's state into memory, and the target checks.

use crate::cli::{Cli, ConnectArgs};
use crate::exit::{Refused, Usage};
use anyhow::Context;
use emqx_archive::{classify, table_def, Contents, Edition, EntryKind, Limits, VersionRules};
use emqx_client::{BackupFile, Client, Credentials, NodeInfo, Settings};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The connection settings file (`--config FILE`): TOML, or JSON when the name ends in
/// `.json`. Every key is optional; flags and environment variables win over it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Base URL of the node.
    pub node: Option<String>,
    /// API key.
    pub api_key: Option<String>,
    /// API secret.
    pub api_secret: Option<String>,
    /// Dashboard user.
    pub username: Option<String>,
    /// Dashboard password.
    pub password: Option<String>,
    /// CA file (relative to the config file's folder).
    pub ca_file: Option<PathBuf>,
    /// Seconds for one request.
    pub timeout: Option<u64>,
    /// Seconds to connect.
    pub connect_timeout: Option<u64>,
}

impl ConfigFile {
    /// Reads a config file.
    pub fn read(path: &Path) -> anyhow::Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("config file {}", path.display()))?;
        let mut config: ConfigFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)
                .map_err(|e| Usage(format!("config file {}: {e}", path.display())))?
        } else {
            toml::from_str(&text)
                .map_err(|e| Usage(format!("config file {}: {e}", path.display())))?
        };
        if let (Some(ca), Some(dir)) = (&config.ca_file, path.parent()) {
            if ca.is_relative() {
                config.ca_file = Some(dir.join(ca));
            }
        }
        Ok(config)
    }
}

/// The client settings from flags and environment, then the config file, then defaults.
pub fn settings(args: &ConnectArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(p) => ConfigFile::read(p)?,
        None => ConfigFile::default(),
    };
    let cli_creds = args.api_key.is_some()
        || args.api_secret.is_some()
        || args.username.is_some()
        || args.password.is_some();
    let (key, secret, user, pass) = if cli_creds {
        (
            args.api_key.clone(),
            args.api_secret.clone(),
            args.username.clone(),
            args.password.clone(),
        )
    } else {
        (file.api_key, file.api_secret, file.username, file.password)
    };
    let credentials = match (key, secret, user, pass) {
        (Some(_), _, Some(_), _) => {
            return Err(Usage(
                "give either --api-key/--api-secret or --username/--password, not both".into(),
            )
            .into())
        }
        (Some(key), Some(secret), None, _) => Credentials::ApiKey { key, secret },
        (Some(_), None, None, _) | (None, Some(_), None, _) => {
            return Err(Usage("--api-key and --api-secret go together".into()).into())
        }
        (None, _, Some(username), Some(password)) => Credentials::User { username, password },
        (None, _, Some(_), None) | (None, _, None, Some(_)) => {
            return Err(Usage("--username and --password go together".into()).into())
        }
        (None, None, None, None) => Credentials::None,
    };
    let defaults = Settings::default();
    Ok(Settings {
        base_url: args.node.clone().or(file.node).unwrap_or(defaults.base_url),
        credentials,
        ca_file: args.ca_file.clone().or(file.ca_file),
        connect_timeout: file
            .connect_timeout
            .map(Duration::from_secs)
            .unwrap_or(defaults.connect_timeout),
        timeout: args
            .timeout
            .or(file.timeout)
            .map(Duration::from_secs)
            .unwrap_or(defaults.timeout),
    })
}

/// Connects (and logs in) as the command line says.
pub fn connect(cli: &Cli) -> anyhow::Result<Client> {
    let settings = settings(&cli.connect)?;
    if matches!(settings.credentials, Credentials::None) {
        return Err(Usage(format!(
            "{}: no credentials: give --api-key and --api-secret, or --username and --password (or EMQX_BACKUP_* variables, or --config)",
            settings.base_url
        ))
        .into());
    }
    Ok(Client::connect(&settings)?)
}

/// How a command talks to the operator.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// Print only errors.
    pub quiet: bool,
    /// Print more.
    pub verbose: bool,
    /// One JSON document on stdout; no progress.
    pub json: bool,
    /// Stdout is a terminal: progress bars instead of plain lines.
    pub tty: bool,
}

impl Ui {
    /// The display for a command.
    pub fn new(cli: &Cli) -> Ui {
        Ui {
            quiet: cli.quiet,
            verbose: cli.verbose,
            json: cli.json(),
            tty: std::io::stdout().is_terminal(),
        }
    }

    /// A step, as a line on stderr (not with -q or --json).
    pub fn step(&self, msg: impl AsRef<str>) {
        if !self.quiet && !self.json {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A progress display of a transfer or long step.
    pub fn progress(&self, what: &str) -> Bar {
        let bar = (self.tty && !self.quiet && !self.json).then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b.set_message(what.to_owned());
            b
        });
        Bar {
            bar,
            what: what.to_owned(),
            ui: *self,
            done: 0,
        }
    }

    /// A spinner for a step of unknown length (a plain line without a terminal).
    pub fn spinner(&self, what: &str) -> Option<ProgressBar> {
        if self.tty && !self.quiet && !self.json {
            let s = ProgressBar::new_spinner();
            s.set_message(what.to_owned());
            s.enable_steady_tick(Duration::from_millis(120));
            Some(s)
        } else {
            self.step(format!("{what}..."));
            None
        }
    }
}

/// A progress bar on a terminal, a closing line otherwise.
pub struct Bar {
    bar: Option<ProgressBar>,
    what: String,
    ui: Ui,
    done: u64,
}

impl Bar {
    /// Bytes so far, and the total when known.
    pub fn update(&mut self, done: u64, total: Option<u64>) {
        self.done = done;
        if let Some(b) = &self.bar {
            if let Some(t) = total {
                b.set_length(t);
            }
            b.set_position(done);
        }
    }

    /// Ends the display.
    pub fn finish(self) {
        match self.bar {
            Some(b) => b.finish_and_clear(),
            None => self.ui.step(format!("{}: {} bytes", self.what, self.done)),
        }
    }
}

/// A downloaded file under its own name in a hidden temporary folder (removed on drop).
pub struct Downloaded {
    /// The folder (inside the destination folder, so the final rename stays on one disk).
    pub _dir: tempfile::TempDir,
    /// The file.
    pub path: PathBuf,
}

impl Downloaded {
    /// Moves the file to `target` without replacing an existing file.
    pub fn persist(self, target: &Path) -> anyhow::Result<()> {
        std::fs::hard_link(&self.path, target)
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Err(e)
                } else {
                    // No hard links here: fall back to a rename that may replace.
                    if target.exists() {
                        Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists))
                    } else {
                        std::fs::rename(&self.path, target)
                    }
                }
            })
            .with_context(|| format!("saving {}", target.display()))?;
        if let Some(parent) = target.parent() {
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// Downloads a node's file into a hidden temporary folder in `dir`, under its own name.
pub fn download_temp(
    client: &Client,
    file: &BackupFile,
    dir: &Path,
    ui: &Ui,
) -> anyhow::Result<Downloaded> {
    if emqx_archive::backup_base(&file.filename).is_none() {
        return Err(Usage(format!(
            "{}: invalid backup name: file name must have .tar.gz extension",
            file.filename
        ))
        .into());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(dir)
        .with_context(|| format!("a temporary folder in {}", dir.display()))?;
    let path = tmp.path().join(&file.filename);
    let mut out =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut bar = ui.progress(&format!("downloading {} from {}", file.filename, file.node));
    let node = (!file.node.is_empty()).then_some(file.node.as_str());
    client.download(&file.filename, node, &mut out, &mut |d, t| bar.update(d, t))?;
    bar.finish();
    out.sync_all()
        .with_context(|| format!("{}", path.display()))?;
    Ok(Downloaded { _dir: tmp, path })
}

/// The table sets and roots an archive touches (what an import of it can change).
pub fn scope_of(contents: &Contents) -> (Vec<String>, Vec<String>) {
    let mut sets: Vec<String> = contents
        .entries
        .iter()
        .filter_map(|(rel, _)| match classify(rel) {
            EntryKind::Table(t) => table_def(&t).map(|d| d.table_set.to_owned()),
            _ => None,
        })
        .collect();
    sets.sort();
    sets.dedup();
    let roots: Vec<String> = contents
        .config
        .iter()
        .flat_map(|c| c.keys().cloned())
        .filter(|k| emqx_archive::roots::check_root_keys(std::slice::from_ref(k)).is_none())
        .collect();
    (sets, roots)
}

/// Keeps of `state` only what an import of `incoming` can touch: tables of its table sets,
/// its config roots.
pub fn restrict(state: &mut Contents, sets: &[String], roots: &[String], incoming: &Contents) {
    state.entries.retain(|(rel, _)| match classify(rel) {
        EntryKind::Table(t) => table_def(&t).is_some_and(|d| sets.iter().any(|s| s == d.table_set)),
        _ => incoming.entries.iter().any(|(r, _)| r == rel),
    });
    match (&mut state.config, &incoming.config) {
        (Some(c), Some(_)) => c.retain(|k, _| roots.iter().any(|r| r == k)),
        (c, None) => *c = None,
        (None, Some(_)) => {}
    }
}

/// Exports the node's state of these table sets and roots, reads it into memory, and deletes
/// the export from the node again.
pub fn export_state(
    client: &Client,
    sets: &[String],
    roots: &[String],
    limits: &Limits,
    ui: &Ui,
    what: &str,
) -> anyhow::Result<Contents> {
    let spin = ui.spinner(what);
    let info = client.export(sets, roots)?;
    if let Some(s) = spin {
        s.finish_and_clear();
    }
    let dir = tempfile::tempdir().context("a temporary folder")?;
    let tmp = download_temp(client, &info, dir.path(), ui)?;
    let node = (!info.node.is_empty()).then_some(info.node.as_str());
    if let Err(e) = client.delete(&info.filename, node) {
        ui.step(format!(
            "warning: could not delete the temporary export {} on {}: {e}",
            info.filename, info.node
        ));
    }
    Ok(Contents::read(&tmp.path, limits)?)
}

/// The node an import runs on, checked as EMQX would: a core node, an edition and version
/// that accept the archive.
#[derive(Debug, serde::Serialize)]
pub struct Target {
    /// The node the client talks to (and uploads to).
    pub api_node: String,
    /// The core node that runs the import: the API node itself, or, when that is a replicant,
    /// the core EMQX routes the import to.
    pub runs_on: String,
    /// The description of `runs_on` from `/nodes`.
    pub info: NodeInfo,
}

impl Target {
    /// "emqx@core", or "emqx@replicant (runs on core emqx@core)" when the import is routed.
    pub fn describe(&self) -> String {
        if self.api_node == self.runs_on {
            self.api_node.clone()
        } else {
            format!("{} (runs on core {})", self.api_node, self.runs_on)
        }
    }
}

/// Finds the node behind the URL and the core that would run an import through it, and
/// refuses early what that core would refuse.
pub fn check_target(client: &Client, incoming: &Contents) -> anyhow::Result<Target> {
    let nodes = client.nodes()?;
    let api_node = match client.api_node()? {
        Some(n) => n,
        None => nodes
            .first()
            .map(|n| n.node.clone())
            .ok_or_else(|| anyhow::anyhow!("{}: /nodes lists no node", client.base_url()))?,
    };
    let api_info = nodes
        .iter()
        .find(|n| n.node == api_node)
        .ok_or_else(|| Refused(format!("Unknown node: {api_node}")))?;
    // EMQX's API runs an import on the file's node when that is a core, else on the API node
    // when that is a core, else on a core of the cluster (the file is copied there first).
    let info = if api_info.is_core() {
        api_info.clone()
    } else {
        nodes
            .iter()
            .find(|n| n.is_core() && n.node_status != "stopped")
            .cloned()
            .ok_or_else(|| {
                Refused(format!(
                    "{}: '{api_node}' is a {} and the cluster lists no running core node to run the import (backup data import is only allowed on core EMQX nodes)",
                    client.base_url(),
                    api_info.role
                ))
            })?
    };
    let runs_on = info.node.clone();
    let edition = info
        .edition_code()
        .and_then(Edition::parse)
        .ok_or_else(|| anyhow::anyhow!("node {runs_on}: unknown edition {:?}", info.edition))?;
    let rules = match emqx_archive::Meta::major_minor(&info.version) {
        Some((major, _)) if major >= 6 => VersionRules::Emqx6,
        _ => VersionRules::Emqx5,
    };
    incoming
        .meta
        .check_importable(edition, &info.version, rules)
        .map_err(|m| {
            Refused(format!(
                "{}: node {runs_on} ({} {}) would refuse it: {}",
                incoming.path.display(),
                edition.as_str(),
                info.version,
                m.trim_end()
            ))
        })?;
    Ok(Target {
        api_node,
        runs_on,
        info,
    })
}

/// Reads an archive to import, refusing with EMQX's messages a name EMQX would refuse, and
/// a table file that does not decode record by record (as `verify` would).
pub fn read_incoming(file: &Path, limits: &Limits) -> anyhow::Result<Contents> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if emqx_archive::backup_base(name).is_none() {
        return Err(crate::exit::Invalid(format!(
            "{}: invalid backup name: file name must have .tar.gz extension",
            file.display()
        ))
        .into());
    }
    let contents = Contents::read(file, limits)?;
    contents.check_tables(limits)?;
    Ok(contents)
}
