//! EMQX 5.x/6.x password hashing, bit-compatible with what EMQX stores and checks.
//!
//! * [`Algorithm`], [`hash`], [`hash_new`], [`gen_salt`], [`verify`]: the built-in
//!   database `password_based` authenticator (`emqx_authn_mnesia` rows), every
//!   `password_hash_algorithm` EMQX supports (plain, md5, sha, sha256, sha512 with a salt
//!   position; pbkdf2 over eight MAC functions; bcrypt as EMQX's NIF computes it).
//! * [`scram`]: the SCRAM built-in database (`emqx_authn_scram_mnesia` rows).
//! * [`dashboard`]: dashboard user passwords and API secrets (legacy and `$1$` formats).
//! * [`api_key`]: API key derivation and secret generation.
//!
//! Nothing here panics on any input; malformed configs, salts and hashes are errors or a
//! failed verification. Only the random generators panic, and only if the operating
//! system has no randomness to give.

mod algorithm;
mod bcrypt;
mod builtin;
mod compare;
mod error;
mod kdf;
mod random;

pub mod api_key;
pub mod dashboard;
pub mod scram;

pub use algorithm::{
    Algorithm, MacFun, SaltPosition, SimpleHash, BCRYPT_MAX_ROUNDS, BCRYPT_MIN_ROUNDS,
    MAX_DK_LENGTH,
};
pub use builtin::{gen_salt, hash, hash_bytes, hash_new, verify};
pub use error::PasswdError;
