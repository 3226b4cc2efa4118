//! The one error type of plugin code: a message that names the entry, table, key or path.

use std::fmt;

/// A plugin failure; the message names the entry, table, key or config path concerned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PluginError(pub String);

impl PluginError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        PluginError(message.into())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<mnesia_backup::BackupError> for PluginError {
    fn from(e: mnesia_backup::BackupError) -> Self {
        PluginError(e.to_string())
    }
}
