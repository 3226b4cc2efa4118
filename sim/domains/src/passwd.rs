//! The hashing the domains need (spec §4), through `emqx-passwd`; the only place that calls it,
//! so that its signatures matter in one file.

use crate::common::Version;
use serde_json::Value;

pub use emqx_passwd::Algorithm;

/// The `password_hash_algorithm` of an authenticator config (EMQX's default
/// `{name = sha256, salt_position = prefix}` when absent); the error names the field.
pub fn algorithm(config: Option<&Value>) -> Result<Algorithm, String> {
    match config {
        None | Some(Value::Null) => Ok(Algorithm::default()),
        Some(v) => Algorithm::from_config(v).map_err(|e| e.to_string()),
    }
}

/// `emqx_authn_password_hashing:hash/2`: the stored `password_hash` and `salt` of a new
/// password (a fresh random salt).
pub fn hash_new(alg: &Algorithm, password: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    emqx_passwd::hash_new(alg, password)
        .map(|(hash, salt)| (hash.into_bytes(), salt.into_bytes()))
        .map_err(|e| e.to_string())
}

/// `(stored_key, server_key, salt)` of a SCRAM user.
pub type ScramCredentials = (Vec<u8>, Vec<u8>, Vec<u8>);

/// A new SCRAM user: `(stored_key, server_key, salt)` for `algorithm` (`sha256`|`sha512`)
/// and `iteration_count`.
pub fn scram_new_user(
    algorithm: &str,
    iterations: u32,
    password: &str,
) -> Result<ScramCredentials, String> {
    let alg = emqx_passwd::scram::Algorithm::from_name(algorithm).map_err(|e| e.to_string())?;
    let user = emqx_passwd::scram::new_user(alg, iterations, password);
    Ok((user.stored_key, user.server_key, user.salt.into_bytes()))
}

/// Whether the node writes the PBKDF2 `$1$` dashboard hashes (6.3.0-beta and later).
fn pbkdf2_era(v: Version) -> bool {
    v.at_least(6, 3, 0)
}

/// `pwdhash` of a dashboard password: the legacy 36 bytes on 5.x, `$1$600000$...` from 6.3.
pub fn admin_hash(v: Version, password: &str) -> Vec<u8> {
    if pbkdf2_era(v) {
        emqx_passwd::dashboard::new_pbkdf2(
            password.as_bytes(),
            emqx_passwd::dashboard::PASSWORD_ITERATIONS,
        )
        .into_bytes()
    } else {
        emqx_passwd::dashboard::new_legacy(password.as_bytes())
    }
}

/// `api_secret_hash` of an API secret: legacy on 5.x, `$1$1$...` from 6.3.
pub fn secret_hash(v: Version, secret: &str) -> Vec<u8> {
    if pbkdf2_era(v) {
        emqx_passwd::dashboard::new_pbkdf2(
            secret.as_bytes(),
            emqx_passwd::dashboard::API_SECRET_ITERATIONS,
        )
        .into_bytes()
    } else {
        emqx_passwd::dashboard::new_legacy(secret.as_bytes())
    }
}

/// Whether `password` matches a dashboard `pwdhash` of either format.
pub fn admin_verify(password: &str, stored: &[u8]) -> bool {
    emqx_passwd::dashboard::verify(password.as_bytes(), stored)
}

/// The `api_key` of a new key: the 5.x derivation from the name, random from 6.0.3/6.1.2.
pub fn api_key_for(v: Version, name: &str) -> String {
    let random = v.at_least(6, 2, 0)
        || (v.0 == 6 && v.1 == 1 && v.2 >= 2)
        || (v.0 == 6 && v.1 == 0 && v.2 >= 3);
    if random {
        emqx_passwd::api_key::new_key_6x()
    } else {
        emqx_passwd::api_key::key_for_name_5x(name)
    }
}

/// A new API secret (base62 of 32 random bytes), returned once at creation.
pub fn new_secret() -> String {
    emqx_passwd::api_key::new_secret()
}
