//! What every `emqx-backup` domain plugin links statically.
//!
//! A plugin implements [`Domain`] (its manifest, the [`TableFormat`] of each table it owns,
//! the [`RootMerge`] rule of each root it owns) and calls [`export_domain!`]. The defaults
//! decode, encode, merge and validate; a plugin overrides what its domain needs beyond that.
//! The host side of the same ABI is `emqx-backup-plugin-host`.

pub mod domain;
pub mod error;
pub mod ffi;
pub mod model;
pub mod roots;
pub mod select;
pub mod table;
pub mod term_json;
pub mod testing;

pub use domain::{Domain, MergeResult, SectionOut, SectionView};
pub use emqx_backup_plugin_abi as abi;
pub use erlang_term::{self, Term};
pub use error::PluginError;
pub use model::{
    Manifest, Options, Plan, Problem, Records, ScopeKind, ScopePlan, TableRecords, Warning,
};
pub use roots::RootMerge;
pub use serde_json;
pub use table::{Fate, RawTable, TableFormat};

/// Exports a [`Domain`] as the plugin's root module. The plugin crate must depend on
/// `abi_stable` (the attribute's expansion names it).
///
/// Plugins keep the system allocator: mimalloc inside a loaded library adopts the first thread
/// that calls in as its main thread and crashes the process when another thread calls after
/// that one has exited, which a server's thread pools do.
#[macro_export]
macro_rules! export_domain {
    ($domain:ty) => {
        /// The plugin's root module, found by the host through `abi_stable`.
        #[::abi_stable::export_root_module]
        pub fn emqx_backup_plugin_root() -> $crate::abi::PluginModRef {
            $crate::ffi::root_module::<$domain>()
        }
    };
}
