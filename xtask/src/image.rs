//! `cargo xtask image`: the local Docker image `emqx-sim:dev`, built without pulling anything.
//!
//! Builds `emqx-sim` and the domain plugins (release), assembles a root filesystem in
//! `target/image/rootfs` holding the binary (`/usr/local/bin/emqx-sim`), the plugins
//! (`/usr/local/lib/emqx-backup/plugins`, where the host looks next to the binary), every
//! shared library they link (found with `ldd`), `/tmp`, `/data` and a few files of `/etc`, and
//! loads it with `docker import`. The SHA-256 of everything in the root filesystem is kept in
//! the image (`EMQX_SIM_IMAGE_HASH`); when the image already carries it, nothing is imported.

use anyhow::{bail, ensure, Context};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The image's repository and tag.
pub const IMAGE: &str = "emqx-sim:dev";
/// Where the binary lives in the image.
const BIN: &str = "usr/local/bin/emqx-sim";
/// Where the plugins live in the image (`../lib/emqx-backup/plugins` from the binary).
const PLUGINS: &str = "usr/local/lib/emqx-backup/plugins";
/// The environment variable that holds the hash of the root filesystem in the image.
const HASH_ENV: &str = "EMQX_SIM_IMAGE_HASH";

/// Small files of `/etc` the image carries (name resolution for the cluster's host names).
const ETC: &[(&str, &str)] = &[
    ("etc/nsswitch.conf", "hosts: files dns\n"),
    ("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n"),
    ("etc/group", "root:x:0:\n"),
];

