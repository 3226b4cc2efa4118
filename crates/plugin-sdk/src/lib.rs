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
pub use mimalloc;
pub use model::{
    Manifest, Options, Plan, Problem, Records, ScopeKind, ScopePlan, TableRecords, Warning,
};
pub use roots::RootMerge;
pub use serde_json;
pub use table::{Fate, RawTable, TableFormat};

/// Exports a [`Domain`] as the plugin's root module, and makes mimalloc the plugin's
/// allocator (records are many small short-lived terms; memory crossing the boundary is freed
/// through `abi_stable`'s vtables by the side that allocated it). The plugin crate must depend
/// on `abi_stable` (the attribute's expansion names it). One plugin per linked binary.
#[macro_export]
macro_rules! export_domain {
    ($domain:ty) => {
        #[global_allocator]
        static PLUGIN_ALLOCATOR: $crate::mimalloc::MiMalloc = $crate::mimalloc::MiMalloc;

        /// The plugin's root module, found by the host through `abi_stable`.
        #[::abi_stable::export_root_module]
        pub fn emqx_backup_plugin_root() -> $crate::abi::PluginModRef {
            $crate::ffi::root_module::<$domain>()
        }
    };
}
