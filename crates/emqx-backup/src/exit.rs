//! Exit codes, documented in the README.

use emqx_archive::ArchiveError;
use emqx_client::ClientError;

/// Success.
pub const OK: i32 = 0;
/// A fault on our side (I/O, a bug).
pub const FAILURE: i32 = 1;
/// A bad command line (clap uses 2 too).
pub const USAGE: i32 = 2;
/// The archive is invalid: EMQX would refuse it, or it is corrupt or unsafe.
pub const INVALID_ARCHIVE: i32 = 3;
/// The node refused the request (4xx, 5xx with EMQX's message), or we refused early with the
/// message EMQX would give (edition, version, a replicant as target).
pub const REFUSED: i32 = 4;
/// The node could not be reached (connection refused, DNS, TLS, timeout).
pub const CONNECTION: i32 = 5;
/// The node refused the credentials (401) or their rights (403).
pub const AUTH: i32 = 6;
/// After an import the node does not hold what the plan said.
pub const MISMATCH: i32 = 7;

macro_rules! message_error {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name(pub String);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::error::Error for $name {}
    };
}

message_error!(
    Invalid,
    "An archive that decodes but that a plugin's checks, or EMQX's rules, refuse."
);
message_error!(
    Refused,
    "What the node would refuse, found before asking it, with EMQX's message."
);
message_error!(
    Usage,
    "A command line or settings that cannot work (exit 2)."
);
message_error!(
    Mismatch,
    "The node's state after an import differs from the plan."
);

/// The exit code for an error that reached the top.
pub fn code_for(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<Invalid>().is_some() {
        return INVALID_ARCHIVE;
    }
    if e.downcast_ref::<Refused>().is_some() {
        return REFUSED;
    }
    if e.downcast_ref::<Usage>().is_some() {
        return USAGE;
    }
    if e.downcast_ref::<Mismatch>().is_some() {
        return MISMATCH;
    }
    if let Some(c) = e.downcast_ref::<ClientError>() {
        return match c {
            _ if c.is_connection() => CONNECTION,
            _ if c.is_auth() => AUTH,
            ClientError::Config(_) => USAGE,
            ClientError::Io { .. } | ClientError::Protocol { .. } => FAILURE,
            _ => REFUSED,
        };
    }
    match e.downcast_ref::<ArchiveError>() {
        Some(a) if a.is_invalid_archive() => INVALID_ARCHIVE,
        _ => FAILURE,
    }
}
