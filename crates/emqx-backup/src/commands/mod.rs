//! One module per subcommand.

mod diff;
mod export;
mod files;
mod filter;
mod inspect;
mod live;
mod merge;
mod plan;
mod plugins;
mod report;
mod rewrite;
mod verify;

use crate::cli::{Cli, Command};
use anyhow::Context;
use emqx_backup_plugin_host::{default_search_path, Registry};

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Inspect(args) => inspect::run(args, &registry(cli)?),
        Command::Verify(args) => verify::run(args, &registry(cli)?, cli.quiet, cli.verbose),
        Command::Rewrite(args) => rewrite::run(args, cli.quiet),
        Command::Plugins(args) => plugins::run(args, &registry(cli)?),
        Command::Diff(args) => diff::run(args, &registry(cli)?),
        Command::Merge(args) => merge::run(args, &registry(cli)?, cli.quiet, cli.verbose),
        Command::Filter(args) => filter::run(args, &registry(cli)?, cli.quiet),
        Command::Export(args) => {
            let registry = registry(cli)?;
            export::run(args, &live::connect(cli)?, &registry, &live::Ui::new(cli))
        }
        Command::Plan(args) => {
            let registry = registry(cli)?;
            plan::plan(args, &live::connect(cli)?, &registry, &live::Ui::new(cli))
        }
        Command::Import(args) => {
            let registry = registry(cli)?;
            plan::import(args, &live::connect(cli)?, &registry, &live::Ui::new(cli))
        }
        Command::Files(args) => {
            files::run(&args.command, &live::connect(cli)?, &live::Ui::new(cli))
        }
    }
}

/// Reads two archives at once, one per thread (decompression dominates reading).
fn read_pair(
    a: &std::path::Path,
    b: &std::path::Path,
    limits: &emqx_archive::Limits,
) -> anyhow::Result<(emqx_archive::Contents, emqx_archive::Contents)> {
    let (ra, rb) = std::thread::scope(|s| {
        let other = s.spawn(|| emqx_archive::Contents::read(b, limits));
        let first = emqx_archive::Contents::read(a, limits);
        (first, other.join().expect("reading threads do not panic"))
    });
    Ok((ra?, rb?))
}

/// Loads the plugins of the search path.
fn registry(cli: &Cli) -> anyhow::Result<Registry> {
    if let Some(dir) = &cli.plugin_dir {
        if !dir.is_dir() {
            anyhow::bail!("--plugin-dir {}: no such folder", dir.display());
        }
    }
    let dirs = default_search_path(cli.plugin_dir.as_deref());
    Registry::load(&dirs).context("loading plugins")
}
