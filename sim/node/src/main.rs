//! `emqx-sim`: a simulated EMQX 5.x node.
//!
//! * `emqx-sim start [--data-dir ./data] [--name emqx@127.0.0.1] [--role core|replicant]
//!   [--edition ce|ee] [--version 5.8.6] [--listen 127.0.0.1:18083] [--join URL]
//!   [--advertise URL] [--api-key-file F] [--plugin-dir DIR] [--cookie C] [--mqtt-bind ADDR]
//!   [--mqtts-bind ADDR]` serves a node until SIGTERM or Ctrl-C; it writes
//!   `<data_dir>/node.json` (name, URL, pid, MQTT listener addresses) for `ctl` and tests.
//! * `emqx-sim ctl [--data-dir ./data] data export [--root-keys a,b] [--table-sets x,y]
//!   [--dir D]` and `emqx-sim ctl data import FILE` print what `emqx ctl data` prints.
//!
//! Exit codes: 0 success, 1 failure, 2 bad command line.

use clap::Parser;
use emqx_archive::Edition;
use emqx_sim::cli::{
    Cli, Command, CtlArgs, CtlCommand, DataCommand, EditionArg, RoleArg, StartArgs,
};
use emqx_sim_api::{
    CtlExportRequest, CtlImportRequest, CtlReply, ServeConfig, Server, CTL_HEADER, CTL_TOKEN_FILE,
};
use emqx_sim_mqtt::{Mqtt, Transport};
use emqx_sim_store::{Node, NodeInfo, Role};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// The file in the data dir that tells `ctl` where the node listens.
const NODE_FILE: &str = "node.json";

/// `<data_dir>/node.json`.
#[derive(Serialize, Deserialize)]
struct NodeFile {
    name: String,
    url: String,
    pid: u32,
    role: String,
    /// `host:port` of the MQTT listener, when one runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mqtt: Option<String>,
    /// `host:port` of the MQTT over TLS listener, when one runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mqtts: Option<String>,
}

/// EMQX's MQTT listener address, the default of `--mqtt-bind`.
const DEFAULT_MQTT_BIND: &str = "0.0.0.0:1883";

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
        let mqtt_node = node.clone();
        let server = Server::start(node, config, listener)
            .await
            .map_err(|e| e.to_string())?;
        let mqtt = start_mqtt(mqtt_node, args.mqtt_bind, args.mqtts_bind, role).await?;
        let node_file = args.data_dir.join(NODE_FILE);
        write_node_file(
            &node_file,
            &NodeFile {
                name: args.name.clone(),
                url: server.url().to_owned(),
                pid: std::process::id(),
                role: emqx_sim_api::role_name(role).to_owned(),
                mqtt: mqtt.tcp.map(|a| a.to_string()),
                mqtts: mqtt.tls.map(|a| a.to_string()),
            },
        )?;
        let served = server.run(shutdown_signal()).await;
        for task in &mqtt.tasks {
            task.abort();
        }
        remove_node_file(&node_file);
        served.map_err(|e| e.to_string())?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The MQTT listeners of a node: where they listen (loopback for a wildcard address) and
/// their tasks.
#[derive(Default)]
struct MqttListeners {
    tcp: Option<SocketAddr>,
    tls: Option<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn bind_mqtt(
    addr: SocketAddr,
    flag: &str,
) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{flag} {addr}: cannot listen: {e}"))?;
    let mut local = listener
        .local_addr()
        .map_err(|e| format!("{flag} {addr}: listener address: {e}"))?;
    if local.ip().is_unspecified() {
        local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    Ok((listener, local))
}

/// Starts the MQTT listeners of a core: `tcp:default` on `--mqtt-bind` (EMQX's 0.0.0.0:1883 by
/// default, skipped with a warning when taken) and `ssl:default` on `--mqtts-bind`. A
/// replicant holds no access data (its core does) and serves no MQTT.
async fn start_mqtt(
    node: Arc<Node>,
    bind: Option<SocketAddr>,
    tls_bind: Option<SocketAddr>,
    role: Role,
) -> Result<MqttListeners, String> {
    let mut out = MqttListeners::default();
    if role == Role::Replicant {
        if bind.is_some() || tls_bind.is_some() {
            return Err("--mqtt-bind/--mqtts-bind: a replicant holds no access data (its core does); serve MQTT from the core".into());
        }
        return Ok(out);
    }
    let broker = Mqtt::new(node);
    let default = DEFAULT_MQTT_BIND
        .parse::<SocketAddr>()
        .map_err(|e| e.to_string())?;
    match bind_mqtt(bind.unwrap_or(default), "--mqtt-bind").await {
        Ok((listener, local)) => {
            eprintln!("emqx-sim: MQTT listener tcp:default on {local}");
            out.tcp = Some(local);
            out.tasks
                .push(tokio::spawn(broker.clone().serve(listener, Transport::Tcp)));
        }
        Err(e) if bind.is_none() => eprintln!("emqx-sim: no MQTT listener: {e}"),
        Err(e) => return Err(e),
    }
    if let Some(addr) = tls_bind {
        let (listener, local) = bind_mqtt(addr, "--mqtts-bind").await?;
        eprintln!("emqx-sim: MQTT listener ssl:default on {local}");
        out.tls = Some(local);
        out.tasks
            .push(tokio::spawn(broker.serve(listener, Transport::Tls)));
    }
    Ok(out)
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
