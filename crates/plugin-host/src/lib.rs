//! The host side of the plugin ABI: finds plugin libraries on the search path, loads them
//! through `abi_stable` (refusing other ABIs and overlapping claims), cuts archives into the
//! sections plugins own, and plans imports and merges through every plugin at once.

pub mod discovery;
pub mod error;
pub mod plan;
pub mod registry;
pub mod sections;

pub use discovery::{default_search_path, search_path, SearchDir, PLUGIN_DIR_ENV};
pub use error::HostError;
pub use plan::{plan_import, ImportPlan, UNOWNED};
pub use registry::{Plugin, Registry};
pub use sections::{join, split, Split};
