//! `cargo xtask dist`: the release tarball `dist/emqx-backup-<version>-<target>.tar.gz`.
//!
//! Under one top folder it holds `bin/emqx-backup`, `bin/emqx-sim`, the domain plugins in
//! `lib/emqx-backup/plugins` (where the host looks next to its binary), `README.md`,
//! `LICENSE`, man pages in `share/man/man1`, completions in `share/completions` and
//! `SHA256SUMS` of every other file. Entries are sorted, owned by 0:0 and stamped with one
//! fixed time, so the same build gives the same bytes; an unchanged tarball is left alone.

use anyhow::{anyhow, ensure, Context};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the plugins live below the top folder.
const PLUGINS: &str = "lib/emqx-backup/plugins";

/// One file of the tarball: its bytes and permission bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// The content.
    pub bytes: Vec<u8>,
    /// `0o755` for programs, `0o644` otherwise.
    pub mode: u32,
}

impl File {
    fn data(bytes: Vec<u8>) -> File {
        File { bytes, mode: 0o644 }
    }

    fn program(bytes: Vec<u8>) -> File {
        File { bytes, mode: 0o755 }
    }
}

/// Builds the release binaries and plugins and writes the tarball into `out_dir` (default
/// `dist/` in the workspace).
pub fn run(out_dir: Option<PathBuf>) -> anyhow::Result<()> {
    crate::build_release_with_plugins()?;
    let version = env!("CARGO_PKG_VERSION");
    let target = host_target()?;
    let top = format!("emqx-backup-{version}-{target}");
    let mut files = collect()?;
    let sums = sha256sums(&files);
    files.insert("SHA256SUMS".to_owned(), File::data(sums.into_bytes()));
    let mtime = source_date()?;
    let tarball = tar_gz(&top, &files, mtime)?;

    let out_dir = out_dir.unwrap_or_else(|| crate::root().join("dist"));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("{}", out_dir.display()))?;
    let path = out_dir.join(format!("{top}.tar.gz"));
    let unchanged = std::fs::read(&path).is_ok_and(|old| old == tarball);
    if !unchanged {
        let tmp = out_dir.join(format!(".{top}.tar.gz.tmp"));
        std::fs::write(&tmp, &tarball).with_context(|| format!("{}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("{}", path.display()))?;
    }
    println!(
        "{} {} ({} bytes, {} files, sha256 {})",
        if unchanged { "unchanged" } else { "wrote" },
        path.display(),
        tarball.len(),
        files.len(),
        hex::encode(Sha256::digest(&tarball))
    );
    for (name, file) in &files {
        println!("  {:>10}  {top}/{name}", file.bytes.len());
    }
    Ok(())
}

/// The host's target triple, as `rustc -vV` reports it.
fn host_target() -> anyhow::Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("cannot run {rustc} -vV"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("{rustc} -vV names no host"))
}

/// The time stamped on every entry: `$SOURCE_DATE_EPOCH`, else the time of the last commit,
/// else the epoch.
fn source_date() -> anyhow::Result<u64> {
    if let Ok(s) = std::env::var("SOURCE_DATE_EPOCH") {
        return s
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={s:?} is not a number of seconds"));
    }
    let out = Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(crate::root())
        .output();
    Ok(out
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0))
}

/// Every file but `SHA256SUMS`, by its path below the top folder.
fn collect() -> anyhow::Result<BTreeMap<String, File>> {
    let release = crate::target_dir().join("release");
    let strip_dir = tempfile::tempdir()?;
    let mut files = BTreeMap::new();
    for bin in ["emqx-backup", "emqx-sim"] {
        let bytes = stripped(&release.join(bin), strip_dir.path())?;
        files.insert(format!("bin/{bin}"), File::program(bytes));
    }
    for name in crate::plugin_packages()? {
        let so = format!("lib{}.so", name.replace('-', "_"));
        let bytes = stripped(&release.join(&so), strip_dir.path())?;
        files.insert(format!("{PLUGINS}/{so}"), File::data(bytes));
    }
    for doc in ["README.md", "LICENSE"] {
        let path = crate::root().join(doc);
        let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        files.insert(doc.to_owned(), File::data(bytes));
    }
    for cmd in crate::clidocs::commands() {
        for (name, roff) in crate::clidocs::man_pages(&cmd)? {
            files.insert(format!("share/man/man1/{name}"), File::data(roff));
        }
        for (name, script) in crate::clidocs::completions(&cmd) {
            files.insert(format!("share/completions/{name}"), File::data(script));
        }
    }
    Ok(files)
}

