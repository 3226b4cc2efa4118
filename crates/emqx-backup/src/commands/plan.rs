//! `emqx-backup plan` and `import`: what importing an archive into a live node changes, the
//! import itself, and the check afterwards that the node holds exactly what was planned.

use super::live::{self, Target, Ui};
use super::report::plan_text;
use crate::cli::{ImportArgs, PlanArgs, ReadArgs};
use crate::exit::{Mismatch, Usage};
use anyhow::Context;
use emqx_archive::Contents;
use emqx_backup_plugin_host::{plan_import, ImportPlan, Registry};
use emqx_backup_plugin_sdk::{Options, Plan};
use emqx_client::{BackupFile, Client, ClientError};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// The tables EMQX keeps from API-key callers (spec §5.8).
const SENSITIVE_TABLES: [&str; 2] = ["mnesia/emqx_admin", "mnesia/emqx_app"];

/// A plan against a live node, with what it was made from.
struct Planned {
    incoming: Contents,
    target: Target,
    sets: Vec<String>,
    roots: Vec<String>,
    plan: ImportPlan,
    notes: Vec<String>,
}

fn make_plan(
    file: &Path,
    read: &ReadArgs,
    client: &Client,
    registry: &Registry,
    ui: &Ui,
    want_merged: bool,
) -> anyhow::Result<Planned> {
    let limits = read.limits();
    let incoming = live::read_incoming(file, &limits)?;
    let target = live::check_target(client, &incoming)?;
    let (sets, roots) = live::scope_of(&incoming);
    let mut notes = Vec::new();
    let sensitive = incoming
        .entries
        .iter()
        .any(|(rel, _)| SENSITIVE_TABLES.contains(&rel.as_str()));
    if sensitive && client.uses_api_key() {
        notes.push(
            "the archive holds dashboard_users or api_keys: EMQX neither exports these to API keys nor lets API keys import them (403); log in with --username/--password, or drop them with `emqx-backup filter`"
                .to_owned(),
        );
    }
    let mut current = live::export_state(
        client,
        &sets,
        &roots,
        &limits,
        ui,
        &format!("exporting the current state of {}", target.api_node),
    )?;
    live::restrict(&mut current, &sets, &roots, &incoming);
    let options = Options {
        want_merged,
        ..Options::default()
    };
    let plan = plan_import(registry, current, incoming.clone(), &options)?;
    Ok(Planned {
        incoming,
        target,
        sets,
        roots,
        plan,
        notes,
    })
}

fn totals(domains: &[Plan]) -> (u64, u64, u64) {
    domains.iter().fold((0, 0, 0), |(i, u, n), p| {
        let (a, b, c) = p.totals();
        (i + a, u + b, n + c)
    })
}

fn print_plan(p: &Planned, file: &Path, ui: &Ui) {
    if ui.quiet || ui.json {
        return;
    }
    println!(
        "plan: {} into {} ({} {}, {})",
        file.display(),
        p.target.describe(),
        p.target.info.edition_code().unwrap_or("?"),
        p.target.info.version,
        p.target.info.role
    );
    for d in &p.plan.domains {
        print!("{}", plan_text(d, ui.verbose));
    }
    for n in &p.notes {
        println!("note: {n}");
    }
    let (i, u, n) = totals(&p.plan.domains);
    println!("total: {i} to insert, {u} to update, {n} unchanged; nothing is deleted");
}

/// Prints the plan of importing FILE into the node.
pub fn plan(args: &PlanArgs, client: &Client, registry: &Registry, ui: &Ui) -> anyhow::Result<()> {
    let p = make_plan(&args.file, &args.read, client, registry, ui, false)?;
    if ui.json {
        let (i, u, n) = totals(&p.plan.domains);
        let doc = json!({
            "ok": true,
            "file": args.file,
            "node": p.target.api_node,
            "runs_on": p.target.runs_on,
            "target": p.target.info,
            "table_sets": p.sets,
            "root_keys": p.roots,
            "totals": {"insert": i, "update": u, "unchanged": n},
            "plan": p.plan.domains,
            "notes": p.notes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_plan(&p, &args.file, ui);
    }
    Ok(())
}

/// A difference between the planned and the actual state, by key.
#[derive(Debug, Serialize)]
pub struct Difference {
    /// The domain.
    pub domain: String,
    /// Table or root.
    pub scope: String,
    /// Keys the node holds that the plan did not lead to.
    pub unexpected: Vec<String>,
    /// Keys whose value differs from the plan.
    pub different: Vec<String>,
    /// Keys the plan expected that the node lacks.
    pub missing: Vec<String>,
}

/// Compares the state the plan leads to with the node's state, per domain through the plugins.
fn compare(
    registry: &Registry,
    expected: Contents,
    actual: Contents,
) -> anyhow::Result<Vec<Difference>> {
    let options = Options {
        list_kept: true,
        ..Options::default()
    };
    let diff = plan_import(registry, expected, actual, &options)?;
    let mut out = Vec::new();
    for d in diff.domains {
        for s in d.scopes {
            let missing = s.kept_keys.unwrap_or_default();
            if s.insert.is_empty() && s.update.is_empty() && missing.is_empty() {
                continue;
            }
            out.push(Difference {
                domain: d.domain.clone(),
                scope: s.name,
                unexpected: s.insert,
                different: s.update,
                missing,
            });
        }
    }
    Ok(out)
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("{}", path.display()))?;
    Ok(hex::encode(h.finalize()))
}

/// Puts the file on the API node; `true` when we uploaded it (so may delete it on failure).
fn upload(client: &Client, file: &Path, api_node: &str, ui: &Ui) -> anyhow::Result<bool> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let existing: Option<BackupFile> = client
        .list_files()?
        .into_iter()
        .find(|f| f.filename == name && f.node == api_node);
    if let Some(found) = existing {
        // The same name is there already (EMQX refuses a second upload): reuse it only when
        // it is the same file.
        let dir = tempfile::tempdir().context("a temporary folder")?;
        let tmp = live::download_temp(client, &found, dir.path(), ui)?;
        if sha256_file(&tmp.path)? == sha256_file(file)? {
            ui.step(format!(
                "{name} is already on {api_node} (same bytes): not uploading"
            ));
            return Ok(false);
        }
        return Err(crate::exit::Refused(format!(
            "Backup file \"{name}\" already exists on {api_node} with other content; delete it first (emqx-backup files delete {name} --from-node {api_node})"
        ))
        .into());
    }
    let mut bar = ui.progress(&format!("uploading {name} to {api_node}"));
    client.upload(file, &mut |d, t| bar.update(d, t))?;
    bar.finish();
    Ok(true)
}

