//! The error returned when a text is not valid EMQX HOCON.

/// Why a text could not be parsed, and where (1-based line and column, columns counted in chars).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    line: usize,
    column: usize,
    message: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            column,
            message: message.into(),
        }
    }

    /// The 1-based line where the problem was found.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in chars) where the problem was found.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}
