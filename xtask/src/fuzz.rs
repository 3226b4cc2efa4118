//! `cargo xtask fuzz`: seeds the cargo-fuzz corpora from the real EMQX archives, builds the
//! targets of `fuzz/` and runs each for a while, printing executions and crashes per target.
//!
//! cargo-fuzz needs nightly flags (`-Zsanitizer=address`); the stable toolchain accepts them
//! with `RUSTC_BOOTSTRAP=1`, which is set for the fuzz build and runs only.

use anyhow::{bail, ensure, Context};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The fuzz targets, one per parser.
pub const TARGETS: [&str; 4] = ["term_decode", "disk_log", "hocon_parse", "archive_read"];

/// Executions and crashes of one target's run.
struct Figures {
    target: String,
    executions: u64,
    crashes: Vec<PathBuf>,
    seconds: u64,
}

/// Seeds, builds and runs every target (or those named) for `seconds` each.
pub fn run(seconds: u64, targets: &[String]) -> anyhow::Result<()> {
    let chosen: Vec<&str> = if targets.is_empty() {
        TARGETS.to_vec()
    } else {
        for t in targets {
            ensure!(
                TARGETS.contains(&t.as_str()),
                "unknown fuzz target {t:?}; targets: {}",
                TARGETS.join(", ")
            );
        }
        targets.iter().map(String::as_str).collect()
    };
    let fuzz = crate::root().join("fuzz");
    let version = fuzz_command(&fuzz).arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        bail!("cargo-fuzz is not installed: run `cargo install cargo-fuzz`");
    }
    let seeded = seed(&fuzz.join("corpus"))?;
    for (target, n) in &seeded {
        println!("seeded {target}: {n} inputs from the fixtures");
    }
    let status = fuzz_command(&fuzz)
        .args(["build", "-O"])
        .status()
        .context("cargo fuzz build")?;
    ensure!(status.success(), "cargo fuzz build failed");
    let mut figures = Vec::new();
    for target in chosen {
        figures.push(run_target(&fuzz, target, seconds)?);
    }
    println!();
    println!(
        "{:<14} {:>8} {:>14} {:>8}",
        "target", "seconds", "executions", "crashes"
    );
    for f in &figures {
        println!(
            "{:<14} {:>8} {:>14} {:>8}",
            f.target,
            f.seconds,
            f.executions,
            f.crashes.len()
        );
    }
    let crashes: Vec<&PathBuf> = figures.iter().flat_map(|f| &f.crashes).collect();
    if !crashes.is_empty() {
        for c in &crashes {
            println!("crash input: {}", c.display());
        }
        bail!(
            "{} crashes found; reproduce with `RUSTC_BOOTSTRAP=1 cargo fuzz run -O <target> <file>` in fuzz/",
            crashes.len()
        );
    }
    Ok(())
}

/// `cargo fuzz` in `fuzz/`, with the stable toolchain allowed nightly flags.
fn fuzz_command(fuzz: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.arg("fuzz")
        .current_dir(fuzz)
        .env("RUSTC_BOOTSTRAP", "1");
    cmd
}

fn artifacts(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|r| r.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn run_target(fuzz: &Path, target: &str, seconds: u64) -> anyhow::Result<Figures> {
    let corpus = fuzz.join("corpus").join(target);
    let artifact_dir = fuzz.join("artifacts").join(target);
    std::fs::create_dir_all(&artifact_dir)?;
    let before = artifacts(&artifact_dir);
    let scratch = tempfile::tempdir()?;
    println!("fuzzing {target} for {seconds} s");
    let mut child = fuzz_command(fuzz)
        .args(["run", "-O", target])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=30")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .env("FUZZ_TMPDIR", scratch.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cargo fuzz run {target}"))?;
    let mut log = String::new();
    child
        .stderr
        .take()
        .context("fuzzer output")?
        .read_to_string(&mut log)?;
    let status = child.wait()?;
    let executions = executions(&log);
    let crashes: Vec<PathBuf> = artifacts(&artifact_dir)
        .difference(&before)
        .cloned()
        .collect();
    if !status.success() && crashes.is_empty() {
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "fuzzing {target} failed without a crash input:\n{}",
            tail.join("\n")
        );
    }
    if !crashes.is_empty() {
        let report: Vec<&str> = log
            .lines()
            .skip_while(|l| !l.contains("ERROR") && !l.contains("panicked"))
            .take(40)
            .collect();
        println!("{target}: crash\n{}", report.join("\n"));
    }
    Ok(Figures {
        target: target.to_owned(),
        executions,
        crashes,
        seconds,
    })
}

/// Executions from libFuzzer's log: the final stats, else the last status line.
fn executions(log: &str) -> u64 {
    let stat = log.lines().rev().find_map(|l| {
        l.strip_prefix("stat::number_of_executed_units:")
            .and_then(|v| v.trim().parse().ok())
    });
    stat.or_else(|| {
        log.lines().rev().find_map(|l| {
            let rest = l.strip_prefix('#')?;
            rest.split_whitespace().next()?.parse().ok()
        })
    })
    .unwrap_or(0)
}

/// Writes seed inputs for every target into `corpus/<target>/`, named by their SHA-256.
fn seed(corpus: &Path) -> anyhow::Result<Vec<(&'static str, usize)>> {
    let mut terms = Vec::new();
    let mut logs = Vec::new();
    let mut hocon = Vec::new();
    let mut archives = Vec::new();
    let fixtures = crate::root().join("tests/fixtures/emqx-archives");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .with_context(|| fixtures.display().to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    files.sort();
    for file in &files {
        let mut rerooted = tar::Builder::new(Vec::new());
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(file)?);
        let mut archive = tar::Archive::new(gz);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let name = entry.path()?.to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            let Some((_, rel)) = name.split_once('/') else {
                continue;
            };
            if rel.is_empty() || rel.ends_with('/') || !entry.header().entry_type().is_file() {
                continue;
            }
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            rerooted.append_data(&mut header, format!("f/{rel}"), bytes.as_slice())?;
            if rel.ends_with(".hocon") {
                hocon.push(bytes);
            } else if rel.starts_with("mnesia/") {
                let mut reader = mnesia_backup::BackupReader::open(
                    rel,
                    bytes.as_slice(),
                    mnesia_backup::ReadOptions::default(),
                )?;
                let (header_item, schema_item) = reader.preamble_raw();
                terms.push(header_item.to_vec());
                terms.push(schema_item.to_vec());
                while let Some(r) = reader.next_raw()? {
                    terms.push(r.bytes.to_vec());
                }
                logs.push(bytes);
            }
        }
        let tar = rerooted.into_inner()?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar)?;
        archives.push([&[0u8][..], &tar].concat());
        archives.push([&[1u8][..], &gz.finish()?].concat());
    }
    let hocon_fixtures = crate::root().join("crates/emqx-hocon/tests/fixtures");
    if let Ok(read) = std::fs::read_dir(&hocon_fixtures) {
        for dir in read.filter_map(Result::ok) {
            for name in ["cluster.hocon", "META.hocon"] {
                if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
                    hocon.push(bytes);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (target, inputs) in [
        ("term_decode", terms),
        ("disk_log", logs),
        ("hocon_parse", hocon),
        ("archive_read", archives),
    ] {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        let mut written = 0;
        for input in inputs {
            use sha2::Digest;
            let name = hex::encode(sha2::Sha256::digest(&input));
            let path = dir.join(&name[..40]);
            if !path.exists() {
                std::fs::write(&path, &input)?;
            }
            written += 1;
        }
        out.push((target, written));
    }
    Ok(out)
}
