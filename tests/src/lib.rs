//! Shared helpers for the cross-crate tests.

use std::path::PathBuf;

pub mod hostile;

/// The EMQX archives under `tests/fixtures/emqx-archives/*.tar.gz`, sorted by name.
pub fn fixture_archives() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("emqx-archives");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("read_dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".tar.gz"))
        })
        .collect();
    out.sort();
    out
}

/// Runs the Erlang/OTP oracle escripts of `tests/oracle/` (see its README).
pub mod oracle {
    use erlang_term::{decode, encode_to_vec, AtomEncoding, Term};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The `escript` executable found on `PATH`, if any.
    pub fn escript_path() -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("escript"))
            .find(|p| is_executable(p))
    }

    fn is_executable(p: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }

    /// True when `escript` is on `PATH`.
    pub fn otp_available() -> bool {
        escript_path().is_some()
    }

    /// True when the oracle can run; otherwise prints a SKIPPED banner, or panics if `REQUIRE_OTP=1`.
    pub fn require_otp() -> bool {
        if otp_available() {
            return true;
        }
        let required = std::env::var("REQUIRE_OTP").is_ok_and(|v| v == "1");
        if required {
            panic!(
                "REQUIRE_OTP=1 but `escript` is not on PATH: the OTP oracle tests cannot run \
                 (install Erlang/OTP, e.g. apt-get install erlang-nox)"
            );
        }
        // Written to the process's stderr directly, not with eprintln!, so that the test
        // harness's output capture does not hide it.
        use std::io::Write;
        static BANNER: std::sync::Once = std::sync::Once::new();
        let mut err = std::io::stderr().lock();
        BANNER.call_once(|| {
            let _ = err.write_all(
                b"\n\
                  *************************************************************************\n\
                  * SKIPPED: OTP oracle tests need `escript` (apt-get install erlang-nox) *\n\
                  * `escript` is not on PATH, so these tests checked NOTHING against OTP. *\n\
                  * Set REQUIRE_OTP=1 to turn this skip into a failure (e.g. in CI).      *\n\
                  *************************************************************************\n",
            );
        });
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let _ = writeln!(err, "SKIPPED (no escript on PATH): {test}");
        false
    }

    /// Path of an escript in `tests/oracle/`.
    pub fn script(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("oracle")
            .join(name)
    }

    /// Runs `mnesia_oracle.escript ARGS_BEFORE OUT ARGS_AFTER` and decodes the term in OUT.
    fn run_oracle(args_before_out: &[&str], args_after_out: &[PathBuf]) -> Term {
        let escript = escript_path().expect("escript not on PATH (call require_otp() first)");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out.bin");
        let output = Command::new(&escript)
            .arg(script("mnesia_oracle.escript"))
            .args(args_before_out)
            .arg(&out)
            .args(args_after_out)
            .env("TMPDIR", dir.path())
            .output()
            .expect("cannot run escript");
        assert!(
            output.status.success(),
            "oracle {args_before_out:?} {args_after_out:?} failed ({}):\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let bytes = std::fs::read(&out).expect("oracle wrote no OUT file");
        decode(&bytes).unwrap_or_else(|e| panic!("cannot decode oracle output: {e}"))
    }

    /// `mnesia_oracle.escript read FILE OUT`: `{ok, Items}` or `{error, Reason}`.
    pub fn oracle_read(path: &Path) -> Term {
        run_oracle(&["read", path.to_str().expect("UTF-8 path")], &[])
    }

    /// `mnesia_oracle.escript restore OUT [--seed S] FILE...`: `[{Tab, Status, SortedRows}]`.
    pub fn oracle_restore(files: &[PathBuf], seed: Option<&[(String, Vec<Term>)]>) -> Term {
        let seed_dir = tempfile::tempdir().expect("tempdir");
        let mut args: Vec<PathBuf> = Vec::new();
        if let Some(seed) = seed {
            let term = Term::list(
                seed.iter()
                    .map(|(tab, recs)| Term::tuple(vec![Term::atom(tab), Term::list(recs.clone())]))
                    .collect(),
            );
            let path = seed_dir.path().join("seed.bin");
            std::fs::write(
                &path,
                encode_to_vec(&term, AtomEncoding::Utf8).expect("encode seed"),
            )
            .expect("write seed");
            args.push("--seed".into());
            args.push(path);
        }
        args.extend(files.iter().cloned());
        run_oracle(&["restore"], &args)
    }
}

/// Builds the domain plugins, the test plugin of another ABI and the `emqx-backup` binary so
/// that tests can load and run them:
/// `cargo test` builds no `cdylib`. Runs once per test process; later calls are free.
pub mod plugins {
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::OnceLock;

    /// The workspace root.
    pub fn workspace() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ sits in the workspace")
            .to_owned()
    }

    /// Package names of every crate in `plugins/`.
    pub fn plugin_packages() -> Vec<String> {
        let dir = workspace().join("plugins");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("Cargo.toml")).ok())
            .filter_map(|toml| {
                toml.lines().find_map(|l| {
                    l.strip_prefix("name = \"")?
                        .strip_suffix('"')
                        .map(str::to_owned)
                })
            })
            .collect();
        names.sort();
        names
    }

    /// Builds every plugin (dev profile) and returns the folder holding the libraries.
    pub fn build() -> PathBuf {
        static BUILT: OnceLock<PathBuf> = OnceLock::new();
        BUILT
            .get_or_init(|| {
                let mut cmd = Command::new(env!("CARGO"));
                cmd.arg("build").current_dir(workspace());
                for p in plugin_packages() {
                    cmd.args(["-p", &p]);
                }
                cmd.args([
                    "-p",
                    "emqx-backup-test-old-abi-plugin",
                    "-p",
                    "emqx-backup",
                    "-p",
                    "emqx-sim",
                ]);
                let out = cmd.output().expect("run cargo build for the plugins");
                assert!(
                    out.status.success(),
                    "building the plugins failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| workspace().join("target"));
                target.join("debug")
            })
            .clone()
    }

    /// `cargo` in the workspace root without the variables cargo sets for a running test (a
    /// build script watching one of them would rebuild what a shell's `cargo` built).
    pub fn cargo() -> Command {
        let mut cmd = Command::new(env!("CARGO"));
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_PKG_")
                || key.starts_with("CARGO_BIN_EXE_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                ]
                .contains(&key.as_ref())
            {
                cmd.env_remove(key.as_ref());
            }
        }
        cmd.current_dir(workspace());
        cmd
    }

    /// The `emqx-backup` binary, built with the plugins.
    pub fn binary() -> PathBuf {
        build().join(format!("emqx-backup{}", std::env::consts::EXE_SUFFIX))
    }

    /// The file name a library gets on this platform (`libname.so`).
    pub fn library_file(lib: &str) -> String {
        format!(
            "{}{lib}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    }
}
