//! The `password_hash_algorithm` of a built-in-database authenticator, parsed from its JSON config.

use serde_json::{Map, Value};

use crate::error::PasswdError;

/// Fewest bcrypt rounds EMQX uses (`SALT_ROUNDS_MIN`).
pub const BCRYPT_MIN_ROUNDS: u32 = 5;
/// Most bcrypt rounds EMQX uses (`SALT_ROUNDS_MAX`), also the default.
pub const BCRYPT_MAX_ROUNDS: u32 = 10;
/// Largest `dk_length` accepted (1 MiB), a sanity bound EMQX itself does not have.
pub const MAX_DK_LENGTH: u32 = 1 << 20;

/// Where the salt goes relative to the password for the simple algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SaltPosition {
    /// `H(salt ‖ password)`; EMQX's default.
    #[default]
    Prefix,
    /// `H(password ‖ salt)`.
    Suffix,
    /// `H(password)`; the salt is ignored and stored empty.
    Disable,
}

impl SaltPosition {
    /// Parses EMQX's name (`prefix`, `suffix`, `disable`).
    pub fn from_name(name: &str) -> Result<Self, PasswdError> {
        match name {
            "prefix" => Ok(Self::Prefix),
            "suffix" => Ok(Self::Suffix),
            "disable" => Ok(Self::Disable),
            other => Err(PasswdError::UnknownSaltPosition(other.to_string())),
        }
    }

    /// EMQX's name of this position.
    pub fn name(self) -> &'static str {
        match self {
            Self::Prefix => "prefix",
            Self::Suffix => "suffix",
            Self::Disable => "disable",
        }
    }
}

/// The simple (one-shot digest or plaintext) algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimpleHash {
    /// The salted plaintext itself.
    Plain,
    /// Lowercase hex MD5.
    Md5,
    /// Lowercase hex SHA-1.
    Sha,
    /// Lowercase hex SHA-256.
    Sha256,
    /// Lowercase hex SHA-512.
    Sha512,
}

impl SimpleHash {
    /// EMQX's name of this algorithm.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Md5 => "md5",
            Self::Sha => "sha",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }
}

