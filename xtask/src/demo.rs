//! `cargo xtask demo`: the archive round trip, end to end, on a real EMQX archive.

use std::process::Command;

/// Builds the tool, then inspects, verifies and rewrites a real EMQX 5.3.1 archive and verifies the result.
pub fn run() -> anyhow::Result<()> {
    crate::build_release_with_plugins()?;
    let bin = crate::release_bin("emqx-backup");
    let fixture = crate::root().join("tests/fixtures/emqx-archives/emqx-export-upload-ce.tar.gz");
    let out = tempfile::tempdir()?;
    let step = |title: &str, args: &[&std::ffi::OsStr]| -> anyhow::Result<String> {
        println!("\n==> emqx-backup {title}");
        let o = Command::new(&bin).args(args).output()?;
        print!("{}", String::from_utf8_lossy(&o.stdout));
        eprint!("{}", String::from_utf8_lossy(&o.stderr));
        anyhow::ensure!(o.status.success(), "emqx-backup {title} failed");
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    };
    step(
        "inspect (a backup written by EMQX 5.3.1)",
        &["inspect".as_ref(), fixture.as_os_str()],
    )?;
    step("verify", &["verify".as_ref(), fixture.as_os_str()])?;
    let written = step(
        "rewrite (decode every entry, encode it again)",
        &[
            "rewrite".as_ref(),
            fixture.as_os_str(),
            "-o".as_ref(),
            out.path().as_os_str(),
        ],
    )?;
    let path = written
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("wrote "))
        .ok_or_else(|| anyhow::anyhow!("no output path"))?;
    step(
        "verify (the rewritten archive, manifest included)",
        &["verify".as_ref(), path.as_ref()],
    )?;
    println!("\nThe live part of the demo (a simulated EMQX node backed up and restored) arrives with emqx-sim.");
    Ok(())
}
