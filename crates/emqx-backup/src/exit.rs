//! Exit codes, documented in the README.

use emqx_archive::ArchiveError;

/// Success.
pub const OK: i32 = 0;
/// A fault on our side (I/O, a bug).
pub const FAILURE: i32 = 1;
/// The archive is invalid: EMQX would refuse it, or it is corrupt or unsafe.
pub const INVALID_ARCHIVE: i32 = 3;

/// The exit code for an error that reached the top.
pub fn code_for(e: &anyhow::Error) -> i32 {
    match e.downcast_ref::<ArchiveError>() {
        Some(a) if a.is_invalid_archive() => INVALID_ARCHIVE,
        _ => FAILURE,
    }
}
