//! Command-line definitions.

use crate::size::parse_size;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Back up and restore EMQX 5.x data, and work offline on EMQX export archives.
///
/// Archives are EMQX's own format (emqx-export-YYYY-MM-DD-HH-mm-ss.sss.tar.gz): what this tool
/// writes, EMQX imports, and the other way round.
///
/// Exit codes: 0 success; 1 failure on our side (I/O, bug, a plugin that cannot load);
/// 2 bad command line; 3 invalid archive (EMQX would refuse it, or it is corrupt or unsafe);
/// 4 refused by the node (or refused early with EMQX's message); 5 the node cannot be
/// reached; 6 authentication or authorization failed (401, 403); 7 after an import the node
/// does not hold what the plan said.
///
/// Live commands (export, plan, import, files) connect with --node, --api-key/--api-secret or
/// --username/--password, from flags, the environment (EMQX_BACKUP_NODE, EMQX_BACKUP_API_KEY,
/// EMQX_BACKUP_API_SECRET, EMQX_BACKUP_USERNAME, EMQX_BACKUP_PASSWORD, EMQX_BACKUP_CA_FILE,
/// EMQX_BACKUP_TIMEOUT, EMQX_BACKUP_CONFIG) or a config file (--config FILE, TOML or JSON,
/// keys node, api_key, api_secret, username, password, ca_file, timeout).
#[derive(Debug, Parser)]
#[command(name = "emqx-backup", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Look for domain plugins here first (then $EMQX_BACKUP_PLUGIN_DIR, then
    /// ../lib/emqx-backup/plugins next to the binary, then the cargo target dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How to reach a live node; flags and environment win over the config file.
#[derive(Debug, Args, Default, Clone)]
pub struct ConnectArgs {
    /// Base URL of the node's dashboard listener [default: http://127.0.0.1:18083].
    #[arg(long, global = true, env = "EMQX_BACKUP_NODE", value_name = "URL")]
    pub node: Option<String>,
    /// API key (HTTP Basic with --api-secret).
    #[arg(long, global = true, env = "EMQX_BACKUP_API_KEY", value_name = "KEY")]
    pub api_key: Option<String>,
    /// API secret.
    #[arg(
        long,
        global = true,
        env = "EMQX_BACKUP_API_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub api_secret: Option<String>,
    /// Dashboard user (logs in through POST /login).
    #[arg(long, global = true, env = "EMQX_BACKUP_USERNAME", value_name = "USER")]
    pub username: Option<String>,
    /// Dashboard password.
    #[arg(
        long,
        global = true,
        env = "EMQX_BACKUP_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// PEM file of CA certificates to trust for https:// nodes.
    #[arg(long, global = true, env = "EMQX_BACKUP_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Seconds allowed for one request, transfers included [default: 300].
    #[arg(
        long,
        global = true,
        env = "EMQX_BACKUP_TIMEOUT",
        value_name = "SECONDS"
    )]
    pub timeout: Option<u64>,
    /// Connection settings file, TOML or JSON (by extension .json), keys: node, api_key,
    /// api_secret, username, password, ca_file, timeout, connect_timeout.
    #[arg(long, global = true, env = "EMQX_BACKUP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what an archive holds: META, config roots, tables with record counts and
    /// attributes, and entries no part of the tool understands.
    Inspect(InspectArgs),
    /// Check an archive completely: structure, EMQX's rules, META, every record of every table,
    /// every config file, and the manifest when present. Exit 0 when sound, 3 otherwise.
    Verify(VerifyArgs),
    /// Decode every entry and encode it again into a new archive with a fresh EMQX name.
    Rewrite(RewriteArgs),
    /// List the domain plugins found, where they were found, and what each owns.
    Plugins(PluginsArgs),
    /// Compare two archives per domain: records and config paths only in A, only in B, and
    /// different.
    Diff(DiffArgs),
    /// Write the archive an EMQX import of INCOMING into a node holding BASE would leave, and
    /// print the plan (inserts, updates, unchanged, warnings per domain).
    Merge(MergeArgs),
    /// Write a copy of an archive holding only some domains, table sets or config roots.
    Filter(FilterArgs),
    /// Export a live node: ask it to export, download the archive, verify it through the
    /// plugins (adding MANIFEST.json) and save it under its EMQX name.
    Export(ExportArgs),
    /// Show what importing FILE into the live node would change, changing nothing: the
    /// node's current state is exported and merged with FILE through every plugin.
    Plan(PlanArgs),
    /// Import FILE into the live node: plan, confirm, upload, import, then check that the
    /// node holds exactly what the plan said (exit 7 when not).
    Import(ImportArgs),
    /// List, download, upload or delete the backup files of the live node's cluster.
    Files(FilesArgs),
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export only these table sets (EMQX names: banned, builtin_authn, ...).
    #[arg(long, value_delimiter = ',', value_name = "SETS")]
    pub table_sets: Vec<String>,
    /// Export only these config roots (EMQX names: authentication, listeners, ...).
    #[arg(long, value_delimiter = ',', value_name = "ROOTS")]
    pub root_keys: Vec<String>,
    /// Keep only these domains' tables and roots (plugin names, comma separated).
    #[arg(long, value_delimiter = ',', value_name = "DOMAINS")]
    pub domains: Vec<String>,
    /// Folder for the archive (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The archive to import.
    pub file: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The archive to import.
    pub file: PathBuf,
    /// Print the plan only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `files`.
