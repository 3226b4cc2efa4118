//! The JSON documents that cross the plugin boundary, as Rust types.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a plugin is and what it owns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Domain name, also the name `--domains` takes (`authn`).
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// One line on what the domain holds.
    #[serde(default)]
    pub description: String,
    /// EMQX table sets (`table_sets` names) the domain covers.
    #[serde(default)]
    pub table_sets: Vec<String>,
    /// Mnesia tables the plugin owns (file names under `mnesia/`).
    #[serde(default)]
    pub tables: Vec<String>,
    /// cluster.hocon roots the plugin owns; a dotted name (`cluster.links`) owns a nested path.
    #[serde(default)]
    pub roots: Vec<String>,
    /// Roots the plugin reads but does not own (`*` for every root).
    #[serde(default)]
    pub reads_roots: Vec<String>,
    /// EMQX versions whose archives the plugin reads, as text (`5.1 - 5.10, 6.0 - 6.1`).
    #[serde(default)]
    pub emqx_versions: String,
}

/// Options the host passes; unknown keys are ignored so both sides can grow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// Node name written into new table files' headers.
    pub node: Option<String>,
    /// `merge`: return the merged section too, not only the plan.
    pub want_merged: bool,
    /// `merge`: list the keys only the current side holds (for `diff`).
    pub list_kept: bool,
    /// `merge`: list unchanged keys too (for `diff`).
    pub list_unchanged: bool,
    /// Current time in Unix seconds, for expiry checks (the host's clock when absent).
    pub now: Option<i64>,
}

/// A domain's records in canonical JSON: what `decode` returns and `encode` takes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Records {
    /// The plugin's name.
    pub domain: String,
    /// One element per owned table file present.
    #[serde(default)]
    pub tables: Vec<TableRecords>,
    /// Owned config roots, root name to value.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Domain records that live inside config (certs: one per PEM value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Value>,
}

/// One table file's records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRecords {
    /// Table name.
    pub table: String,
    /// Node named in the file's log header.
    #[serde(default)]
    pub node: String,
    /// Attribute names of the schema (EMQX's list unless the archive had a legacy one).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// The records, in file order.
    pub records: Vec<Value>,
}

/// An import plan for one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The plugin's name.
    pub domain: String,
    /// One element per table or root the import touches or could touch.
    #[serde(default)]
    pub scopes: Vec<ScopePlan>,
    /// Things an operator must know before importing.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// Inserts, updates and unchanged records over all scopes.
    pub fn totals(&self) -> (u64, u64, u64) {
        self.scopes.iter().fold((0, 0, 0), |(i, u, n), s| {
            (
                i + s.insert.len() as u64,
                u + s.update.len() as u64,
                n + s.unchanged,
            )
        })
    }
}

/// Whether a scope is a table or a config root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    /// A mnesia table.
    Table,
    /// A cluster.hocon root.
    Root,
}

/// What an import does to one table or root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopePlan {
    /// Table or root.
    pub kind: ScopeKind,
    /// Table or root name.
    pub name: String,
    /// Keys the import adds.
    #[serde(default)]
    pub insert: Vec<String>,
    /// Keys whose value the import replaces.
    #[serde(default)]
    pub update: Vec<String>,
    /// How many incoming keys equal what the node holds.
    #[serde(default)]
    pub unchanged: u64,
    /// How many keys only the node holds (the import keeps them).
    #[serde(default)]
    pub kept: u64,
    /// Keys only the node holds, when `list_kept` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_keys: Option<Vec<String>>,
    /// Unchanged keys, when `list_unchanged` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged_keys: Option<Vec<String>>,
}

impl ScopePlan {
    /// An empty plan for a scope.
    pub fn new(kind: ScopeKind, name: &str) -> Self {
        ScopePlan {
            kind,
            name: name.to_owned(),
            insert: Vec::new(),
            update: Vec::new(),
            unchanged: 0,
            kept: 0,
            kept_keys: None,
            unchanged_keys: None,
        }
    }
}

/// A warning in a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable machine-readable code (`authn.salt_position_changed`).
    pub code: String,
    /// What an operator reads.
    pub message: String,
    /// How many records it concerns, when that is a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl Warning {
    /// A warning without a count.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Warning {
            code: code.to_owned(),
            message: message.into(),
            count: None,
        }
    }
}

/// Something wrong in a section, found by `validate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The entry (`mnesia/emqx_acl`) or config path (`authentication[0].backend`) concerned.
    pub place: String,
    /// What is wrong.
    pub message: String,
    /// `error` for what EMQX would refuse, `warning` for what it accepts but is suspicious.
    #[serde(default = "error_severity")]
    pub severity: Severity,
}

fn error_severity() -> Severity {
    Severity::Error
}

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// EMQX would refuse the archive, or data would be lost.
    Error,
    /// Accepted, but likely not what the operator wants.
    Warning,
}

impl Problem {
    /// An error at a place.
    pub fn error(place: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            place: place.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning at a place.
    pub fn warning(place: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            place: place.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }
}
