//! `cargo xtask compat`: runs the conformance suite (`tests/conformance`) against every broker
//! and prints a table of cases by broker: passed, failed, or skipped with the reason.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// Builds the image (unless `build_image` is false), runs the suite and prints the table.
pub fn run(build_image: bool) -> anyhow::Result<()> {
    if build_image {
        if let Err(e) = crate::image::run(false) {
            println!(
                "cargo xtask image failed ({e:#}): the container cases will say why they skip"
            );
        }
    }
    let report = crate::target_dir().join("conformance-report.jsonl");
    let _ = std::fs::remove_file(&report);
    println!("running the conformance suite (cargo test -p emqx-backup-conformance)");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "-q", "-p", "emqx-backup-conformance"])
        .env(emqx_report_env(), &report)
        .current_dir(crate::root())
        .output()?;
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let rows: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut brokers: Vec<String> = Vec::new();
    let mut cases: Vec<String> = Vec::new();
    let mut cell: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for r in &rows {
        let case = r["case"].as_str().unwrap_or("?").to_owned();
        let broker = r["broker"].as_str().unwrap_or("?").to_owned();
        if !brokers.contains(&broker) {
            brokers.push(broker.clone());
        }
        if !cases.contains(&case) {
            cases.push(case.clone());
        }
        cell.insert(
            (case, broker),
            (
                r["status"].as_str().unwrap_or("?").to_owned(),
                r["reason"].as_str().unwrap_or("").to_owned(),
            ),
        );
    }
    let width = cases.iter().map(String::len).max().unwrap_or(4).max(4);
    let col = brokers.iter().map(String::len).max().unwrap_or(8).max(8);
    print!("\n{:width$}", "case");
    for b in &brokers {
        print!("  {b:col$}");
    }
    println!();
    let mut reasons: Vec<String> = Vec::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for c in &cases {
        print!("{c:width$}");
        for b in &brokers {
            let text = match cell.get(&(c.clone(), b.clone())) {
                Some((status, reason)) => {
                    match status.as_str() {
                        "passed" => passed += 1,
                        "failed" => failed += 1,
                        _ => skipped += 1,
                    }
                    if reason.is_empty() {
                        status.clone()
                    } else {
                        let i = match reasons.iter().position(|r| r == reason) {
                            Some(i) => i,
                            None => {
                                reasons.push(reason.clone());
                                reasons.len() - 1
                            }
                        };
                        format!("{status} [{}]", i + 1)
                    }
                }
                None => "-".to_owned(),
            };
            print!("  {text:col$}");
        }
        println!();
    }
    println!("(- : the case does not apply to that broker)");
    for (i, r) in reasons.iter().enumerate() {
        let first = r.lines().next().unwrap_or("");
        println!("[{}] {first}", i + 1);
    }
    println!("\n{passed} passed, {failed} failed, {skipped} skipped");
    if rows.is_empty() || !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        for l in tail.into_iter().rev() {
            eprintln!("{l}");
        }
    }
    anyhow::ensure!(
        out.status.success() && failed == 0,
        "the conformance suite failed"
    );
    Ok(())
}

/// The environment variable the suite appends its outcomes to (`report::REPORT_ENV`).
fn emqx_report_env() -> &'static str {
    "CONFORMANCE_REPORT"
}