#[derive(Debug, Args)]
pub struct FilesArgs {
    /// What to do with the files.
    #[command(subcommand)]
    pub command: FilesCommand,
}

/// `files` subcommands.
#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// List the backup files of every node.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Download a backup file.
    Download {
        /// File name on the node.
        name: String,
        /// The node holding it (Erlang node name; found in the list when omitted).
        #[arg(long, value_name = "NODE")]
        from_node: Option<String>,
        /// Folder to save it in.
        #[arg(short, long, value_name = "DIR", default_value = ".")]
        output: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Upload an archive to the node (EMQX checks it).
    Upload {
        /// The archive.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a backup file.
    Delete {
        /// File name on the node.
        name: String,
        /// The node holding it (Erlang node name; found in the list when omitted).
        #[arg(long, value_name = "NODE")]
        from_node: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `plugins`.
#[derive(Debug, Args)]
pub struct PluginsArgs {
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first archive.
    pub a: PathBuf,
    /// The second archive.
    pub b: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The archive of the node's current state.
    pub base: PathBuf,
    /// The archive being imported.
    pub incoming: PathBuf,
    /// Folder for the merged archive (created if missing).
    #[arg(short, long, value_name = "DIR", required_unless_present = "dry_run")]
    pub output: Option<PathBuf>,
    /// Print the plan only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `filter`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The archive to read.
    pub file: PathBuf,
    /// Keep these domains' tables and roots (plugin names, comma separated).
    #[arg(long, value_delimiter = ',', value_name = "DOMAINS")]
    pub domains: Vec<String>,
    /// Keep only these table sets' tables (EMQX names: banned, builtin_authn, ...).
    #[arg(long, value_delimiter = ',', value_name = "SETS")]
    pub table_sets: Vec<String>,
    /// Keep only these config roots (EMQX names: authentication, listeners, ...).
    #[arg(long, value_delimiter = ',', value_name = "ROOTS")]
    pub root_keys: Vec<String>,
    /// Folder for the new archive (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Options shared by the commands that read an archive.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    /// Most entries an archive may hold.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_entries: u64,
    /// Largest single entry, uncompressed (K, M, G suffixes allowed).
    #[arg(long, value_name = "SIZE", default_value = "8G", value_parser = parse_size)]
    pub max_entry_size: u64,
    /// Largest total of all entries, uncompressed.
    #[arg(long, value_name = "SIZE", default_value = "32G", value_parser = parse_size)]
    pub max_total_size: u64,
    /// Most uncompressed bytes per compressed byte once 16 MiB came out (a gzip bomb); 0: no
    /// limit.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_ratio: u64,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The archive (a .tar.gz file).
    pub file: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Decode the sections of these domains (plugin names, comma separated).
    #[arg(long, value_delimiter = ',', value_name = "DOMAINS")]
    pub domain: Vec<String>,
    /// Print the records of the chosen domains (all domains when none is chosen) in their
    /// canonical JSON form.
    #[arg(long)]
    pub records: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The archive (a .tar.gz file).
    pub file: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `rewrite`.
#[derive(Debug, Args)]
pub struct RewriteArgs {
    /// The archive to read.
    pub file: PathBuf,
    /// Folder for the new archive (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Encode every record anew instead of copying the bytes of records that decoded cleanly.
    #[arg(long)]
    pub reencode: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl Cli {
    /// Whether the command asked for JSON output.
    pub fn json(&self) -> bool {
        match &self.command {
            Command::Inspect(a) => a.json,
            Command::Verify(a) => a.json,
            Command::Rewrite(a) => a.json,
            Command::Plugins(a) => a.json,
            Command::Diff(a) => a.json,
            Command::Merge(a) => a.json,
            Command::Filter(a) => a.json,
            Command::Export(a) => a.json,
            Command::Plan(a) => a.json,
            Command::Import(a) => a.json,
            Command::Files(a) => match &a.command {
                FilesCommand::List { json }
                | FilesCommand::Download { json, .. }
                | FilesCommand::Upload { json, .. }
                | FilesCommand::Delete { json, .. } => *json,
            },
        }
    }
}

impl ReadArgs {
    /// The archive limits these options describe.
    pub fn limits(&self) -> emqx_archive::Limits {
        emqx_archive::Limits {
            max_entries: self.max_entries,
            max_entry_bytes: self.max_entry_size,
            max_total_bytes: self.max_total_size,
            max_ratio: self.max_ratio,
            ..emqx_archive::Limits::default()
        }
    }
}

impl Default for ReadArgs {
    fn default() -> Self {
        ReadArgs {
            max_entries: 100_000,
            max_entry_size: 8 << 30,
            max_total_size: 32 << 30,
            max_ratio: 200,
        }
    }
}
