//! `emqx-backup plugins`.

use crate::cli::PluginsArgs;
use emqx_backup_plugin_host::Registry;
use serde_json::json;

/// Lists the search path, the plugins loaded and what each owns.
pub fn run(args: &PluginsArgs, registry: &Registry) -> anyhow::Result<()> {
    if args.json {
        let doc = json!({
            "search_path": registry.searched,
            "plugins": registry.plugins.iter().map(|p| json!({
                "file": p.path,
                "manifest": p.manifest,
            })).collect::<Vec<_>>(),
            "shadowed": registry.shadowed,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("search path:");
    for d in &registry.searched {
        let state = if d.dir.is_dir() { "" } else { "  (absent)" };
        println!("  {:<26} {}{state}", d.origin, d.dir.display());
    }
    if registry.plugins.is_empty() {
        println!("no plugins found: every section passes through unowned");
    }
    for p in &registry.plugins {
        let m = &p.manifest;
        println!("{} {}  {}", m.name, m.version, p.path.display());
        if !m.description.is_empty() {
            println!("  {}", m.description);
        }
        let list = |v: &Vec<String>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        println!("  table sets  {}", list(&m.table_sets));
        println!("  tables      {}", list(&m.tables));
        println!("  roots       {}", list(&m.roots));
        if !m.reads_roots.is_empty() {
            println!("  reads       {}", list(&m.reads_roots));
        }
        println!("  reads EMQX  {}", m.emqx_versions);
    }
    for s in &registry.shadowed {
        println!(
            "shadowed (a file of the same name came earlier): {}",
            s.display()
        );
    }
    Ok(())
}