fn confirm(p: &Planned, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Usage(
            "stdin is not a terminal: pass --yes to import without confirmation".into(),
        )
        .into());
    }
    let (i, u, _) = totals(&p.plan.domains);
    print!(
        "import {i} inserts and {u} updates into {}? [y/N] ",
        p.target.describe()
    );
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES"))
}

/// Plans, confirms, uploads, imports and checks.
pub fn import(
    args: &ImportArgs,
    client: &Client,
    registry: &Registry,
    ui: &Ui,
) -> anyhow::Result<()> {
    let p = make_plan(&args.file, &args.read, client, registry, ui, true)?;
    print_plan(&p, &args.file, ui);
    let (i, u, n) = totals(&p.plan.domains);
    if args.dry_run {
        if ui.json {
            let doc = json!({
                "ok": true, "dry_run": true, "file": args.file, "node": p.target.api_node,
                "totals": {"insert": i, "update": u, "unchanged": n},
                "plan": p.plan.domains, "notes": p.notes,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else if !ui.quiet {
            println!("dry run: nothing imported");
        }
        return Ok(());
    }
    if !ui.json && !confirm(&p, args.yes)? {
        if !ui.quiet {
            println!("not imported");
        }
        return Ok(());
    }
    if ui.json && !args.yes && !std::io::stdin().is_terminal() {
        return Err(Usage("--json import needs --yes".into()).into());
    }
    let name = p.incoming.base.clone() + ".tar.gz";
    let api_node = p.target.api_node.clone();
    let uploaded = upload(client, &args.file, &api_node, ui)?;
    let on = p.target.describe();
    let spin = ui.spinner(&format!("importing {name} on {on}"));
    let result = client.import(&name, Some(&api_node));
    if let Some(s) = spin {
        s.finish_and_clear();
    }
    if let Err(e) = result {
        if uploaded {
            let _ = client.delete(&name, Some(&api_node));
        }
        let explained = match &e {
            ClientError::Forbidden { .. } if client.uses_api_key() => anyhow::Error::new(e)
                .context(format!(
                    "{name}: the node refused the import: EMQX does not let API keys import archives holding dashboard_users or api_keys (emqx_admin, emqx_app); import as a dashboard administrator (--username/--password), or drop those table sets (emqx-backup filter --table-sets ...)"
                )),
            _ => anyhow::Error::new(e).context(format!("{name}: import on {on}")),
        };
        return Err(explained);
    }
    ui.step(format!(
        "imported {name} on {on}; checking the node's state"
    ));
    let mut after = live::export_state(
        client,
        &p.sets,
        &p.roots,
        &args.read.limits(),
        ui,
        &format!("exporting the new state of {api_node}"),
    )?;
    live::restrict(&mut after, &p.sets, &p.roots, &p.incoming);
    let expected = p
        .plan
        .merged
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the plan has no merged state"))?;
    let differences = compare(registry, expected, after)?;
    if !differences.is_empty() {
        let mut msg = format!(
            "{name} was imported on {on}, but the node's state differs from the plan in {} tables or roots:",
            differences.len()
        );
        for d in &differences {
            msg.push_str(&format!("\n  {} {}:", d.domain, d.scope));
            for k in &d.missing {
                msg.push_str(&format!(" -{k}"));
            }
            for k in &d.unexpected {
                msg.push_str(&format!(" +{k}"));
            }
            for k in &d.different {
                msg.push_str(&format!(" ~{k}"));
            }
        }
        return Err(Mismatch(msg).into());
    }
    if ui.json {
        let doc = json!({
            "ok": true, "file": args.file, "node": api_node, "runs_on": p.target.runs_on,
            "filename": name,
            "uploaded": uploaded,
            "totals": {"insert": i, "update": u, "unchanged": n},
            "plan": p.plan.domains, "notes": p.notes,
            "verified": true,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !ui.quiet {
        println!(
            "imported {name} into {on}: verified, {i} inserted and {u} updated as planned, nothing else changed"
        );
    }
    Ok(())
}
