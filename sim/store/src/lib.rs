//! The state of an `emqx-sim` node and what EMQX does with it on export and import.
//!
//! A node keeps, like EMQX, mnesia-like tables (records as Erlang terms, one row per key) and
//! the cluster config (roots as JSON), both in one SQLite database in its data dir, so that
//! every change commits whole or not at all. Files EMQX keeps beside them
//! (`data/configs/cluster.hocon`, `data/authz/acl.conf`, `data/certs/...`) are rendered from
//! the database after each commit and again at start, so a crash never leaves them ahead of it.
//!
//! Export writes EMQX's archive from the store; import plans the merge through the same domain
//! plugins as the `emqx-backup` host and commits every domain in one transaction.

pub mod caller;
mod certs;
pub mod error;
pub mod files;
mod inflight;
pub mod node;
pub mod store;

pub use caller::Caller;
pub use error::{DataError, StoreError};
pub use files::{check_backup_name, BackupFileInfo};
pub use node::{ExportOptions, ImportReport, Node, NodeInfo, Role};
pub use store::{Store, Tx, DB_FILE};
