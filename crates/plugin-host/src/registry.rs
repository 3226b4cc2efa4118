//! Loaded plugins and what each owns.

use crate::discovery::{find_plugins, SearchDir};
use crate::error::HostError;
use abi_stable::library::{lib_header_from_path, LibraryError};
use abi_stable::std_types::{RResult, RStr};
use emqx_backup_plugin_abi::{PluginModRef, Section};
use emqx_backup_plugin_sdk::{Manifest, Options, Plan, Problem, Records};
use std::path::{Path, PathBuf};

/// A loaded plugin.
pub struct Plugin {
    /// The library file.
    pub path: PathBuf,
    /// What it says it is and owns.
    pub manifest: Manifest,
    module: PluginModRef,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("manifest", &self.manifest)
            .finish()
    }
}

/// What `merge` returns on the host side.
pub struct Merged {
    /// The plan.
    pub plan: Plan,
    /// The merged section, when asked for.
    pub section: Option<Section>,
}

impl Plugin {
    /// Loads one plugin file, checking its ABI.
    pub fn load(path: &Path) -> Result<Plugin, HostError> {
        let host = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("emqx-backup"));
        let header = lib_header_from_path(path).map_err(|e| load_error(path, &host, e))?;
        let module = header
            .init_root_module::<PluginModRef>()
            .map_err(|e| load_error(path, &host, e))?;
        let text = module.manifest()();
        let manifest: Manifest =
            serde_json::from_str(text.as_str()).map_err(|e| HostError::Manifest {
                path: path.to_owned(),
                why: format!("{e}: {}", text.as_str()),
            })?;
        if manifest.name.is_empty() {
            return Err(HostError::Manifest {
                path: path.to_owned(),
                why: "no name".into(),
            });
        }
        Ok(Plugin {
            path: path.to_owned(),
            manifest,
            module,
        })
    }

    /// The domain name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    fn call_error(&self, operation: &'static str, message: String) -> HostError {
        HostError::Call {
            domain: self.manifest.name.clone(),
            path: self.path.clone(),
            operation,
            message,
        }
    }

    /// Decodes a section into the plugin's records.
    pub fn decode(&self, section: &Section, options: &Options) -> Result<Records, HostError> {
        let opts = json(options);
        match self.module.decode()(section, RStr::from(opts.as_str())) {
            RResult::ROk(text) => serde_json::from_str(text.as_str())
                .map_err(|e| self.call_error("decode", format!("records are not JSON: {e}"))),
            RResult::RErr(e) => Err(self.call_error("decode", e.into_string())),
        }
    }

    /// Encodes records into a section.
    pub fn encode(&self, records: &Records, options: &Options) -> Result<Section, HostError> {
        let text =
            serde_json::to_string(records).map_err(|e| self.call_error("encode", e.to_string()))?;
        let opts = json(options);
        match self.module.encode()(RStr::from(text.as_str()), RStr::from(opts.as_str())) {
            RResult::ROk(section) => Ok(section),
            RResult::RErr(e) => Err(self.call_error("encode", e.into_string())),
        }
    }

    /// Plans importing `incoming` into `current`.
    pub fn merge(
        &self,
        current: &Section,
        incoming: &Section,
        options: &Options,
    ) -> Result<Merged, HostError> {
        let opts = json(options);
        match self.module.merge()(current, incoming, RStr::from(opts.as_str())) {
            RResult::ROk(out) => {
                let plan: Plan = serde_json::from_str(out.plan_json.as_str())
                    .map_err(|e| self.call_error("merge", format!("plan is not JSON: {e}")))?;
                Ok(Merged {
                    plan,
                    section: out.merged.into_option(),
                })
            }
            RResult::RErr(e) => Err(self.call_error("merge", e.into_string())),
        }
    }

    /// Problems of a section.
    pub fn validate(
        &self,
        section: &Section,
        options: &Options,
    ) -> Result<Vec<Problem>, HostError> {
        let opts = json(options);
        let text = self.module.validate()(section, RStr::from(opts.as_str()));
        serde_json::from_str(text.as_str())
            .map_err(|e| self.call_error("validate", format!("problems are not JSON: {e}")))
    }
}

fn json(options: &Options) -> String {
    serde_json::to_string(options).unwrap_or_else(|_| "{}".into())
}

