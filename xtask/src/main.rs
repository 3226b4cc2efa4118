//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.

mod bench;
mod clidocs;
mod compat;
mod demo;
mod dist;
mod fuzz;
mod image;
mod synth;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::Command;

/// Project automation.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build, then back up a simulated EMQX node with data in every domain and restore it into
    /// a second node, showing inspect, verify, the plan and the checks.
    Demo,
    /// Measure `verify` of a 7-table archive with a million records per table (speed and peak memory),
    /// then run the criterion benchmarks.
    Bench {
        /// Records per table in the generated archive.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Timed runs of verify.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Skip `cargo bench`.
        #[arg(long)]
        no_criterion: bool,
    },
    /// Measure the plan of merging two archives of a million authn users each, half shared
    /// (`emqx-backup merge --dry-run`): speed and peak memory.
    BenchMerge {
        /// Users per archive.
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
        /// Timed runs.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Build the local Docker image `emqx-sim:dev` (emqx-sim and the plugins, no pull).
    Image {
        /// Import even when the image already holds the same root filesystem.
        #[arg(long)]
        force: bool,
    },
    /// Run the conformance suite against every broker and print a table of cases by broker.
    Compat {
        /// Skip `cargo xtask image` (use the image as it is).
        #[arg(long)]
        no_image: bool,
    },
    /// Build the release tarball dist/emqx-backup-<version>-<target>.tar.gz: binaries, plugins,
    /// README, LICENSE, man pages, shell completions and SHA256SUMS.
    Dist {
        /// Folder for the tarball [default: dist/ in the workspace].
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Fuzz the term decoder, the disk_log reader, the HOCON parser and the archive reader
    /// (cargo-fuzz, run on stable with RUSTC_BOOTSTRAP=1): seed from the fixtures, run each
    /// target, print executions and crashes per target.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Only these targets (term_decode, disk_log, hocon_parse, archive_read).
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
    },
    /// Write a synthetic archive (7 tables) for tests and benchmarks.
    Synth {
        /// Records per table.
        #[arg(long, default_value_t = 1000)]
        records: usize,
        /// Output folder.
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Demo => demo::run(),
        Task::Bench {
            records,
            runs,
            no_criterion,
        } => bench::run(records, runs, !no_criterion),
        Task::BenchMerge { users, runs } => bench::merge_plan(users, runs),
        Task::Image { force } => image::run(force),
        Task::Compat { no_image } => compat::run(!no_image),
        Task::Dist { out_dir } => dist::run(out_dir),
        Task::Fuzz { seconds, targets } => fuzz::run(seconds, &targets),
        Task::Synth { records, output } => {
            let path = synth::write_archive(&output, records)?;
            println!("{}", path.display());
            Ok(())
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// Runs cargo with `args` in the workspace root and fails if it fails.
fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // `cargo run` gives xtask the variables of its own package; a build script that watches one
    // of them (ring watches CARGO_MANIFEST_DIR) would rebuild each time if they were passed on.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&key.as_ref())
        {
            cmd.env_remove(key.as_ref());
        }
    }
    let status = cmd.args(args).current_dir(root()).status()?;
    anyhow::ensure!(status.success(), "cargo {} failed", args.join(" "));
    Ok(())
}

/// Builds `emqx-backup`, `emqx-sim` and every domain plugin of `plugins/` in the release profile.
fn build_release_with_plugins() -> anyhow::Result<()> {
    let mut args: Vec<String> = ["build", "--release", "-p", "emqx-backup", "-p", "emqx-sim"]
        .map(String::from)
        .to_vec();
    for entry in std::fs::read_dir(root().join("plugins"))? {
        let manifest = entry?.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if let Some(name) = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"'))
        {
            args.push("-p".into());
            args.push(name.to_owned());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo(&args)
}

/// The cargo target directory.
fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
}

/// Path of a binary built by `cargo build --release`.
fn release_bin(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

/// The package names of the domain plugins in `plugins/`, sorted.
fn plugin_packages() -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("plugins"))? {
        let manifest = entry?.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if let Some(name) = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"'))
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}
