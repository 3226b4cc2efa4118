//! Errors of the plugin host; each names the plugin file(s) concerned.

use std::path::PathBuf;

/// A failure to load or use plugins.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The file is not a loadable plugin.
    #[error("plugin {}: cannot load: {why}", path.display())]
    Load {
        /// The plugin file.
        path: PathBuf,
        /// What the loader said.
        why: String,
    },
    /// The plugin was built against another ABI than this binary.
    #[error("plugin {} was built against another plugin ABI than {}: {why}; rebuild the plugin against emqx-backup-plugin-abi {}", path.display(), host.display(), env!("CARGO_PKG_VERSION"))]
    Abi {
        /// The plugin file.
        path: PathBuf,
        /// The running binary.
        host: PathBuf,
        /// What abi_stable found.
        why: String,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error("plugin {}: bad manifest: {why}", path.display())]
    Manifest {
        /// The plugin file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Two plugins claim the same table, root or name.
    #[error("plugins {} and {} both claim {what}", first.display(), second.display())]
    Conflict {
        /// The plugin loaded first.
        first: PathBuf,
        /// The plugin loaded second.
        second: PathBuf,
        /// `table emqx_acl`, `root authentication`, `domain authn`.
        what: String,
    },
    /// A plugin call failed.
    #[error("plugin {domain} ({}): {operation}: {message}", path.display())]
    Call {
        /// The plugin's domain.
        domain: String,
        /// The plugin file.
        path: PathBuf,
        /// decode, encode, merge or validate.
        operation: &'static str,
        /// The plugin's message.
        message: String,
    },
    /// A `--domains` name no loaded plugin has.
    #[error("unknown domain {name:?}; loaded plugins: {known}")]
    UnknownDomain {
        /// The name asked for.
        name: String,
        /// The names available.
        known: String,
    },
}
