//! `emqx-backup rewrite`.

use crate::cli::RewriteArgs;
use emqx_archive::RewriteOptions;

/// Decodes and re-encodes the archive into a new file.
pub fn run(args: &RewriteArgs, quiet: bool) -> anyhow::Result<()> {
    let options = RewriteOptions {
        limits: args.read.limits(),
        reencode: args.reencode,
    };
    let report = emqx_archive::rewrite(&args.file, &args.output, &options)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !quiet {
        println!("wrote {}", report.output.display());
        for (table, n) in &report.tables {
            println!("  {table}: {n} records");
        }
        for e in &report.passed_through {
            println!("  {e}: copied unchanged");
        }
    }
    Ok(())
}