/// The HMAC hash functions PBKDF2 may use (`mac_fun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacFun {
    /// MD4.
    Md4,
    /// MD5.
    Md5,
    /// RIPEMD-160.
    Ripemd160,
    /// SHA-1.
    Sha,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl MacFun {
    /// Parses EMQX's name (`md4`, `md5`, `ripemd160`, `sha`, `sha224`, `sha256`, `sha384`, `sha512`).
    pub fn from_name(name: &str) -> Result<Self, PasswdError> {
        Ok(match name {
            "md4" => Self::Md4,
            "md5" => Self::Md5,
            "ripemd160" => Self::Ripemd160,
            "sha" => Self::Sha,
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            other => return Err(PasswdError::UnknownMacFun(other.to_string())),
        })
    }

    /// EMQX's name of this MAC function.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md4 => "md4",
            Self::Md5 => "md5",
            Self::Ripemd160 => "ripemd160",
            Self::Sha => "sha",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Digest size in bytes.
    pub fn output_size(self) -> usize {
        match self {
            Self::Md4 | Self::Md5 => 16,
            Self::Ripemd160 | Self::Sha => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The DK length EMQX's pbkdf2 uses when `dk_length` is unset: the digest size, sha family only.
    pub fn default_dk_length(self) -> Option<usize> {
        match self {
            Self::Md4 | Self::Md5 | Self::Ripemd160 => None,
            other => Some(other.output_size()),
        }
    }
}

/// A built-in-database `password_hash_algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `plain`, `md5`, `sha`, `sha256`, `sha512` with a salt position.
    Simple {
        /// The digest (or plaintext).
        hash: SimpleHash,
        /// Where the salt goes.
        salt_position: SaltPosition,
    },
    /// PBKDF2-HMAC; output is lowercase hex of the derived key.
    Pbkdf2 {
        /// The HMAC hash function.
        mac_fun: MacFun,
        /// Iteration count (at least 1).
        iterations: u32,
        /// Derived key length in bytes; `None` means the digest size (sha family only).
        dk_length: Option<u32>,
    },
    /// bcrypt; the stored salt is the bcrypt hash itself.
    Bcrypt {
        /// Work factor for new hashes, within 5..=10.
        salt_rounds: u32,
    },
}

impl Default for Algorithm {
    /// EMQX's schema default: `{name = sha256, salt_position = prefix}`.
    fn default() -> Self {
        Self::Simple {
            hash: SimpleHash::Sha256,
            salt_position: SaltPosition::Prefix,
        }
    }
}

impl Algorithm {
    /// Parses the JSON form of `password_hash_algorithm`, applying EMQX's defaults.
    ///
    /// Unknown extra fields are ignored. Integers may be JSON numbers or decimal strings.
    /// `salt_rounds` is clamped to 5..=10 as EMQX's converter does.
    pub fn from_config(config: &Value) -> Result<Self, PasswdError> {
        let obj = match config {
            Value::Object(obj) => obj,
            other => return Err(PasswdError::NotAnObject(json_type(other))),
        };
        let name = str_field(obj, "name")?.ok_or(PasswdError::MissingField("name"))?;
        match name {
            "plain" | "md5" | "sha" | "sha256" | "sha512" => {
                let hash = match name {
                    "plain" => SimpleHash::Plain,
                    "md5" => SimpleHash::Md5,
                    "sha" => SimpleHash::Sha,
                    "sha256" => SimpleHash::Sha256,
                    _ => SimpleHash::Sha512,
                };
                let salt_position = match str_field(obj, "salt_position")? {
                    Some(pos) => SaltPosition::from_name(pos)?,
                    None => SaltPosition::Prefix,
                };
                Ok(Self::Simple {
                    hash,
                    salt_position,
                })
            }
            "pbkdf2" => {
                let mac_fun =
                    str_field(obj, "mac_fun")?.ok_or(PasswdError::MissingField("mac_fun"))?;
                let mac_fun = MacFun::from_name(mac_fun)?;
                let iterations =
                    int_field(obj, "iterations")?.ok_or(PasswdError::MissingField("iterations"))?;
                let iterations = u32::try_from(iterations)
                    .ok()
                    .filter(|&i| i >= 1)
                    .ok_or_else(|| PasswdError::InvalidField {
                        field: "iterations",
                        reason: format!("{iterations} is not between 1 and {}", u32::MAX),
                    })?;
                let dk_length = match int_field(obj, "dk_length")? {
                    None => None,
                    Some(len) => Some(
                        u32::try_from(len)
                            .ok()
                            .filter(|l| (1..=MAX_DK_LENGTH).contains(l))
                            .ok_or_else(|| PasswdError::InvalidField {
                                field: "dk_length",
                                reason: format!("{len} is not between 1 and {MAX_DK_LENGTH}"),
                            })?,
                    ),
                };
                Ok(Self::Pbkdf2 {
                    mac_fun,
                    iterations,
                    dk_length,
                })
            }
            "bcrypt" => {
                let salt_rounds = match int_field(obj, "salt_rounds")? {
                    None => BCRYPT_MAX_ROUNDS,
                    Some(r) => {
                        r.clamp(i64::from(BCRYPT_MIN_ROUNDS), i64::from(BCRYPT_MAX_ROUNDS)) as u32
                    }
                };
                Ok(Self::Bcrypt { salt_rounds })
            }
            other => Err(PasswdError::UnknownAlgorithm(other.to_string())),
        }
    }

    /// The JSON form of this algorithm, with every defaulted field written out.
    pub fn to_config(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("name".into(), self.name().into());
        match *self {
            Self::Simple { salt_position, .. } => {
                obj.insert("salt_position".into(), salt_position.name().into());
            }
            Self::Pbkdf2 {
                mac_fun,
                iterations,
                dk_length,
            } => {
                obj.insert("mac_fun".into(), mac_fun.name().into());
                obj.insert("iterations".into(), iterations.into());
                if let Some(len) = dk_length {
                    obj.insert("dk_length".into(), len.into());
                }
            }
            Self::Bcrypt { salt_rounds } => {
                obj.insert("salt_rounds".into(), salt_rounds.into());
            }
        }
        Value::Object(obj)
    }

    /// EMQX's `name` of this algorithm.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Simple { hash, .. } => hash.name(),
            Self::Pbkdf2 { .. } => "pbkdf2",
            Self::Bcrypt { .. } => "bcrypt",
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn str_field<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, PasswdError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(PasswdError::InvalidField {
            field,
            reason: format!("expected a string, got {}", json_type(other)),
        }),
    }
}

