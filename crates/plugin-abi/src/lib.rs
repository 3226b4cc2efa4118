//! The stable ABI between the `emqx-backup` host and its domain plugins.
//!
//! A plugin is a `cdylib` exporting one root module, [`PluginModRef`], through `abi_stable`.
//! The root module is a prefix type: later versions of this crate may append fields after
//! the last one, and plugins built against an older version keep loading (the host sees the
//! new fields as absent). Only bytes and JSON cross the boundary, never Rust types of either
//! side, so the host and a plugin share nothing but this file.
//!
//! The JSON documents (manifest, records, plan, problems, options) are described in
//! `ARCHITECTURE.md`, section "Plugin ABI"; `emqx-backup-plugin-sdk` has their Rust types.

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RStr, RString, RVec},
    StableAbi,
};

/// One archive entry a plugin owns, named relative to the archive's top folder
/// (`mnesia/emqx_acl`), with its complete bytes.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Path below the top folder, `/`-separated.
    pub name: RString,
    /// The entry's bytes as stored in the archive.
    pub bytes: RVec<u8>,
}

/// A plugin's share of an archive: the entries it owns plus the JSON object of the
/// cluster.hocon roots it owns or reads (`{}` when there are none).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// Owned entries, in archive order.
    pub entries: RVec<Entry>,
    /// JSON object: root name to value, for the roots in the manifest's `roots` and `reads_roots`.
    pub config_json: RString,
}

/// What `merge` returns: the plan as JSON and, when asked for, the merged section.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct MergeOutput {
    /// The plan: counts per table and root, every change by key, warnings.
    pub plan_json: RString,
    /// The section a node holding `current` would hold after importing `incoming`.
    pub merged: ROption<Section>,
}

/// The root module every plugin exports.
///
/// Every function catches its own panics and reports them as errors; none may unwind into
/// the host. `options_json` is a JSON object; unknown keys are ignored.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The manifest as JSON: name, version, description, table sets, tables, roots it owns,
    /// roots it only reads, the EMQX versions it reads.
    pub manifest: extern "C" fn() -> RString,
    /// Decodes a section into the plugin's canonical JSON records.
    pub decode:
        extern "C" fn(section: &Section, options_json: RStr<'_>) -> RResult<RString, RString>,
    /// Encodes canonical JSON records back into a section.
    pub encode:
        extern "C" fn(records_json: RStr<'_>, options_json: RStr<'_>) -> RResult<Section, RString>,
    /// Plans an EMQX import of `incoming` into a node holding `current`: insert what is new,
    /// update what differs, never delete.
    pub merge: extern "C" fn(
        current: &Section,
        incoming: &Section,
        options_json: RStr<'_>,
    ) -> RResult<MergeOutput, RString>,
    /// Lists what is wrong in a section as a JSON array of problems (empty when sound).
    #[sabi(last_prefix_field)]
    pub validate: extern "C" fn(section: &Section, options_json: RStr<'_>) -> RString,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "emqx_backup_plugin";
    const NAME: &'static str = "emqx_backup_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// File names of plugin libraries start with this (`libemqx_backup_plugin_authn.so`).
pub const LIBRARY_PREFIX: &str = "emqx_backup_plugin_";
