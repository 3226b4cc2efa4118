//! The one error type of this crate.

use thiserror::Error;

/// Everything that can be wrong with an algorithm config, a salt or a stored hash.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswdError {
    /// `password_hash_algorithm` (or a nested value) is not a JSON object.
    #[error("password_hash_algorithm must be an object, got {0}")]
    NotAnObject(&'static str),
    /// A required field is absent.
    #[error("password_hash_algorithm: missing required field `{0}`")]
    MissingField(&'static str),
    /// A field is present but has the wrong type or an out-of-range value.
    #[error("password_hash_algorithm: invalid `{field}`: {reason}")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `name` is not one of plain, md5, sha, sha256, sha512, pbkdf2, bcrypt.
    #[error("unknown password hash algorithm `{0}` (expected plain, md5, sha, sha256, sha512, pbkdf2 or bcrypt)")]
    UnknownAlgorithm(String),
    /// `salt_position` is not one of prefix, suffix, disable.
    #[error("unknown salt_position `{0}` (expected prefix, suffix or disable)")]
    UnknownSaltPosition(String),
    /// `mac_fun` is not one of the PBKDF2 MAC functions EMQX accepts.
    #[error("unknown pbkdf2 mac_fun `{0}` (expected md4, md5, ripemd160, sha, sha224, sha256, sha384 or sha512)")]
    UnknownMacFun(String),
    /// PBKDF2 with md4/md5/ripemd160 and no `dk_length`: EMQX has no default length and crashes.
    #[error(
        "pbkdf2 with mac_fun `{0}` needs an explicit dk_length (EMQX defines no default for it)"
    )]
    DkLengthRequired(&'static str),
    /// A bcrypt salt (or stored bcrypt hash used as salt) is malformed.
    #[error("bad bcrypt salt: {0}")]
    BadBcryptSalt(String),
    /// A SCRAM algorithm name other than sha256 or sha512.
    #[error("unknown SCRAM algorithm `{0}` (expected sha256 or sha512)")]
    UnknownScramAlgorithm(String),
}
