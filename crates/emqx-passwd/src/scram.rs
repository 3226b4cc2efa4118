//! SCRAM built-in database (`emqx_authn_scram_mnesia`): stored/server keys and proofs.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use crate::compare::ct_eq;
use crate::error::PasswdError;
use crate::random::hex_salt;

/// EMQX's default `iteration_count`.
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// The SCRAM hash (`algorithm` of the authenticator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// SCRAM-SHA-256, EMQX's default.
    #[default]
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl Algorithm {
    /// Parses EMQX's name (`sha256`, `sha512`).
    pub fn from_name(name: &str) -> Result<Self, PasswdError> {
        match name {
            "sha256" => Ok(Self::Sha256),
            "sha512" => Ok(Self::Sha512),
            other => Err(PasswdError::UnknownScramAlgorithm(other.to_string())),
        }
    }

    /// EMQX's name of this algorithm.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Digest size in bytes (32 or 64), also the SaltedPassword length.
    pub fn output_size(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail.
        match self {
            Self::Sha256 => Hmac::<Sha256>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
            Self::Sha512 => Hmac::<Sha512>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
        }
    }
}

/// The two derived keys of a SCRAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramKeys {
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

/// What EMQX stores for a SCRAM user (besides `is_superuser`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramUser {
    /// `H(ClientKey)`, raw bytes.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`, raw bytes.
    pub server_key: Vec<u8>,
    /// 32 lowercase hex chars, used as ASCII.
    pub salt: String,
}

/// `SaltedPassword = PBKDF2-HMAC-H(password, salt, iterations, output size)`; 0 iterations act as 1.
pub fn salted_password(alg: Algorithm, iterations: u32, password: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; alg.output_size()];
    match alg {
        Algorithm::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        Algorithm::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out),
    }
    out
}

/// Stored and server keys for `password` with the given salt (ASCII as stored) and iteration count.
pub fn keys(
    alg: Algorithm,
    iterations: u32,
    password: impl AsRef<[u8]>,
    salt: impl AsRef<[u8]>,
) -> ScramKeys {
    let salted = salted_password(alg, iterations, password.as_ref(), salt.as_ref());
    let client_key = alg.hmac(&salted, b"Client Key");
    ScramKeys {
        stored_key: alg.digest(&client_key),
        server_key: alg.hmac(&salted, b"Server Key"),
    }
}

/// A new SCRAM user: a fresh 32-hex-char salt and the keys derived from it.
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn new_user(alg: Algorithm, iterations: u32, password: impl AsRef<[u8]>) -> ScramUser {
    let salt = hex_salt();
    let ScramKeys {
        stored_key,
        server_key,
    } = keys(alg, iterations, password, &salt);
    ScramUser {
        stored_key,
        server_key,
        salt,
    }
}

/// Offline password check: recompute StoredKey with the current iteration count, compare constant-time.
pub fn verify(
    alg: Algorithm,
    iterations: u32,
    password: impl AsRef<[u8]>,
    salt: impl AsRef<[u8]>,
    stored_key: &[u8],
) -> bool {
    ct_eq(
        &keys(alg, iterations, password, salt).stored_key,
        stored_key,
    )
}

/// RFC 5802 server check of a client-final `p=` proof: `H(ClientProof ⊕ HMAC(StoredKey, AuthMessage)) == StoredKey`.
pub fn verify_client_proof(
    alg: Algorithm,
    stored_key: &[u8],
    auth_message: &[u8],
    client_proof: &[u8],
) -> bool {
    let signature = alg.hmac(stored_key, auth_message);
    if client_proof.len() != signature.len() {
        return false;
    }
    let client_key: Vec<u8> = client_proof
        .iter()
        .zip(&signature)
        .map(|(p, s)| p ^ s)
        .collect();
    ct_eq(&alg.digest(&client_key), stored_key)
}

