//! One module per subcommand.

mod inspect;
mod rewrite;
mod verify;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Verify(args) => verify::run(args, cli.quiet, cli.verbose),
        Command::Rewrite(args) => rewrite::run(args, cli.quiet),
    }
}
