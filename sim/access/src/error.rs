//! Why an access check could not be made: the store failed, or what it holds is not what EMQX
//! would have accepted (each error names the table, record, config key or file).

use emqx_sim_store::StoreError;

/// A failed access check.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A config value EMQX's schema would have refused.
    #[error("config {key}: {message}")]
    Config {
        /// The config path (`authentication[0].password_hash_algorithm`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A stored record of an unexpected shape.
    #[error("table {table}: record {record}: {message}")]
    Record {
        /// The table.
        table: String,
        /// The record (or its key) as Erlang text.
        record: String,
        /// What is wrong.
        message: String,
    },
    /// An `acl.conf` rule EMQX would not compile.
    #[error("{file}: line {line}: {message}")]
    AclFile {
        /// Where the rules come from (the file source's path, or `authorization.sources[file].rules`).
        file: String,
        /// The line of the rule.
        line: usize,
        /// What is wrong.
        message: String,
    },
}