/// RFC 5802 client proof `ClientKey ⊕ HMAC(StoredKey, AuthMessage)`, the client side of the exchange.
pub fn client_proof(
    alg: Algorithm,
    iterations: u32,
    password: impl AsRef<[u8]>,
    salt: impl AsRef<[u8]>,
    auth_message: &[u8],
) -> Vec<u8> {
    let salted = salted_password(alg, iterations, password.as_ref(), salt.as_ref());
    let client_key = alg.hmac(&salted, b"Client Key");
    let stored_key = alg.digest(&client_key);
    let signature = alg.hmac(&stored_key, auth_message);
    client_key
        .iter()
        .zip(&signature)
        .map(|(k, s)| k ^ s)
        .collect()
}

/// RFC 5802 `ServerSignature = HMAC(ServerKey, AuthMessage)`, sent as `v=` in server-final.
pub fn server_signature(alg: Algorithm, server_key: &[u8], auth_message: &[u8]) -> Vec<u8> {
    alg.hmac(server_key, auth_message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn spec_vector_sha256() {
        let keys = keys(Algorithm::Sha256, DEFAULT_ITERATIONS, "p@ss", SALT);
        assert_eq!(
            hex::encode(&keys.stored_key),
            "4572af493ff784b2b484a514206609df122f9595e3e9fc91e29aed94296730a4"
        );
        assert_eq!(
            hex::encode(&keys.server_key),
            "ef83396490499457878768e51f74b330f1639c6daba7f4aaf2cfcdc3abc1077b"
        );
        assert!(verify(
            Algorithm::Sha256,
            4096,
            "p@ss",
            SALT,
            &keys.stored_key
        ));
        assert!(!verify(
            Algorithm::Sha256,
            4096,
            "p@sS",
            SALT,
            &keys.stored_key
        ));
        // The iteration count is not stored: a different current count fails.
        assert!(!verify(
            Algorithm::Sha256,
            4095,
            "p@ss",
            SALT,
            &keys.stored_key
        ));
        assert!(!verify(
            Algorithm::Sha512,
            4096,
            "p@ss",
            SALT,
            &keys.stored_key
        ));
    }

    #[test]
    fn new_user_round_trip() {
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let user = new_user(alg, 16, "secret");
            assert_eq!(user.salt.len(), 32);
            assert!(user
                .salt
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
            assert_eq!(user.stored_key.len(), alg.output_size());
            assert_eq!(user.server_key.len(), alg.output_size());
            assert!(verify(alg, 16, "secret", &user.salt, &user.stored_key));
            assert!(!verify(alg, 16, "Secret", &user.salt, &user.stored_key));
            assert_eq!(
                keys(alg, 16, "secret", &user.salt),
                ScramKeys {
                    stored_key: user.stored_key.clone(),
                    server_key: user.server_key.clone()
                }
            );
        }
    }

    #[test]
    fn rfc5802_exchange() {
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let user = new_user(alg, 32, "pencil");
            let auth = b"n=user,r=abc,r=abcdef,s=c2FsdA==,i=32,c=biws,r=abcdef";
            let proof = client_proof(alg, 32, "pencil", &user.salt, auth);
            assert!(verify_client_proof(alg, &user.stored_key, auth, &proof));
            let wrong = client_proof(alg, 32, "pencil!", &user.salt, auth);
            assert!(!verify_client_proof(alg, &user.stored_key, auth, &wrong));
            assert!(!verify_client_proof(
                alg,
                &user.stored_key,
                auth,
                &proof[1..]
            ));
            assert!(!verify_client_proof(
                alg,
                &user.stored_key,
                b"other",
                &proof
            ));
            assert_eq!(
                server_signature(alg, &user.server_key, auth).len(),
                alg.output_size()
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(Algorithm::from_name("sha256"), Ok(Algorithm::Sha256));
        assert_eq!(
            Algorithm::from_name("sha512").map(Algorithm::name),
            Ok("sha512")
        );
        assert_eq!(
            Algorithm::from_name("sha1"),
            Err(PasswdError::UnknownScramAlgorithm("sha1".into()))
        );
        assert_eq!(Algorithm::default(), Algorithm::Sha256);
    }
}
