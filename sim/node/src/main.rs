//! `emqx-sim`: a simulated EMQX 5.x node.
//!
//! * `emqx-sim start [--data-dir ./data] [--name emqx@127.0.0.1] [--role core|replicant]
//!   [--edition ce|ee] [--version 5.8.6] [--listen 127.0.0.1:18083] [--join URL]
//!   [--advertise URL] [--api-key-file F] [--plugin-dir DIR] [--cookie C]` serves a node until SIGTERM or
//!   Ctrl-C; it writes `<data_dir>/node.json` (name, URL, pid) for `ctl`.
//! * `emqx-sim ctl [--data-dir ./data] data export [--root-keys a,b] [--table-sets x,y]
//!   [--dir D]` and `emqx-sim ctl data import FILE` print what `emqx ctl data` prints.
//!
//! Exit codes: 0 success, 1 failure, 2 bad command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use emqx_archive::Edition;
use emqx_sim_api::{
    CtlExportRequest, CtlImportRequest, CtlReply, ServeConfig, Server, CTL_HEADER, CTL_TOKEN_FILE,
    DEFAULT_COOKIE,
};
use emqx_sim_store::{Node, NodeInfo, Role};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The file in the data dir that tells `ctl` where the node listens.
const NODE_FILE: &str = "node.json";

#[derive(Parser)]
#[command(name = "emqx-sim", version, about = "A simulated EMQX 5.x node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a node (EMQX's REST API on --listen) until SIGTERM or Ctrl-C.
    Start(StartArgs),
    /// Talk to the node running in --data-dir, as `emqx ctl` does.
    Ctl(CtlArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Core,
    Replicant,
}

#[derive(Clone, Copy, ValueEnum)]
enum EditionArg {
    Ce,
    Ee,
}

#[derive(Args)]
struct StartArgs {
    /// The node's data dir (database, configs, backups).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// The Erlang node name.
    #[arg(long, default_value = "emqx@127.0.0.1")]
    name: String,
    /// core (default) or replicant (default when --join is given).
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// The edition the node runs.
    #[arg(long, value_enum, default_value = "ce")]
    edition: EditionArg,
    /// The release version the node reports.
    #[arg(long, default_value = "5.8.6")]
    version: String,
    /// Address of the REST API (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:18083")]
    listen: SocketAddr,
    /// Base URL of the core to join as a replicant.
    #[arg(long, value_name = "URL")]
    join: Option<String>,
    /// Base URL the other nodes reach this one at (default: http://<listen address>), e.g.
    /// `http://replica1:18083` in a container listening on 0.0.0.0.
    #[arg(long, value_name = "URL", env = "EMQX_SIM_ADVERTISE")]
    advertise: Option<String>,
    /// Bootstrap API keys, `api_key:api_secret[:role]` lines (EMQX's api_key.bootstrap_file).
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// Folder of the domain plugins.
    #[arg(long, value_name = "DIR")]
    plugin_dir: Option<PathBuf>,
    /// The cluster's shared secret (EMQX's node cookie).
    #[arg(long, env = "EMQX_SIM_COOKIE", default_value = DEFAULT_COOKIE, hide_env_values = true)]
    cookie: String,
}

