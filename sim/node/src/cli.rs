//! Command-line definitions of `emqx-sim`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use emqx_sim_api::DEFAULT_COOKIE;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A simulated EMQX 5.x node: EMQX's data, REST API and `emqx ctl data` for tests and demos.
///
/// Exit codes: 0 success, 1 failure, 2 bad command line.
#[derive(Parser)]
#[command(name = "emqx-sim", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Serve a node (EMQX's REST API on --listen) until SIGTERM or Ctrl-C.
    Start(StartArgs),
    /// Talk to the node running in --data-dir, as `emqx ctl` does.
    Ctl(CtlArgs),
}

/// The node's role in its cluster.
#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Holds the data and runs imports.
    Core,
    /// Joins a core and sends every data call to it.
    Replicant,
}

/// The EMQX edition the node runs.
#[derive(Clone, Copy, ValueEnum)]
pub enum EditionArg {
    /// Community edition.
    Ce,
    /// Enterprise edition.
    Ee,
}

/// `start`.
#[derive(Args)]
pub struct StartArgs {
    /// The node's data dir (database, configs, backups).
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// The Erlang node name.
    #[arg(long, default_value = "emqx@127.0.0.1")]
    pub name: String,
    /// core (default) or replicant (default when --join is given).
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// The edition the node runs.
    #[arg(long, value_enum, default_value = "ce")]
    pub edition: EditionArg,
    /// The release version the node reports.
    #[arg(long, default_value = "5.8.6")]
    pub version: String,
    /// Address of the REST API (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:18083")]
    pub listen: SocketAddr,
    /// Base URL of the core to join as a replicant.
    #[arg(long, value_name = "URL")]
    pub join: Option<String>,
    /// Base URL the other nodes reach this one at (default: http://<listen address>), e.g.
    /// `http://replica1:18083` in a container listening on 0.0.0.0.
    #[arg(long, value_name = "URL", env = "EMQX_SIM_ADVERTISE")]
    pub advertise: Option<String>,
    /// Bootstrap API keys, `api_key:api_secret[:role]` lines (EMQX's api_key.bootstrap_file).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Folder of the domain plugins (default: ../lib/emqx-backup/plugins next to the binary,
    /// then the cargo target dir).
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,
    /// The cluster's shared secret (EMQX's node cookie).
    #[arg(long, env = "EMQX_SIM_COOKIE", default_value = DEFAULT_COOKIE, hide_env_values = true)]
    pub cookie: String,
    /// Address of the MQTT listener `tcp:default` (port 0 picks a free port; default
    /// 0.0.0.0:1883 as EMQX, skipped with a warning when that port is taken).
    #[arg(long, value_name = "ADDR")]
    pub mqtt_bind: Option<SocketAddr>,
    /// Address of the MQTT over TLS listener `ssl:default`, serving the certificates of
    /// `listeners.ssl.default.ssl_options` (none when absent).
    #[arg(long, value_name = "ADDR")]
    pub mqtts_bind: Option<SocketAddr>,
}

/// `ctl`.
#[derive(Args)]
pub struct CtlArgs {
    /// The data dir of the running node.
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// The ctl command.
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// `ctl` subcommands.
#[derive(Subcommand)]
pub enum CtlCommand {
    /// Data backup commands.
    Data {
        /// The data command.
        #[command(subcommand)]
        command: DataCommand,
    },
}

/// `ctl data` subcommands.
#[derive(Subcommand)]
pub enum DataCommand {
    /// Export data.
    Export {
        /// Config root keys to export (all when absent).
        #[arg(long, value_delimiter = ',', value_name = "key1,key2")]
        root_keys: Vec<String>,
        /// Table sets to export (all when absent).
        #[arg(long, value_delimiter = ',', value_name = "set1,set2")]
        table_sets: Vec<String>,
        /// Output directory (the node's backup dir when absent).
        #[arg(long, value_name = "out_dir")]
        dir: Option<PathBuf>,
    },
    /// Import data from the specified tar archive file.
    Import {
        /// A path, else the name of a file in the node's backup dir.
        file: String,
        /// After EMQX's lines, print what the import changed per domain and key.
        #[arg(long)]
        report: bool,
    },
}