/// Builds the binaries and the image; `force` imports even when the hash matches.
pub fn run(force: bool) -> anyhow::Result<()> {
    ensure_docker()?;
    build()?;
    let files = collect()?;
    let rootfs = crate::target_dir().join("image").join("rootfs");
    let hash = assemble(&rootfs, &files)?;
    let short = &hash[..16];
    match current_hash()? {
        Some(h) if h == hash && !force => {
            println!("image {IMAGE} is up to date (rootfs {short}): nothing imported");
            return Ok(());
        }
        Some(h) => println!(
            "image {IMAGE} holds rootfs {}, now {short}: importing",
            &h[..16.min(h.len())]
        ),
        None => println!("image {IMAGE} absent: importing rootfs {short}"),
    }
    let old_id = Command::new("docker")
        .args(["image", "inspect", IMAGE, "--format", "{{.Id}}"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    import(&rootfs, &hash)?;
    if let Some(id) = old_id {
        // The image the tag left behind; kept by docker if a container still uses it.
        let _ = Command::new("docker")
            .args(["image", "rm", &id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let size = Command::new("docker")
        .args(["image", "inspect", IMAGE, "--format", "{{.Size}}"])
        .output()?;
    let size: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    println!(
        "built {IMAGE}: {} files, {:.1} MB, rootfs {short} (from {})",
        files.len() + ETC.len(),
        size as f64 / 1e6,
        rootfs.display()
    );
    Ok(())
}

fn ensure_docker() -> anyhow::Result<()> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .context("cannot run `docker`: is the Docker CLI installed?")?;
    ensure!(
        out.status.success(),
        "no Docker engine answers: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// `cargo build --release -p emqx-sim -p <every plugin>`.
fn build() -> anyhow::Result<()> {
    let mut args: Vec<String> = ["build", "--release", "-q", "-p", "emqx-sim"]
        .map(String::from)
        .to_vec();
    for name in crate::plugin_packages()? {
        args.push("-p".into());
        args.push(name);
    }
    println!("building emqx-sim and the plugins (release)");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::cargo(&args)
}

/// The files of the image: path in the image → file on this machine.
fn collect() -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let release = crate::target_dir().join("release");
    let mut files = BTreeMap::new();
    files.insert(BIN.to_owned(), release.join("emqx-sim"));
    for name in crate::plugin_packages()? {
        let so = format!("lib{}.so", name.replace('-', "_"));
        let path = release.join(&so);
        ensure!(path.is_file(), "{} was not built", path.display());
        files.insert(format!("{PLUGINS}/{so}"), path);
    }
    let mut libs = BTreeMap::new();
    for path in files.values() {
        for lib in ldd(path)? {
            libs.insert(
                lib.display().to_string().trim_start_matches('/').to_owned(),
                lib,
            );
        }
    }
    files.extend(libs);
    Ok(files)
}

/// The shared libraries `path` links, the dynamic loader included, as absolute paths.
fn ldd(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(path)
        .output()
        .context("cannot run ldd")?;
    ensure!(
        out.status.success(),
        "ldd {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let mut libs = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim();
        if line.contains("not found") {
            bail!("{}: a library is missing: {line}", path.display());
        }
        // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`.
        let target = match line.split_once("=>") {
            Some((_, rhs)) => rhs.trim(),
            None => line,
        };
        let file = target.split_whitespace().next().unwrap_or_default();
        if file.starts_with('/') {
            libs.push(PathBuf::from(file));
        }
    }
    Ok(libs)
}

/// Writes the root filesystem anew (only when its content changed) and returns its hash.
fn assemble(rootfs: &Path, files: &BTreeMap<String, PathBuf>) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut contents: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for (inside, host) in files {
        // fs::read follows symlinks: the image holds the real file under the linked name.
        let bytes = std::fs::read(host).with_context(|| format!("reading {}", host.display()))?;
        let mode = if inside == BIN || inside.contains("ld-linux") {
            0o755
        } else {
            0o644
        };
        contents.push((inside.clone(), bytes, mode));
    }
    for (inside, text) in ETC {
        contents.push(((*inside).to_owned(), text.as_bytes().to_vec(), 0o644));
    }
    for (inside, bytes, mode) in &contents {
        hasher.update(inside.as_bytes());
        hasher.update([0]);
        hasher.update(mode.to_le_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hasher.update(entrypoint_changes().join("\n").as_bytes());
    let hash = hex::encode(hasher.finalize());
    let stamp = rootfs.with_extension("hash");
    if std::fs::read_to_string(&stamp).is_ok_and(|h| h == hash) {
        return Ok(hash);
    }
    let _ = std::fs::remove_dir_all(rootfs);
    for dir in ["tmp", "data", "etc"] {
        std::fs::create_dir_all(rootfs.join(dir))?;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(rootfs.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    for (inside, bytes, mode) in &contents {
        let path = rootfs.join(inside);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        std::fs::write(&path, bytes)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))?;
    }
    // The release profile keeps debug info; the image does not need it.
    let ours: Vec<PathBuf> = contents
        .iter()
        .filter(|(inside, _, _)| inside == BIN || inside.starts_with(PLUGINS))
        .map(|(inside, _, _)| rootfs.join(inside))
        .collect();
    let stripped = Command::new("strip")
        .arg("--strip-debug")
        .args(&ours)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        println!("strip --strip-debug failed or is missing: the image keeps debug info");
    }
    std::fs::write(&stamp, &hash)?;
    println!("assembled {} ({} files)", rootfs.display(), contents.len());
    Ok(hash)
}

/// The Dockerfile instructions given to `docker import --change`.
fn entrypoint_changes() -> Vec<String> {
    vec![
        format!(r#"ENTRYPOINT ["/{BIN}"]"#),
        r#"CMD ["start", "--listen", "0.0.0.0:18083", "--data-dir", "/data"]"#.to_owned(),
        "EXPOSE 18083".to_owned(),
        "WORKDIR /data".to_owned(),
        "ENV RUST_BACKTRACE=1".to_owned(),
    ]
}

/// The hash of the rootfs the image holds, or None when there is no image.
fn current_hash() -> anyhow::Result<Option<String>> {
    let out = Command::new("docker")
        .args([
            "image",
            "inspect",
            IMAGE,
            "--format",
            "{{range .Config.Env}}{{println .}}{{end}}",
        ])
        .output()?;
    if !out.status.success() {
        return Ok(None);
    }
    let prefix = format!("{HASH_ENV}=");
    Ok(Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_default()
            .to_owned(),
    ))
}

/// `tar -C rootfs -c . | docker import --change ... - emqx-sim:dev`.
fn import(rootfs: &Path, hash: &str) -> anyhow::Result<()> {
    let mut changes = entrypoint_changes();
    changes.push(format!("ENV {HASH_ENV}={hash}"));
    let mut cmd = Command::new("docker");
    cmd.arg("import");
    for c in &changes {
        cmd.arg("--change").arg(c);
    }
    cmd.args(["-", IMAGE])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut docker = cmd.spawn().context("cannot run docker import")?;
    let mut stdin = docker.stdin.take().expect("piped stdin");
    let mut tar = tar::Builder::new(&mut stdin);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.follow_symlinks(false);
    tar.append_dir_all(".", rootfs)?;
    tar.finish()?;
    drop(tar);
    stdin.flush()?;
    drop(stdin);
    let status = docker.wait()?;
    ensure!(status.success(), "docker import failed ({status})");
    Ok(())
}
