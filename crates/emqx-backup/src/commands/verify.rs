//! `emqx-backup verify`.

use crate::cli::VerifyArgs;

/// Checks the archive; errors carry the entry and the fault.
pub fn run(args: &VerifyArgs, quiet: bool, verbose: bool) -> anyhow::Result<()> {
    let i = emqx_archive::inspect(&args.file, &args.read.limits())?;
    let records: u64 = i.tables.values().map(|t| t.records).sum();
    if args.json {
        let doc = serde_json::json!({
            "ok": true,
            "file": i.file,
            "meta": i.meta,
            "tables": i.tables.len(),
            "records": records,
            "config_roots": i.config_roots,
            "manifest": if i.has_manifest { "verified" } else { "absent" },
        });
        println!("{doc}");
    } else if !quiet {
        println!(
            "ok: {}: {} {}, {} tables, {records} records, {} config roots, manifest {}",
            i.file.display(),
            i.meta.edition.as_str(),
            i.meta.version,
            i.tables.len(),
            i.config_roots.len(),
            if i.has_manifest { "verified" } else { "absent" }
        );
        if verbose {
            for (name, t) in &i.tables {
                println!(
                    "  {name}: {} records decoded, attributes [{}]",
                    t.records,
                    t.attributes.join(", ")
                );
            }
            for e in &i.entries {
                println!("  {} {} bytes sha256 {}", e.path, e.size, e.sha256);
            }
        }
    }
    Ok(())
}
