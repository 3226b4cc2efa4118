//! Built-in database (`password_based`) hashing and verification, as `emqx_passwd` does it.

use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use crate::algorithm::{Algorithm, SaltPosition, SimpleHash};
use crate::compare::ct_eq;
use crate::error::PasswdError;
use crate::random::hex_salt;
use crate::{bcrypt, kdf};

/// A new salt as EMQX's `gen_salt` makes it for storing a new user.
///
/// 32 lowercase hex chars (16 random bytes) for md5/sha*/pbkdf2; empty for `plain` and for
/// `salt_position = disable`; for bcrypt a fresh `$2a$NN$…` setting (29 chars).
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn gen_salt(alg: &Algorithm) -> String {
    match *alg {
        Algorithm::Simple {
            hash: SimpleHash::Plain,
            ..
        }
        | Algorithm::Simple {
            salt_position: SaltPosition::Disable,
            ..
        } => String::new(),
        Algorithm::Simple { .. } | Algorithm::Pbkdf2 { .. } => hex_salt(),
        Algorithm::Bcrypt { salt_rounds } => bcrypt::gen_salt(salt_rounds),
    }
}

/// `emqx_passwd:hash/2` on UTF-8 input: the `password_hash` EMQX stores for this salt.
///
/// The salt is used as the ASCII characters it is made of, never hex-decoded. For bcrypt the
/// salt is a bcrypt setting or a whole stored bcrypt hash. Errors where EMQX would crash:
/// a malformed bcrypt salt, or pbkdf2 with md4/md5/ripemd160 and no `dk_length`.
pub fn hash(alg: &Algorithm, password: &str, salt: &str) -> Result<String, PasswdError> {
    let bytes = hash_bytes(alg, password.as_bytes(), salt.as_bytes())?;
    // Only `plain` copies input bytes; every other output is ASCII. Both are UTF-8 here.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// `emqx_passwd:hash/2` on arbitrary binaries (a `plain` hash of binary input is binary).
pub fn hash_bytes(alg: &Algorithm, password: &[u8], salt: &[u8]) -> Result<Vec<u8>, PasswdError> {
    match *alg {
        Algorithm::Simple {
            hash,
            salt_position,
        } => Ok(simple_hash(hash, salt_position, password, salt)),
        Algorithm::Pbkdf2 {
            mac_fun,
            iterations,
            dk_length,
        } => {
            let len = match dk_length {
                Some(len) => len as usize,
                None => mac_fun
                    .default_dk_length()
                    .ok_or(PasswdError::DkLengthRequired(mac_fun.name()))?,
            };
            let mut dk = vec![0u8; len];
            kdf::pbkdf2(mac_fun, password, salt, iterations, &mut dk);
            Ok(hex::encode(dk).into_bytes())
        }
        Algorithm::Bcrypt { .. } => bcrypt::hashpw(password, salt).map(String::into_bytes),
    }
}

/// `emqx_authn_password_hashing:hash/2`: `(password_hash, salt)` as stored for a new user.
///
/// For bcrypt both are the same bcrypt string. Used by user creation and by bulk import
/// with `type=plain`.
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn hash_new(alg: &Algorithm, password: &str) -> Result<(String, String), PasswdError> {
    let salt = gen_salt(alg);
    let password_hash = hash(alg, password, &salt)?;
    match alg {
        Algorithm::Bcrypt { .. } => Ok((password_hash.clone(), password_hash)),
        _ => Ok((password_hash, salt)),
    }
}

/// `check_password/4`: does `password` match the stored `password_hash` and `salt`?
///
/// plain: case-sensitive, constant-time, lengths must match. md5/sha*/pbkdf2: the recomputed
/// lowercase hex against the stored hash lowercased, constant-time. bcrypt: `hashpw(password,
/// stored_hash)` must equal the stored hash (the stored salt is not used). Anything EMQX
/// would fail on (malformed bcrypt hash, pbkdf2 without usable `dk_length`) is `false`.
pub fn verify(
    alg: &Algorithm,
    password: impl AsRef<[u8]>,
    stored_hash: impl AsRef<[u8]>,
    salt: impl AsRef<[u8]>,
) -> bool {
    let (password, stored, salt) = (password.as_ref(), stored_hash.as_ref(), salt.as_ref());
    match alg {
        Algorithm::Simple {
            hash: SimpleHash::Plain,
            ..
        } => match hash_bytes(alg, password, salt) {
            Ok(expected) => ct_eq(&expected, stored),
            Err(_) => false,
        },
        Algorithm::Simple { .. } | Algorithm::Pbkdf2 { .. } => {
            match hash_bytes(alg, password, salt) {
                Ok(expected) => ct_eq(&expected, &stored.to_ascii_lowercase()),
                Err(_) => false,
            }
        }
        Algorithm::Bcrypt { .. } => match bcrypt::hashpw(password, stored) {
            Ok(expected) => ct_eq(expected.as_bytes(), stored),
            Err(_) => false,
        },
    }
}

fn simple_hash(hash: SimpleHash, pos: SaltPosition, password: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(password.len() + salt.len());
    match pos {
        SaltPosition::Prefix => {
            data.extend_from_slice(salt);
            data.extend_from_slice(password);
        }
        SaltPosition::Suffix => {
            data.extend_from_slice(password);
            data.extend_from_slice(salt);
        }
        SaltPosition::Disable => data.extend_from_slice(password),
    }
    match hash {
        SimpleHash::Plain => data,
        SimpleHash::Md5 => hex::encode(Md5::digest(&data)).into_bytes(),
        SimpleHash::Sha => hex::encode(Sha1::digest(&data)).into_bytes(),
        SimpleHash::Sha256 => hex::encode(Sha256::digest(&data)).into_bytes(),
        SimpleHash::Sha512 => hex::encode(Sha512::digest(&data)).into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::MacFun;

    const PW: &str = "p@ss";
    const SALT: &str = "0123456789abcdef0123456789abcdef";

    fn simple(hash: SimpleHash, salt_position: SaltPosition) -> Algorithm {
        Algorithm::Simple {
            hash,
            salt_position,
        }
    }

    fn check(alg: &Algorithm, pw: &str, salt: &str, expected: &str) {
        assert_eq!(hash(alg, pw, salt).unwrap(), expected);
        assert!(verify(alg, pw, expected, salt));
        assert!(!verify(alg, "wrong", expected, salt));
    }

    #[test]
    fn spec_vector_sha256_prefix() {
        let alg = simple(SimpleHash::Sha256, SaltPosition::Prefix);
        check(
            &alg,
            PW,
            SALT,
            "621c8f1d08e7fb91005f04a96652adf6e254298ac96cc93f8086f3ae8fd5fe5c",
        );
    }

    #[test]
    fn spec_vector_sha256_suffix() {
        let alg = simple(SimpleHash::Sha256, SaltPosition::Suffix);
        check(
            &alg,
            PW,
            SALT,
            "16af919337deaa635243c760cd103caa2669a2655181e5173cd7373e121396e5",
        );
    }

    #[test]
    fn spec_vector_md5_disable_ignores_salt() {
        let alg = simple(SimpleHash::Md5, SaltPosition::Disable);
        check(&alg, PW, SALT, "195f19b835efe9f0b7b4e276ef1a8515");
        check(&alg, PW, "", "195f19b835efe9f0b7b4e276ef1a8515");
    }

    #[test]
    fn spec_vector_pbkdf2_sha256() {
        let alg = Algorithm::Pbkdf2 {
            mac_fun: MacFun::Sha256,
            iterations: 1000,
            dk_length: Some(32),
        };
        let expected = "d9b84b3d32b2c6fef738b5b1b80478519d9bc7efe777f5fba044a74e9a6bab55";
        check(&alg, PW, SALT, expected);
        // dk_length unset means the digest size: the same key for sha256.
        let alg = Algorithm::Pbkdf2 {
            mac_fun: MacFun::Sha256,
            iterations: 1000,
            dk_length: None,
        };
        check(&alg, PW, SALT, expected);
    }

    #[test]
    fn fixture_user_sha256_suffix() {
        let alg = simple(SimpleHash::Sha256, SaltPosition::Suffix);
        check(
            &alg,
            "authn-user-1",
            "10f45b7d8af9d37b7cda37c46fa2580b",
            "5d751e87a8419b0a01521e0875f28fc8c81fdb8b328b834db53b3c95290b8b70",
        );
    }

    #[test]
    fn rfc6070_pbkdf2_sha1() {
        let alg = |iterations| Algorithm::Pbkdf2 {
            mac_fun: MacFun::Sha,
            iterations,
            dk_length: None,
        };
        check(
            &alg(1),
            "password",
            "salt",
            "0c60c80f961f0e71f3a9b524af6012062fe037a6",
        );
        check(
            &alg(2),
            "password",
            "salt",
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
        );
    }

    #[test]
    fn other_digests() {
        check(
            &simple(SimpleHash::Sha, SaltPosition::Disable),
            "abc",
            "",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        );
        check(
            &simple(SimpleHash::Sha512, SaltPosition::Prefix),
            "c",
            "ab",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        );
        check(
            &simple(SimpleHash::Md5, SaltPosition::Suffix),
            "a",
            "bc",
            "900150983cd24fb0d6963f7d28e17f72",
        );
    }

    #[test]
    fn digest_and_pbkdf2_compare_case_insensitively() {
        let alg = simple(SimpleHash::Sha256, SaltPosition::Prefix);
        let upper = "621C8F1D08E7FB91005F04A96652ADF6E254298AC96CC93F8086F3AE8FD5FE5C";
        assert!(verify(&alg, PW, upper, SALT));
        assert!(verify(
            &alg,
            PW,
            "621c8f1d08E7FB91005f04a96652adf6e254298ac96cc93f8086f3ae8fd5fe5c",
            SALT
        ));
        // The salt itself is not case-folded: it is hashed as given.
        assert!(!verify(&alg, PW, upper, SALT.to_ascii_uppercase()));
        let pbkdf2 = Algorithm::Pbkdf2 {
            mac_fun: MacFun::Sha256,
            iterations: 1000,
            dk_length: Some(32),
        };
        let upper = "D9B84B3D32B2C6FEF738B5B1B80478519D9BC7EFE777F5FBA044A74E9A6BAB55";
        assert!(verify(&pbkdf2, PW, upper, SALT));
        // A truncated or extended hash never matches.
        assert!(!verify(&pbkdf2, PW, &upper[..62], SALT));
        assert!(!verify(&pbkdf2, PW, format!("{upper}0"), SALT));
    }

    #[test]
    fn plain_is_case_sensitive_and_salted() {
        let alg = simple(SimpleHash::Plain, SaltPosition::Prefix);
        assert_eq!(hash(&alg, "Secret", "").unwrap(), "Secret");
        assert_eq!(hash(&alg, "pw", "salt").unwrap(), "saltpw");
        assert!(verify(&alg, "Secret", "Secret", ""));
        assert!(!verify(&alg, "Secret", "secret", ""));
        assert!(!verify(&alg, "secret", "Secret", ""));
        assert!(!verify(&alg, "Secret", "Secret ", ""));
        assert!(verify(&alg, "pw", "saltpw", "salt"));
        let suffix = simple(SimpleHash::Plain, SaltPosition::Suffix);
        assert_eq!(hash(&suffix, "pw", "salt").unwrap(), "pwsalt");
        let disable = simple(SimpleHash::Plain, SaltPosition::Disable);
        assert_eq!(hash(&disable, "pw", "salt").unwrap(), "pw");
        // Binary passwords are compared as bytes.
        assert_eq!(hash_bytes(&disable, b"\xff\x00", b"").unwrap(), b"\xff\x00");
        assert!(verify(&disable, b"\xff\x00", b"\xff\x00", b""));
    }

    #[test]
    fn gen_salt_shapes() {
        let is_hex32 =
            |s: &str| s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        assert!(is_hex32(&gen_salt(&Algorithm::default())));
        assert!(is_hex32(&gen_salt(&Algorithm::Pbkdf2 {
            mac_fun: MacFun::Md4,
            iterations: 1,
            dk_length: Some(16)
        })));
        assert_ne!(
            gen_salt(&Algorithm::default()),
            gen_salt(&Algorithm::default())
        );
        assert_eq!(
            gen_salt(&simple(SimpleHash::Plain, SaltPosition::Prefix)),
            ""
        );
        assert_eq!(
            gen_salt(&simple(SimpleHash::Sha512, SaltPosition::Disable)),
            ""
        );
        let salt = gen_salt(&Algorithm::Bcrypt { salt_rounds: 10 });
        assert_eq!(salt.len(), 29);
        assert!(salt.starts_with("$2a$10$"), "{salt}");
        assert!(gen_salt(&Algorithm::Bcrypt { salt_rounds: 5 }).starts_with("$2a$05$"));
    }

    #[test]
    fn hash_new_stores_what_emqx_stores() {
        let (h, s) = hash_new(&simple(SimpleHash::Plain, SaltPosition::Prefix), "pw").unwrap();
        assert_eq!((h.as_str(), s.as_str()), ("pw", ""));
        let alg = simple(SimpleHash::Sha256, SaltPosition::Disable);
        let (h, s) = hash_new(&alg, "pw").unwrap();
        assert_eq!(s, "");
        assert_eq!(h, hash(&alg, "pw", "").unwrap());
        let alg = Algorithm::default();
        let (h, s) = hash_new(&alg, "pw").unwrap();
        assert_eq!(s.len(), 32);
        assert_eq!(h, hash(&alg, "pw", &s).unwrap());
        let alg = Algorithm::Bcrypt { salt_rounds: 5 };
        let (h, s) = hash_new(&alg, "pw").unwrap();
        assert_eq!(h, s);
        assert_eq!(h.len(), 60);
        assert!(h.starts_with("$2a$05$"));
        assert!(verify(&alg, "pw", &h, &s));
        assert!(verify(
            &alg,
            "pw",
            &h,
            "the salt argument is not used for bcrypt"
        ));
    }

    #[test]
    fn pbkdf2_without_default_dk_length_fails_like_emqx() {
        for mac_fun in [MacFun::Md4, MacFun::Md5, MacFun::Ripemd160] {
            let alg = Algorithm::Pbkdf2 {
                mac_fun,
                iterations: 2,
                dk_length: None,
            };
            assert_eq!(
                hash(&alg, PW, SALT),
                Err(PasswdError::DkLengthRequired(mac_fun.name()))
            );
            assert!(hash_new(&alg, PW).is_err());
            assert!(!verify(&alg, PW, "", SALT));
            let alg = Algorithm::Pbkdf2 {
                mac_fun,
                iterations: 2,
                dk_length: Some(24),
            };
            let h = hash(&alg, PW, SALT).unwrap();
            assert_eq!(h.len(), 48);
            assert!(verify(&alg, PW, &h, SALT));
        }
    }

    /// Vectors from EMQX's erlang-bcrypt test suite (`test/bcrypt_tests.erl`), cost ≤ 6.
    const BCRYPT_VECTORS: &[(&str, &str, &str)] = &[
        (
            "",
            "$2a$06$DCq7YPn5Rq63x1Lad4cll.",
            "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
        ),
        (
            "a",
            "$2a$06$m0CrhHm10qJ3lXRY.5zDGO",
            "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",
        ),
        (
            "abc",
            "$2a$06$If6bvum7DFjUnE9p2uDeDu",
            "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i",
        ),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "$2a$06$.rCVZVOThsIa97pEDOxvGu",
            "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC",
        ),
        (
            "~!@#$%^&*()      ~!@#$%^&*()PNBFRD",
            "$2a$06$fPIsBO8qRqkjj273rfaOI.",
            "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO",
        ),
        (
            "U*U",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        ),
        (
            "U*U*",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK",
        ),
        (
            "U*U*U",
            "$2a$05$XXXXXXXXXXXXXXXXXXXXXO",
            "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a",
        ),
        (
            "",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy",
        ),
        (
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            "$2a$05$abcdefghijklmnopqrstuu",
            "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
        ),
    ];

    #[test]
    fn bcrypt_vectors() {
        let alg = Algorithm::Bcrypt { salt_rounds: 10 };
        for &(pw, salt, expected) in BCRYPT_VECTORS {
            assert_eq!(hash(&alg, pw, salt).unwrap(), expected, "pw {pw:?}");
            // The stored hash serves as its own salt.
            assert_eq!(hash(&alg, pw, expected).unwrap(), expected, "pw {pw:?}");
            assert!(verify(&alg, pw, expected, expected));
            assert!(!verify(&alg, format!("x{pw}"), expected, expected));
        }
    }

    #[test]
    fn bcrypt_minor_versions_and_72_byte_limit() {
        let alg = Algorithm::Bcrypt { salt_rounds: 10 };
        let zeros = "0".repeat(72);
        let tail = "6.O1dLNbjod2uo0DVcW.jHucKbPDdHS";
        for minor in ['a', 'b', 'y'] {
            let salt = format!("$2{minor}$05$CCCCCCCCCCCCCCCCCCCCC.");
            assert_eq!(hash(&alg, &zeros, &salt).unwrap(), format!("{salt}{tail}"));
            // Bytes past 72 do not count.
            assert_eq!(
                hash(&alg, &format!("{zeros}123"), &salt).unwrap(),
                format!("{salt}{tail}")
            );
        }
        // $2a$: key_len = (strlen + 1) mod 256; 255 bytes wrap to 0 and the key is its first byte.
        let long = "0123456789".repeat(26);
        let long = &long[..255];
        let salt = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.";
        assert_eq!(hash(&alg, long, salt).unwrap(), format!("{salt}{tail}"));
        // $2b$ caps the length instead, so the same password hashes differently there.
        assert_ne!(
            hash(&alg, long, "$2b$05$CCCCCCCCCCCCCCCCCCCCC.").unwrap(),
            format!("$2b$05$CCCCCCCCCCCCCCCCCCCCC.{tail}")
        );
    }

    #[test]
    fn bcrypt_password_is_a_c_string() {
        let alg = Algorithm::Bcrypt { salt_rounds: 5 };
        let salt = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.";
        let stored = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert!(verify(&alg, b"U*U\0anything", stored, ""));
        assert_eq!(
            hash_bytes(&alg, b"U*U\0x", salt.as_bytes()).unwrap(),
            stored.as_bytes()
        );
    }

    #[test]
    fn bcrypt_bad_salts_are_errors() {
        let alg = Algorithm::Bcrypt { salt_rounds: 5 };
        for bad in [
            "",
            "$2a$05$",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC",
            "$2c$05$CCCCCCCCCCCCCCCCCCCCC.",
            "$3a$05$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$5$CCCCCCCCCCCCCCCCCCCCCC.",
            "$2a$03$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$32$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$0x$CCCCCCCCCCCCCCCCCCCCC.",
            "$2a$05$CCCCCCCCCC*CCCCCCCCCC.",
            "$2a$05$CCCCCCCCCCéCCCCCCCCCC.",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(
                matches!(hash(&alg, "pw", bad), Err(PasswdError::BadBcryptSalt(_))),
                "{bad:?}"
            );
            assert!(!verify(&alg, "pw", bad, bad), "{bad:?}");
        }
        // A bare setting (no checksum) never verifies.
        assert!(!verify(&alg, "", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.", ""));
    }
}
