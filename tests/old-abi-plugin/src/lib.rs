//! A plugin whose root module has the host's name but another layout (its first function
//! returns a number, not a manifest), as a plugin built against an incompatible release of
//! `emqx-backup-plugin-abi` would. The host must refuse to load it, naming the file.

use abi_stable::{
    declare_root_module_statics, export_root_module, library::RootModule, package_version_strings,
    prefix_type::PrefixTypeTrait, sabi_types::VersionStrings, StableAbi,
};

/// The incompatible root module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = OldModRef)))]
#[sabi(missing_field(panic))]
pub struct OldMod {
    /// Returns a number where the host expects the manifest JSON.
    #[sabi(last_prefix_field)]
    pub manifest: extern "C" fn() -> u32,
}

impl RootModule for OldModRef {
    declare_root_module_statics! {OldModRef}
    const BASE_NAME: &'static str = "emqx_backup_plugin";
    const NAME: &'static str = "emqx_backup_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

extern "C" fn manifest() -> u32 {
    1
}

/// Exports the incompatible root module.
#[export_root_module]
pub fn old_root() -> OldModRef {
    OldMod { manifest }.leak_into_prefix()
}
