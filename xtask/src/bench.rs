//! `cargo xtask bench`: whole-process figures for `verify`, then criterion.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Generates (once) a 7-table archive and times `emqx-backup verify` on it.
pub fn run(records: usize, runs: usize, criterion: bool) -> anyhow::Result<()> {
    crate::build_release_with_plugins()?;
    let dir = crate::root()
        .join("target/bench-data")
        .join(format!("{records}"));
    let archive = match existing(&dir) {
        Some(p) => p,
        None => {
            eprintln!(
                "writing a 7-table archive with {records} records per table to {}",
                dir.display()
            );
            let t = Instant::now();
            let p = crate::synth::write_archive(&dir, records)?;
            eprintln!("  written in {:.1} s", t.elapsed().as_secs_f64());
            p
        }
    };
    let size = std::fs::metadata(&archive)?.len();
    println!(
        "archive: {} ({:.1} MB compressed, {} records)",
        archive.display(),
        size as f64 / 1e6,
        7 * records
    );
    let bin = crate::release_bin("emqx-backup");
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let child = Command::new(&bin)
            .args(["-q", "verify"])
            .arg(&archive)
            .spawn()?;
        let (ok, peak) = wait_with_peak_rss(child.id());
        let wall = t.elapsed().as_secs_f64();
        anyhow::ensure!(ok, "verify failed on run {i}");
        println!(
            "  run {}: verify {:.2} s, peak RSS {:.1} MB",
            i + 1,
            wall,
            peak as f64 / 1024.0
        );
        walls.push(wall);
        peaks.push(peak);
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    println!(
        "verify: median {:.2} s over {runs} runs, {:.2} M records/s, peak RSS {:.1} MB",
        median,
        7.0 * records as f64 / median / 1e6,
        *peaks.iter().max().unwrap_or(&0) as f64 / 1024.0
    );
    if criterion {
        crate::cargo(&["bench", "-p", "mnesia-backup", "--bench", "codec"])?;
    }
    Ok(())
}

/// Times `emqx-backup merge --dry-run` (the plan of an import) of two archives of `users` authn
/// users each, half of them shared, half of the shared ones different.
pub fn merge_plan(users: usize, runs: usize) -> anyhow::Result<()> {
    crate::build_release_with_plugins()?;
    let root = crate::root()
        .join("target/bench-data")
        .join(format!("merge-{users}"));
    let make =
        |side: &str, range: std::ops::Range<usize>, variant: usize| -> anyhow::Result<PathBuf> {
            let dir = root.join(side);
            if let Some(p) = existing(&dir) {
                return Ok(p);
            }
            eprintln!("writing {} users to {}", range.len(), dir.display());
            crate::synth::write_authn_archive(&dir, range, variant)
        };
    let base = make("base", 0..users, 0)?;
    let incoming = make("incoming", users / 2..users + users / 2, 1)?;
    let bin = crate::release_bin("emqx-backup");
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let child = Command::new(&bin)
            .args(["-q", "merge", "--dry-run"])
            .arg(&base)
            .arg(&incoming)
            .spawn()?;
        let (ok, peak) = wait_with_peak_rss(child.id());
        let wall = t.elapsed().as_secs_f64();
        anyhow::ensure!(ok, "merge --dry-run failed on run {i}");
        println!(
            "  run {}: plan {:.2} s, peak RSS {:.1} MB",
            i + 1,
            wall,
            peak as f64 / 1024.0
        );
        walls.push(wall);
        peaks.push(peak);
    }
    walls.sort_by(f64::total_cmp);
    println!(
        "merge plan of 2 x {users} authn users (half shared): median {:.2} s over {runs} runs, peak RSS {:.1} MB",
        walls[walls.len() / 2],
        *peaks.iter().max().unwrap_or(&0) as f64 / 1024.0
    );
    Ok(())
}

fn existing(dir: &std::path::Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(emqx_archive::is_export_name)
        })
}

/// Waits for one child and returns whether it exited 0 and its own peak resident set in KiB.
fn wait_with_peak_rss(pid: u32) -> (bool, i64) {
    // SAFETY: wait4 only writes into the zeroed status and rusage we pass, for our own child.
    unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        let r = libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage);
        (
            r > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            usage.ru_maxrss,
        )
    }
}
