//! Exit codes, documented in the README.

use emqx_archive::ArchiveError;

/// Success.
pub const OK: i32 = 0;
/// A fault on our side (I/O, a bug).
pub const FAILURE: i32 = 1;
/// The archive is invalid: EMQX would refuse it, or it is corrupt or unsafe.
pub const INVALID_ARCHIVE: i32 = 3;

/// An archive that decodes but that a plugin's checks, or EMQX's rules, refuse.
#[derive(Debug)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// The exit code for an error that reached the top.
pub fn code_for(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<Invalid>().is_some() {
        return INVALID_ARCHIVE;
    }
    match e.downcast_ref::<ArchiveError>() {
        Some(a) if a.is_invalid_archive() => INVALID_ARCHIVE,
        _ => FAILURE,
    }
}