fn int_field(obj: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, PasswdError> {
    let bad = |reason: String| PasswdError::InvalidField { field, reason };
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(format!("expected an integer, got {s:?}"))),
        Some(other) => Err(bad(format!(
            "expected an integer, got {}",
            json_type(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<Algorithm, PasswdError> {
        Algorithm::from_config(&v)
    }

    #[test]
    fn simple_defaults_to_prefix() {
        assert_eq!(parse(json!({"name": "sha256"})), Ok(Algorithm::default()));
        assert_eq!(
            parse(json!({"name": "md5", "salt_position": "disable"})),
            Ok(Algorithm::Simple {
                hash: SimpleHash::Md5,
                salt_position: SaltPosition::Disable
            })
        );
        for (name, hash) in [
            ("plain", SimpleHash::Plain),
            ("md5", SimpleHash::Md5),
            ("sha", SimpleHash::Sha),
            ("sha256", SimpleHash::Sha256),
            ("sha512", SimpleHash::Sha512),
        ] {
            for pos in ["prefix", "suffix", "disable"] {
                let alg = parse(json!({"name": name, "salt_position": pos})).unwrap();
                assert_eq!(
                    alg,
                    Algorithm::Simple {
                        hash,
                        salt_position: SaltPosition::from_name(pos).unwrap()
                    }
                );
                assert_eq!(parse(alg.to_config()), Ok(alg));
            }
        }
    }

    #[test]
    fn pbkdf2_fields() {
        let alg = parse(
            json!({"name": "pbkdf2", "mac_fun": "sha256", "iterations": 1000, "dk_length": 32}),
        );
        assert_eq!(
            alg,
            Ok(Algorithm::Pbkdf2 {
                mac_fun: MacFun::Sha256,
                iterations: 1000,
                dk_length: Some(32)
            })
        );
        let alg =
            parse(json!({"name": "pbkdf2", "mac_fun": "ripemd160", "iterations": "7"})).unwrap();
        assert_eq!(
            alg,
            Algorithm::Pbkdf2 {
                mac_fun: MacFun::Ripemd160,
                iterations: 7,
                dk_length: None
            }
        );
        assert_eq!(parse(alg.to_config()), Ok(alg));
        for mac in [
            "md4",
            "md5",
            "ripemd160",
            "sha",
            "sha224",
            "sha256",
            "sha384",
            "sha512",
        ] {
            assert_eq!(MacFun::from_name(mac).map(MacFun::name), Ok(mac));
        }
    }

    #[test]
    fn pbkdf2_errors() {
        assert_eq!(
            parse(json!({"name": "pbkdf2", "iterations": 1})),
            Err(PasswdError::MissingField("mac_fun"))
        );
        assert_eq!(
            parse(json!({"name": "pbkdf2", "mac_fun": "sha256"})),
            Err(PasswdError::MissingField("iterations"))
        );
        assert_eq!(
            parse(json!({"name": "pbkdf2", "mac_fun": "sha3", "iterations": 1})),
            Err(PasswdError::UnknownMacFun("sha3".into()))
        );
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("x"),
            json!(true),
            json!(1u64 << 40),
        ] {
            let err =
                parse(json!({"name": "pbkdf2", "mac_fun": "sha", "iterations": bad})).unwrap_err();
            assert!(
                matches!(
                    err,
                    PasswdError::InvalidField {
                        field: "iterations",
                        ..
                    }
                ),
                "{err}"
            );
        }
        for bad in [json!(0), json!(-3), json!(MAX_DK_LENGTH + 1), json!([])] {
            let err = parse(
                json!({"name": "pbkdf2", "mac_fun": "sha", "iterations": 1, "dk_length": bad}),
            )
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    PasswdError::InvalidField {
                        field: "dk_length",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn bcrypt_rounds_default_and_clamp() {
        let rounds = |v: Value| match parse(v) {
            Ok(Algorithm::Bcrypt { salt_rounds }) => salt_rounds,
            other => panic!("{other:?}"),
        };
        assert_eq!(rounds(json!({"name": "bcrypt"})), 10);
        assert_eq!(rounds(json!({"name": "bcrypt", "salt_rounds": null})), 10);
        assert_eq!(rounds(json!({"name": "bcrypt", "salt_rounds": 7})), 7);
        assert_eq!(rounds(json!({"name": "bcrypt", "salt_rounds": 1})), 5);
        assert_eq!(rounds(json!({"name": "bcrypt", "salt_rounds": -100})), 5);
        assert_eq!(rounds(json!({"name": "bcrypt", "salt_rounds": 12})), 10);
        assert_eq!(
            rounds(json!({"name": "bcrypt", "salt_rounds": i64::MAX})),
            10
        );
        let alg = Algorithm::Bcrypt { salt_rounds: 6 };
        assert_eq!(parse(alg.to_config()), Ok(alg));
    }

    #[test]
    fn bad_configs_are_errors() {
        assert_eq!(
            parse(json!("sha256")),
            Err(PasswdError::NotAnObject("a string"))
        );
        assert_eq!(parse(json!(null)), Err(PasswdError::NotAnObject("null")));
        assert_eq!(parse(json!({})), Err(PasswdError::MissingField("name")));
        assert_eq!(
            parse(json!({"name": "SHA256"})),
            Err(PasswdError::UnknownAlgorithm("SHA256".into()))
        );
        assert_eq!(
            parse(json!({"name": "sha256", "salt_position": "middle"})),
            Err(PasswdError::UnknownSaltPosition("middle".into()))
        );
        assert!(matches!(
            parse(json!({"name": 5})),
            Err(PasswdError::InvalidField { field: "name", .. })
        ));
        assert!(matches!(
            parse(json!({"name": "sha", "salt_position": 1})),
            Err(PasswdError::InvalidField {
                field: "salt_position",
                ..
            })
        ));
        let msg = parse(json!({"name": "argon2"})).unwrap_err().to_string();
        assert!(msg.contains("argon2"), "{msg}");
    }

    #[test]
    fn default_dk_length_only_for_sha_family() {
        assert_eq!(MacFun::Md4.default_dk_length(), None);
        assert_eq!(MacFun::Md5.default_dk_length(), None);
        assert_eq!(MacFun::Ripemd160.default_dk_length(), None);
        assert_eq!(MacFun::Sha.default_dk_length(), Some(20));
        assert_eq!(MacFun::Sha224.default_dk_length(), Some(28));
        assert_eq!(MacFun::Sha256.default_dk_length(), Some(32));
        assert_eq!(MacFun::Sha384.default_dk_length(), Some(48));
        assert_eq!(MacFun::Sha512.default_dk_length(), Some(64));
    }
}
