//! `emqx-backup merge`.

use super::report::plan_text;
use crate::cli::MergeArgs;
use emqx_archive::export_file_name;
use emqx_backup_plugin_host::{plan_import, Registry};
use emqx_backup_plugin_sdk::Options;
use serde_json::json;

/// Writes the archive an import of INCOMING into a node holding BASE would leave.
pub fn run(
    args: &MergeArgs,
    registry: &Registry,
    quiet: bool,
    verbose: bool,
) -> anyhow::Result<()> {
    let limits = args.read.limits();
    let (base, incoming) = super::read_pair(&args.base, &args.incoming, &limits)?;
    let options = Options {
        want_merged: !args.dry_run,
        ..Options::default()
    };
    let plan = plan_import(registry, base, incoming, &options)?;
    let written = match (&args.output, plan.merged) {
        (Some(dir), Some(merged)) if !args.dry_run => {
            let name = export_file_name(chrono::Local::now());
            let written = merged.write(dir, &name)?;
            emqx_archive::inspect(&written, &limits)?;
            Some(written)
        }
        _ => None,
    };
    if args.json {
        let doc = json!({"ok": true, "file": written, "plan": plan.domains});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !quiet {
        for p in &plan.domains {
            print!("{}", plan_text(p, verbose));
        }
        match &written {
            Some(w) => println!("wrote {}", w.display()),
            None => println!("dry run: nothing written"),
        }
    }
    Ok(())
}