fn load_error(path: &Path, host: &Path, e: LibraryError) -> HostError {
    match e {
        LibraryError::AbiInstability(_)
        | LibraryError::IncompatibleVersionNumber { .. }
        | LibraryError::InvalidAbiHeader(_)
        | LibraryError::InvalidCAbi { .. }
        | LibraryError::ParseVersionError(_) => HostError::Abi {
            path: path.to_owned(),
            host: host.to_owned(),
            why: abi_summary(&e.to_string()),
        },
        other => HostError::Load {
            path: path.to_owned(),
            why: first_lines(&other.to_string()),
        },
    }
}

/// abi_stable's layout reports run to pages; this keeps which root module each side has
/// (`PluginMod` of `emqx-backup-plugin-abi 0.1.0`). The whole report with
/// `EMQX_BACKUP_ABI_DEBUG=1`.
fn abi_summary(text: &str) -> String {
    if std::env::var_os("EMQX_BACKUP_ABI_DEBUG").is_some() {
        eprintln!("{text}");
    }
    let side = |half: &str| -> Option<String> {
        let mut lines = half
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "Phantom fields:");
        let ty = lines.find_map(|l| l.strip_prefix("type:"))?.to_owned();
        let pkg = lines.find_map(|l| l.strip_prefix("package:'"))?;
        let (name, rest) = pkg.split_once("' version:'")?;
        let version = rest.split('\'').next()?;
        Some(format!("{ty} of {name} {version}"))
    };
    match text.split_once("To <other>:") {
        Some((this, other)) => match (side(this), side(other)) {
            (Some(a), Some(b)) => format!("the host expects root module {a}, the plugin has {b}"),
            _ => first_lines(text),
        },
        None => first_lines(text),
    }
}

/// The first lines of a long report.
fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(6)
        .collect();
    lines.join(" ")
}

/// Every plugin of a search path, checked for conflicts.
#[derive(Debug, Default)]
pub struct Registry {
    /// Loaded plugins in load order.
    pub plugins: Vec<Plugin>,
    /// Plugin files not loaded because a file of the same name came earlier.
    pub shadowed: Vec<PathBuf>,
    /// The search path used.
    pub searched: Vec<SearchDir>,
}

impl Registry {
    /// Loads every plugin of the search path; any bad plugin or conflict fails the whole load.
    pub fn load(dirs: &[SearchDir]) -> Result<Registry, HostError> {
        let (found, shadowed) = find_plugins(dirs);
        let mut registry = Registry {
            plugins: Vec::new(),
            shadowed,
            searched: dirs.to_vec(),
        };
        for path in found {
            registry.add(Plugin::load(&path)?)?;
        }
        Ok(registry)
    }

    /// Adds a plugin, refusing one that claims what another already owns.
    pub fn add(&mut self, plugin: Plugin) -> Result<(), HostError> {
        for other in &self.plugins {
            let conflict = |what: String| HostError::Conflict {
                first: other.path.clone(),
                second: plugin.path.clone(),
                what,
            };
            if other.manifest.name == plugin.manifest.name {
                return Err(conflict(format!("domain {}", plugin.manifest.name)));
            }
            if let Some(t) = plugin
                .manifest
                .tables
                .iter()
                .find(|t| other.manifest.tables.contains(t))
            {
                return Err(conflict(format!("table {t}")));
            }
            for root in &plugin.manifest.roots {
                if let Some(o) = other.manifest.roots.iter().find(|o| roots_overlap(o, root)) {
                    let what = if o == root {
                        format!("root {root}")
                    } else {
                        format!("roots {o} and {root}")
                    };
                    return Err(conflict(what));
                }
            }
        }
        self.plugins.push(plugin);
        Ok(())
    }

    /// The plugin of a domain.
    pub fn get(&self, name: &str) -> Result<&Plugin, HostError> {
        self.plugins
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| HostError::UnknownDomain {
                name: name.to_owned(),
                known: self.names().join(", "),
            })
    }

    /// Names of the loaded domains.
    pub fn names(&self) -> Vec<String> {
        self.plugins
            .iter()
            .map(|p| p.manifest.name.clone())
            .collect()
    }

    /// The plugin owning a table.
    pub fn table_owner(&self, table: &str) -> Option<&Plugin> {
        self.plugins
            .iter()
            .find(|p| p.manifest.tables.iter().any(|t| t == table))
    }

    /// The plugin owning a root (exactly, not a nested path of it).
    pub fn root_owner(&self, root: &str) -> Option<&Plugin> {
        self.plugins
            .iter()
            .find(|p| p.manifest.roots.iter().any(|r| r == root))
    }
}

/// Whether two claimed roots overlap: equal, or one a dotted prefix of the other.
fn roots_overlap(a: &str, b: &str) -> bool {
    a == b || b.starts_with(&format!("{a}.")) || a.starts_with(&format!("{b}."))
}