/// The bytes of `path` without debug info (the release profile keeps it for profiling); the
/// file as it is when `strip` is missing.
fn stripped(path: &Path, scratch: &Path) -> anyhow::Result<Vec<u8>> {
    ensure!(path.is_file(), "{} was not built", path.display());
    let out = scratch.join(path.file_name().expect("a file name"));
    let status = Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(&out)
        .arg(path)
        .status();
    let from = if status.is_ok_and(|s| s.success()) {
        out
    } else {
        println!(
            "strip --strip-debug failed or is missing: {} keeps its debug info",
            path.display()
        );
        path.to_owned()
    };
    std::fs::read(&from).with_context(|| format!("{}", from.display()))
}

/// `sha256sum` output for `files`: `<hex>  <path>` lines in path order.
pub fn sha256sums(files: &BTreeMap<String, File>) -> String {
    files
        .iter()
        .map(|(name, f)| format!("{}  {name}\n", hex::encode(Sha256::digest(&f.bytes))))
        .collect()
}

/// The gzipped tar of `files` under `top/`, directories included, every entry sorted by path
/// and stamped with `mtime`.
pub fn tar_gz(top: &str, files: &BTreeMap<String, File>, mtime: u64) -> anyhow::Result<Vec<u8>> {
    let mut entries: BTreeMap<String, Option<&File>> = BTreeMap::new();
    entries.insert(format!("{top}/"), None);
    for (name, file) in files {
        let mut dir = name.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            entries.insert(format!("{top}/{parent}/"), None);
            dir = parent;
        }
        entries.insert(format!("{top}/{name}"), Some(file));
    }
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, file) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        match file {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, &path, std::io::empty())?;
            }
            Some(f) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(f.mode);
                header.set_size(f.bytes.len() as u64);
                tar.append_data(&mut header, &path, f.bytes.as_slice())?;
            }
        }
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    Ok(gz.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> BTreeMap<String, File> {
        let mut files = BTreeMap::new();
        files.insert(
            "bin/tool".to_owned(),
            File::program(b"#!/bin/sh\n".to_vec()),
        );
        files.insert(
            "lib/emqx-backup/plugins/libx.so".to_owned(),
            File::data(vec![0x7f, b'E', b'L', b'F']),
        );
        files.insert("README.md".to_owned(), File::data(b"# hi\n".to_vec()));
        files
    }

    #[test]
    fn same_files_same_bytes() {
        let a = tar_gz("top", &sample(), 1_700_000_000).unwrap();
        let b = tar_gz("top", &sample(), 1_700_000_000).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, tar_gz("top", &sample(), 1_700_000_001).unwrap());
    }

    #[test]
    fn sorted_entries_under_one_top_folder_with_fixed_metadata() {
        let gz = tar_gz("top", &sample(), 1_700_000_000).unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_slice()));
        let mut seen = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header();
            assert_eq!(header.mtime().unwrap(), 1_700_000_000);
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
            let path = entry.path().unwrap().display().to_string();
            let mode = header.mode().unwrap();
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            seen.push((path, mode, body.len()));
        }
        let expected = [
            ("top/", 0o755, 0),
            ("top/README.md", 0o644, 5),
            ("top/bin/", 0o755, 0),
            ("top/bin/tool", 0o755, 10),
            ("top/lib/", 0o755, 0),
            ("top/lib/emqx-backup/", 0o755, 0),
            ("top/lib/emqx-backup/plugins/", 0o755, 0),
            ("top/lib/emqx-backup/plugins/libx.so", 0o644, 4),
        ];
        let expected: Vec<(String, u32, usize)> = expected
            .iter()
            .map(|(p, m, n)| ((*p).to_owned(), *m, *n))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn sums_in_sha256sum_format() {
        let sums = sha256sums(&sample());
        let lines: Vec<&str> = sums.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            format!("{}  README.md", hex::encode(Sha256::digest(b"# hi\n")))
        );
        assert!(lines[1].ends_with("  bin/tool"));
        assert_eq!(lines[1].split("  ").next().unwrap().len(), 64);
    }
}
