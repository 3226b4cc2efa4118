//! Where plugins are looked for, in order: `--plugin-dir`, `$EMQX_BACKUP_PLUGIN_DIR`,
//! `../lib/emqx-backup/plugins` next to the binary, then the cargo target directory the binary
//! was built in. A plugin file found earlier shadows a file of the same name found later.

use emqx_backup_plugin_abi::LIBRARY_PREFIX;
use std::path::{Path, PathBuf};

/// The environment variable naming an extra plugin folder.
pub const PLUGIN_DIR_ENV: &str = "EMQX_BACKUP_PLUGIN_DIR";

/// One folder of the search path and why it is there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SearchDir {
    /// The folder.
    pub dir: PathBuf,
    /// `--plugin-dir`, `$EMQX_BACKUP_PLUGIN_DIR`, `next to the binary` or `cargo target dir`.
    pub origin: &'static str,
}

/// The search path for a run.
pub fn search_path(
    plugin_dir: Option<&Path>,
    env_dir: Option<PathBuf>,
    exe: Option<&Path>,
) -> Vec<SearchDir> {
    let mut dirs = Vec::new();
    if let Some(d) = plugin_dir {
        dirs.push(SearchDir {
            dir: d.to_owned(),
            origin: "--plugin-dir",
        });
    }
    if let Some(d) = env_dir.filter(|d| !d.as_os_str().is_empty()) {
        dirs.push(SearchDir {
            dir: d,
            origin: "$EMQX_BACKUP_PLUGIN_DIR",
        });
    }
    if let Some(bin) = exe.and_then(Path::parent) {
        dirs.push(SearchDir {
            dir: bin.join("../lib/emqx-backup/plugins"),
            origin: "next to the binary",
        });
        if let Some(target) = cargo_profile_dir(bin) {
            dirs.push(SearchDir {
                dir: target,
                origin: "cargo target dir",
            });
        }
    }
    dirs
}

/// `target/<profile>` when `bin` is that folder or its `deps`/`examples` subfolder.
fn cargo_profile_dir(bin: &Path) -> Option<PathBuf> {
    let profile = match bin.file_name()?.to_str()? {
        "deps" | "examples" => bin.parent()?,
        _ => bin,
    };
    let parent = profile.parent()?;
    let is_target = parent.file_name().is_some_and(|n| n == "target")
        || parent.join("CACHEDIR.TAG").exists()
        || parent
            .parent()
            .is_some_and(|p| p.file_name().is_some_and(|n| n == "target"));
    is_target.then(|| profile.to_owned())
}

/// The search path of this process: flag, environment, binary location.
pub fn default_search_path(plugin_dir: Option<&Path>) -> Vec<SearchDir> {
    let exe = std::env::current_exe().ok();
    search_path(
        plugin_dir,
        std::env::var_os(PLUGIN_DIR_ENV).map(PathBuf::from),
        exe.as_deref(),
    )
}

/// Whether a file name is a plugin library's (`libemqx_backup_plugin_<domain>.so`).
pub fn is_plugin_file(name: &str) -> bool {
    let stem = name.strip_prefix("lib").unwrap_or(name);
    let Some(rest) = stem.strip_prefix(LIBRARY_PREFIX) else {
        return false;
    };
    let ext = std::env::consts::DLL_SUFFIX;
    rest.strip_suffix(ext)
        .is_some_and(|d| !d.is_empty() && !d.contains('-') && !d.contains('.'))
}

/// Plugin files of the search path, first occurrence of each file name; later ones shadowed.
pub fn find_plugins(dirs: &[SearchDir]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut shadowed = Vec::new();
    for dir in dirs {
        let Ok(read) = std::fs::read_dir(&dir.dir) else {
            continue;
        };
        let mut here: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_plugin_file)
            })
            .collect();
        here.sort();
        for path in here {
            if found.iter().any(|f| f.file_name() == path.file_name()) {
                shadowed.push(path);
            } else {
                found.push(path);
            }
        }
    }
    (found, shadowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names() {
        let dirs = search_path(
            Some(Path::new("/p")),
            Some(PathBuf::from("/e")),
            Some(Path::new("/opt/x/bin/emqx-backup")),
        );
        let origins: Vec<_> = dirs.iter().map(|d| d.origin).collect();
        assert_eq!(
            origins,
            [
                "--plugin-dir",
                "$EMQX_BACKUP_PLUGIN_DIR",
                "next to the binary"
            ]
        );
        assert_eq!(
            dirs[2].dir,
            Path::new("/opt/x/bin/../lib/emqx-backup/plugins")
        );
        let so = std::env::consts::DLL_SUFFIX;
        assert!(is_plugin_file(&format!("libemqx_backup_plugin_authn{so}")));
        assert!(!is_plugin_file(&format!(
            "libemqx_backup_plugin_authn-0a1b{so}"
        )));
        assert!(!is_plugin_file(&format!("libother{so}")));
        assert!(!is_plugin_file("libemqx_backup_plugin_authn.rlib"));
    }

    #[test]
    fn cargo_target_dirs() {
        assert_eq!(
            cargo_profile_dir(Path::new("/w/target/debug/deps")),
            Some(PathBuf::from("/w/target/debug"))
        );
        assert_eq!(
            cargo_profile_dir(Path::new("/w/target/release")),
            Some(PathBuf::from("/w/target/release"))
        );
        assert_eq!(cargo_profile_dir(Path::new("/usr/bin")), None);
    }
}