#[derive(Args)]
struct CtlArgs {
    /// The data dir of the running node.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Subcommand)]
enum CtlCommand {
    /// Data backup commands.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
}

#[derive(Subcommand)]
enum DataCommand {
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

/// `<data_dir>/node.json`.
#[derive(Serialize, Deserialize)]
struct NodeFile {
    name: String,
    url: String,
    pid: u32,
    role: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Start(args) => start(args),
        Command::Ctl(args) => ctl(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("emqx-sim: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn start(args: StartArgs) -> Result<ExitCode, String> {
    let role = match (args.role, &args.join) {
        (None | Some(RoleArg::Core), None) => Role::Core,
        (None | Some(RoleArg::Replicant), Some(_)) => Role::Replicant,
        (Some(RoleArg::Replicant), None) => {
            return Err("--role replicant needs --join <core URL>".into())
        }
        (Some(RoleArg::Core), Some(url)) => {
            return Err(format!(
                "a core joins no cluster: drop --join {url} or use --role replicant"
            ))
        }
    };
    let info = NodeInfo {
        name: args.name.clone(),
        role,
        edition: match args.edition {
            EditionArg::Ce => Edition::Ce,
            EditionArg::Ee => Edition::Ee,
        },
        version: args.version.clone(),
        data_dir: args.data_dir.clone(),
    };
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("{}: {e}", args.data_dir.display()))?;
    let node = Node::open(info, args.plugin_dir.as_deref())
        .map_err(|e| format!("cannot open the node in {}: {e}", args.data_dir.display()))?;
    let node = Arc::new(node);
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let mut addr = listener
            .local_addr()
            .map_err(|e| format!("listener address: {e}"))?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let self_url = args
            .advertise
            .clone()
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{addr}"));
        let mut config = ServeConfig::new(self_url);
        config.cluster.core_url = args.join.clone();
        config.cluster.cookie = args.cookie.clone();
        config.api_key_file = args.api_key_file.clone();
        let server = Server::start(node, config, listener)
            .await
            .map_err(|e| e.to_string())?;
        let node_file = args.data_dir.join(NODE_FILE);
        write_node_file(
            &node_file,
            &NodeFile {
                name: args.name.clone(),
                url: server.url().to_owned(),
                pid: std::process::id(),
                role: emqx_sim_api::role_name(role).to_owned(),
            },
        )?;
        let served = server.run(shutdown_signal()).await;
        remove_node_file(&node_file);
        served.map_err(|e| e.to_string())?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn write_node_file(path: &Path, info: &NodeFile) -> Result<(), String> {
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(info).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Removes `node.json` unless another process has written it since.
fn remove_node_file(path: &Path) {
    let ours = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<NodeFile>(&b).ok())
        .is_some_and(|f| f.pid == std::process::id());
    if ours {
        let _ = std::fs::remove_file(path);
    }
}

fn ctl(args: CtlArgs) -> Result<ExitCode, String> {
    let node_file = args.data_dir.join(NODE_FILE);
    let node: NodeFile = std::fs::read(&node_file)
        .map_err(|e| {
            format!(
                "no node is running in {} ({}: {e})",
                args.data_dir.display(),
                node_file.display()
            )
        })
        .and_then(|b| {
            serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", node_file.display()))
        })?;
    let token_file = args.data_dir.join(CTL_TOKEN_FILE);
    let token = std::fs::read_to_string(&token_file)
        .map_err(|e| format!("{}: {e}", token_file.display()))?;
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let (path, body) = match args.command {
        CtlCommand::Data {
            command:
                DataCommand::Export {
                    root_keys,
                    table_sets,
                    dir,
                },
        } => {
            let request = CtlExportRequest {
                root_keys,
                table_sets,
                // A relative --dir is relative to where ctl runs.
                dir: dir.map(|d| cwd.join(d).display().to_string()),
            };
            ("export", serde_json::to_value(request))
        }
        CtlCommand::Data {
            command: DataCommand::Import { file, report },
        } => {
            // A relative path that exists here is sent whole; anything else the node
            // resolves (a path of its own, else a name in its backup dir).
            let here = cwd.join(&file);
            let file = if Path::new(&file).is_relative() && here.is_file() {
                here.display().to_string()
            } else {
                file
            };
            (
                "import",
                serde_json::to_value(CtlImportRequest { file, report }),
            )
        }
    };
    let body = body.map_err(|e| e.to_string())?;
    let url = format!("{}/internal/ctl/data/{path}", node.url);
    let reply: CtlReply = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(async {
            let resp = reqwest::Client::new()
                .post(&url)
                .header(CTL_HEADER, token.trim())
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("node {} at {} does not answer: {e}", node.name, node.url))?;
            let status = resp.status();
            if !status.is_success() {
                let text = resp.text().await.unwrap_or_default();
                return Err(format!("node {} answered {status}: {text}", node.name));
            }
            resp.json::<CtlReply>()
                .await
                .map_err(|e| format!("node {} sent a bad answer: {e}", node.name))
        })?;
    for line in &reply.lines {
        println!("{line}");
    }
    Ok(if reply.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
