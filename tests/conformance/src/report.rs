//! Outcomes of cases: loud SKIPPED lines on stderr, and one JSON line per case appended to
//! `$CONFORMANCE_REPORT` when set (read by `cargo xtask compat`).

use serde_json::json;
use std::io::Write;

/// The environment variable naming the report file.
pub const REPORT_ENV: &str = "CONFORMANCE_REPORT";

/// What became of a case.
#[derive(Debug)]
pub enum Outcome {
    /// It ran and held.
    Passed,
    /// It ran and did not hold.
    Failed(String),
    /// It did not run, for this reason.
    Skipped(String),
}

/// Records `outcome` of `case` on `broker`: stderr for skips and failures, the report file.
pub fn record(case: &str, broker: &str, outcome: &Outcome) {
    let (status, reason) = match outcome {
        Outcome::Passed => ("passed", String::new()),
        Outcome::Failed(r) => ("failed", r.clone()),
        Outcome::Skipped(r) => ("skipped", r.clone()),
    };
    // Written to the process's stderr directly so the harness's capture does not hide it.
    match outcome {
        Outcome::Skipped(r) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED {case} on {broker}: {r}");
        }
        Outcome::Failed(r) => {
            let _ = writeln!(std::io::stderr(), "FAILED {case} on {broker}: {r}");
        }
        Outcome::Passed => {}
    }
    write_report(case, broker, status, &reason);
}

/// Appends one line to `$CONFORMANCE_REPORT`, when set.
fn write_report(case: &str, broker: &str, status: &str, reason: &str) {
    if let Some(path) = std::env::var_os(REPORT_ENV) {
        let line = json!({"case": case, "broker": broker, "status": status, "reason": reason});
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// The outcomes of the cases of one broker; [`Cases::finish`] fails the test if any failed.
pub struct Cases {
    broker: String,
    failed: Vec<String>,
}

impl Cases {
    /// Cases run against `broker`.
    pub fn new(broker: &str) -> Cases {
        Cases {
            broker: broker.to_owned(),
            failed: Vec::new(),
        }
    }

    /// Runs one case and records it; `Ok(None)` is passed, `Ok(Some(reason))` skipped.
    pub fn run(&mut self, case: &str, f: impl FnOnce() -> anyhow::Result<Option<String>>) {
        let outcome = match f() {
            Ok(None) => Outcome::Passed,
            Ok(Some(reason)) => Outcome::Skipped(reason),
            Err(e) => Outcome::Failed(format!("{e:#}")),
        };
        if let Outcome::Failed(r) = &outcome {
            self.failed.push(format!("{case}: {r}"));
        }
        record(case, &self.broker, &outcome);
    }

    /// Records every one of `cases` as skipped for `reason` (one line on stderr for all).
    pub fn skip_all(&mut self, cases: &[&str], reason: &str) {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {} cases on {}: {reason}",
            cases.len(),
            self.broker
        );
        for c in cases {
            write_report(c, &self.broker, "skipped", reason);
        }
    }

    /// Panics with every failure, if any.
    pub fn finish(self) {
        assert!(
            self.failed.is_empty(),
            "{} case(s) failed on {}:\n{}",
            self.failed.len(),
            self.broker,
            self.failed.join("\n")
        );
    }
}
