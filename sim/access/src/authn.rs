//! Authentication, as `emqx_authn_chains:authenticate/2` runs a chain: the enabled
//! authenticators in order, each answering `ignore` (ask the next), a success or an error; the
//! first definite answer wins, a chain of ignores refuses with `not_authorized`, and a chain
//! without enabled authenticators lets everyone in.
//!
//! The chain is the listener's own (`listeners.<type>.<name>.authentication`, user group
//! `<type>:<name>`) when it has one, else the global `authentication` root (user group
//! `mqtt:global`); a listener with `enable_authn = false` skips authentication.
//!
//! * `password_based:built_in_database` (`emqx_authn_mnesia`, EMQX 5.x): a client with an
//!   authentication method is ignored, one without a password is refused
//!   (`bad_username_or_password`), a user id (username or clientid per `user_id_type`) not in
//!   `{UserGroup, UserId}` is ignored, else the password is checked with the authenticator's
//!   `password_hash_algorithm` through `emqx-passwd`.
//! * `scram:built_in_database` answers only MQTT 5 enhanced authentication, which the sim's
//!   listener does not speak: it ignores every client. [`check_scram_user`] checks a password
//!   against a stored SCRAM user offline.
//! * Any other authenticator (HTTP, JWT, databases) cannot be reached from the sim and ignores
//!   every client.

use crate::{AccessError, ClientInfo, Refusal};
use emqx_passwd::scram;
use emqx_passwd::Algorithm;
use emqx_sim_store::Tx;
use erlang_term::Term;
use serde_json::Value;

/// The password users' table.
pub const PASSWORD_TABLE: &str = "emqx_authn_mnesia";
/// The SCRAM users' table.
pub const SCRAM_TABLE: &str = "emqx_authn_scram_mnesia";
/// The id of the SCRAM built-in database authenticator, also its users' group.
pub const SCRAM_DB: &str = "scram:built_in_database";
/// The global MQTT chain.
pub const GLOBAL_CHAIN: &str = "mqtt:global";

/// Which client field is a built-in database user's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserIdType {
    /// The username (EMQX's default).
    Username,
    /// The client id.
    Clientid,
}

/// One enabled authenticator of a chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Authenticator {
    /// `password_based:built_in_database`.
    Password {
        /// Username or clientid.
        user_id_type: UserIdType,
        /// The hash algorithm every user of the chain is checked with.
        algorithm: Algorithm,
    },
    /// `scram:built_in_database`.
    Scram {
        /// sha256 or sha512.
        algorithm: scram::Algorithm,
        /// `iteration_count`.
        iterations: u32,
    },
    /// Any other authenticator, by id (`password_based:http`, `jwt`).
    Other(String),
}

/// The enabled authenticators of a chain, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// The chain name, also the user group of its password users (`mqtt:global`).
    pub name: String,
    /// Its enabled authenticators.
    pub authenticators: Vec<Authenticator>,
}

/// One authenticator's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Ask the next authenticator.
    Ignore,
    /// Authenticated.
    Allow {
        /// The user's `is_superuser`.
        is_superuser: bool,
    },
    /// Refused.
    Deny(Refusal),
}

/// The outcome of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authenticated {
    /// Let in.
    Allow {
        /// Superusers skip authorization.
        is_superuser: bool,
    },
    /// Refused.
    Deny(Refusal),
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `enable` of a config object (default true; `false` or `"false"` disables).
pub fn enabled(conf: &Value) -> bool {
    conf.get("enable").and_then(text).as_deref() != Some("false")
}

/// `mechanism:backend`, or the mechanism alone, as `emqx_authn_chains:authenticator_id/1`.
pub fn authenticator_id(conf: &Value) -> Option<String> {
    let mechanism = text(conf.get("mechanism")?)?;
    match conf.get("backend") {
        Some(b) => Some(format!("{mechanism}:{}", text(b)?)),
        None => Some(mechanism),
    }
}

/// Parses one authenticator config; `key` names it in errors (`authentication[0]`).
pub fn authenticator(key: &str, conf: &Value) -> Result<Authenticator, AccessError> {
    let bad = |field: &str, message: String| AccessError::Config {
        key: format!("{key}.{field}"),
        message,
    };
    let id = authenticator_id(conf).ok_or_else(|| AccessError::Config {
        key: key.to_owned(),
        message: format!("{conf} is not an authenticator (no mechanism)"),
    })?;
    Ok(match id.as_str() {
        "password_based:built_in_database" => {
            let user_id_type = match conf.get("user_id_type").and_then(text).as_deref() {
                None | Some("username") => UserIdType::Username,
                Some("clientid") => UserIdType::Clientid,
                Some(other) => {
                    return Err(bad(
                        "user_id_type",
                        format!("{other:?} is neither username nor clientid"),
                    ))
                }
            };
            let algorithm = match conf.get("password_hash_algorithm") {
                None | Some(Value::Null) => Algorithm::default(),
                Some(v) => Algorithm::from_config(v)
                    .map_err(|e| bad("password_hash_algorithm", e.to_string()))?,
            };
            Authenticator::Password {
                user_id_type,
                algorithm,
            }
        }
        SCRAM_DB => {
            let algorithm = match conf.get("algorithm").and_then(text) {
                None => scram::Algorithm::default(),
                Some(name) => scram::Algorithm::from_name(&name)
                    .map_err(|e| bad("algorithm", e.to_string()))?,
            };
            let iterations = match conf.get("iteration_count") {
                None | Some(Value::Null) => scram::DEFAULT_ITERATIONS,
                Some(v) => text(v)
                    .and_then(|t| t.trim().parse().ok())
                    .ok_or_else(|| bad("iteration_count", format!("{v} is not a count")))?,
            };
            Authenticator::Scram {
                algorithm,
                iterations,
            }
        }
        _ => Authenticator::Other(id),
    })
}

/// The chain a config value describes (a list of authenticators, or one alone); `key` is its
/// config path.
pub fn chain_of(name: &str, key: &str, value: Option<&Value>) -> Result<Chain, AccessError> {
    let items: Vec<(String, &Value)> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{key}[{i}]"), v))
            .collect(),
        Some(o @ Value::Object(_)) => vec![(key.to_owned(), o)],
        Some(other) => {
            return Err(AccessError::Config {
                key: key.to_owned(),
                message: format!("{other} is not a list of authenticators"),
            })
        }
    };
    let authenticators = items
        .into_iter()
        .filter(|(_, conf)| enabled(conf))
        .map(|(k, conf)| authenticator(&k, conf))
        .collect::<Result<_, _>>()?;
    Ok(Chain {
        name: name.to_owned(),
        authenticators,
    })
}

/// The chain that authenticates clients of `listener` (`tcp:default`); `None` when the
/// listener has `enable_authn = false`.
pub fn chain(tx: &Tx<'_>, listener: &str) -> Result<Option<Chain>, AccessError> {
    let (ty, name) = listener.split_once(':').unwrap_or((listener, "default"));
    let listeners = tx.config("listeners")?;
    let conf = listeners.as_ref().and_then(|l| l.get(ty)?.get(name));
    if conf
        .and_then(|c| c.get("enable_authn"))
        .and_then(text)
        .as_deref()
        == Some("false")
    {
        return Ok(None);
    }
    let own = conf.and_then(|c| c.get("authentication"));
    let has_own = match own {
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(_)) => true,
        _ => false,
    };
    if has_own {
        let key = format!("listeners.{ty}.{name}.authentication");
        return chain_of(listener, &key, own).map(Some);
    }
    let global = tx.config("authentication")?;
    chain_of(GLOBAL_CHAIN, "authentication", global.as_ref()).map(Some)
}

/// The answer of a password user record `{emqx_authn_mnesia, Key, PasswordHash, Salt,
/// IsSuperuser}` to `password` under `algorithm`.
pub fn check_password_user(
    record: &Term,
    algorithm: &Algorithm,
    password: &[u8],
) -> Result<Answer, String> {
    let Some([_, _, hash, salt, su]) = record.as_tuple() else {
        return Err(format!("{record} is not a user_info record of 5 elements"));
    };
    let (Some(hash), Some(salt)) = (hash.as_binary(), salt.as_binary()) else {
        return Err("password_hash and salt must be binaries".into());
    };
    if !emqx_passwd::verify(algorithm, password, hash, salt) {
        return Ok(Answer::Deny(Refusal::BadUsernameOrPassword));
    }
    Ok(Answer::Allow {
        is_superuser: su.as_atom() == Some("true"),
    })
}

/// Offline check of a SCRAM user record `{emqx_authn_scram_mnesia, Key, StoredKey, ServerKey,
/// Salt, IsSuperuser}`: `Some(is_superuser)` when `password` derives its stored key with the
/// authenticator's current algorithm and iteration count, `None` when it does not.
pub fn check_scram_user(
    record: &Term,
    algorithm: scram::Algorithm,
    iterations: u32,
    password: &[u8],
) -> Result<Option<bool>, String> {
    let Some([_, _, stored_key, _server_key, salt, su]) = record.as_tuple() else {
        return Err(format!(
            "{record} is not a SCRAM user_info record of 6 elements"
        ));
    };
    let (Some(stored_key), Some(salt)) = (stored_key.as_binary(), salt.as_binary()) else {
        return Err("stored_key and salt must be binaries".into());
    };
    Ok(
        scram::verify(algorithm, iterations, password, salt, stored_key)
            .then(|| su.as_atom() == Some("true")),
    )
}

/// The user key `{UserGroup, UserId}` of a password user.
pub fn password_user_key(group: &str, user_id: &str) -> Term {
    Term::Tuple(vec![Term::atom(group), Term::binary(user_id)])
}

/// One authenticator's answer to `client`.
pub fn answer(
    tx: &Tx<'_>,
    chain: &str,
    authenticator: &Authenticator,
    client: &ClientInfo,
) -> Result<Answer, AccessError> {
    let Authenticator::Password {
        user_id_type,
        algorithm,
    } = authenticator
    else {
        return Ok(Answer::Ignore);
    };
    if client.auth_method.is_some() {
        return Ok(Answer::Ignore);
    }
    let Some(password) = &client.password else {
        return Ok(Answer::Deny(Refusal::BadUsernameOrPassword));
    };
    let user_id = match user_id_type {
        UserIdType::Username => client.username.as_deref(),
        UserIdType::Clientid => Some(client.clientid.as_str()),
    };
    let Some(user_id) = user_id else {
        return Ok(Answer::Ignore);
    };
    let key = password_user_key(chain, user_id);
    let Some(record) = tx.get(PASSWORD_TABLE, &key)? else {
        return Ok(Answer::Ignore);
    };
    check_password_user(&record, algorithm, password).map_err(|message| AccessError::Record {
        table: PASSWORD_TABLE.into(),
        record: key.to_string(),
        message,
    })
}

/// Runs the client's chain (see the module doc).
pub fn authenticate(tx: &Tx<'_>, client: &ClientInfo) -> Result<Authenticated, AccessError> {
    let Some(chain) = chain(tx, &client.listener)? else {
        return Ok(Authenticated::Allow {
            is_superuser: false,
        });
    };
    if chain.authenticators.is_empty() {
        return Ok(Authenticated::Allow {
            is_superuser: false,
        });
    }
    for a in &chain.authenticators {
        match answer(tx, &chain.name, a, client)? {
            Answer::Ignore => continue,
            Answer::Allow { is_superuser } => return Ok(Authenticated::Allow { is_superuser }),
            Answer::Deny(r) => return Ok(Authenticated::Deny(r)),
        }
    }
    Ok(Authenticated::Deny(Refusal::NotAuthorized))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SALT: &str = "0123456789abcdef0123456789abcdef";

    fn user(hash: &str, salt: &str, su: bool) -> Term {
        Term::Tuple(vec![
            Term::atom(PASSWORD_TABLE),
            password_user_key(GLOBAL_CHAIN, "u"),
            Term::binary(hash),
            Term::binary(salt),
            Term::atom(if su { "true" } else { "false" }),
        ])
    }

    #[test]
    fn spec_vectors_for_every_salt_position() {
        let alg = |v| Algorithm::from_config(&v).unwrap();
        let cases = [
            (
                json!({"name": "sha256", "salt_position": "prefix"}),
                "621c8f1d08e7fb91005f04a96652adf6e254298ac96cc93f8086f3ae8fd5fe5c",
            ),
            (
                json!({"name": "sha256", "salt_position": "suffix"}),
                "16af919337deaa635243c760cd103caa2669a2655181e5173cd7373e121396e5",
            ),
            (
                json!({"name": "md5", "salt_position": "disable"}),
                "195f19b835efe9f0b7b4e276ef1a8515",
            ),
            (
                json!({"name": "pbkdf2", "mac_fun": "sha256", "iterations": 1000, "dk_length": 32}),
                "d9b84b3d32b2c6fef738b5b1b80478519d9bc7efe777f5fba044a74e9a6bab55",
            ),
        ];
        for (conf, hash) in cases {
            let a = alg(conf.clone());
            let r = user(hash, SALT, false);
            assert_eq!(
                check_password_user(&r, &a, b"p@ss"),
                Ok(Answer::Allow {
                    is_superuser: false
                }),
                "{conf}"
            );
            assert_eq!(
                check_password_user(&r, &a, b"p@sS"),
                Ok(Answer::Deny(Refusal::BadUsernameOrPassword)),
                "{conf}"
            );
        }
        // The same hash under another salt position does not verify.
        let prefix = "621c8f1d08e7fb91005f04a96652adf6e254298ac96cc93f8086f3ae8fd5fe5c";
        let suffix = alg(json!({"name": "sha256", "salt_position": "suffix"}));
        assert_eq!(
            check_password_user(&user(prefix, SALT, true), &suffix, b"p@ss"),
            Ok(Answer::Deny(Refusal::BadUsernameOrPassword))
        );
    }

    #[test]
    fn fixture_user_and_superuser() {
        let a =
            Algorithm::from_config(&json!({"name": "sha256", "salt_position": "suffix"})).unwrap();
        let r = user(
            "5d751e87a8419b0a01521e0875f28fc8c81fdb8b328b834db53b3c95290b8b70",
            "10f45b7d8af9d37b7cda37c46fa2580b",
            true,
        );
        assert_eq!(
            check_password_user(&r, &a, b"authn-user-1"),
            Ok(Answer::Allow { is_superuser: true })
        );
        assert!(check_password_user(&Term::Int(1), &a, b"x").is_err());
    }

    #[test]
    fn every_algorithm_round_trips() {
        let confs = [
            json!({"name": "plain", "salt_position": "disable"}),
            json!({"name": "plain", "salt_position": "prefix"}),
            json!({"name": "md5", "salt_position": "suffix"}),
            json!({"name": "sha", "salt_position": "prefix"}),
            json!({"name": "sha512", "salt_position": "suffix"}),
            json!({"name": "pbkdf2", "mac_fun": "sha", "iterations": 3}),
            json!({"name": "bcrypt", "salt_rounds": 5}),
        ];
        for conf in confs {
            let a = Algorithm::from_config(&conf).unwrap();
            let (hash, salt) = emqx_passwd::hash_new(&a, "secret").unwrap();
            let r = user(&hash, &salt, false);
            assert!(
                matches!(
                    check_password_user(&r, &a, b"secret"),
                    Ok(Answer::Allow { .. })
                ),
                "{conf}"
            );
            assert_eq!(
                check_password_user(&r, &a, b"Secret"),
                Ok(Answer::Deny(Refusal::BadUsernameOrPassword)),
                "{conf}"
            );
        }
    }

    #[test]
    fn scram_offline_check() {
        let alg = scram::Algorithm::Sha256;
        let keys = scram::keys(alg, 4096, "p@ss", SALT);
        assert_eq!(
            keys.stored_key,
            hex_bytes("4572af493ff784b2b484a514206609df122f9595e3e9fc91e29aed94296730a4")
        );
        let record = Term::Tuple(vec![
            Term::atom(SCRAM_TABLE),
            Term::Tuple(vec![Term::binary(SCRAM_DB), Term::binary("u")]),
            Term::Binary(keys.stored_key),
            Term::Binary(keys.server_key),
            Term::binary(SALT),
            Term::atom("true"),
        ]);
        assert_eq!(
            check_scram_user(&record, alg, 4096, b"p@ss"),
            Ok(Some(true))
        );
        assert_eq!(check_scram_user(&record, alg, 4096, b"p@sS"), Ok(None));
        // The iteration count is config, not stored: changing it fails every user.
        assert_eq!(check_scram_user(&record, alg, 4095, b"p@ss"), Ok(None));
        assert_eq!(
            check_scram_user(&record, scram::Algorithm::Sha512, 4096, b"p@ss"),
            Ok(None)
        );
        assert!(check_scram_user(&Term::Int(0), alg, 1, b"x").is_err());
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn chain_config() {
        let conf = json!([
            {"mechanism": "password_based", "backend": "http", "enable": true},
            {"mechanism": "password_based", "backend": "built_in_database",
             "user_id_type": "clientid",
             "password_hash_algorithm": {"name": "sha512", "salt_position": "suffix"}},
            {"mechanism": "scram", "backend": "built_in_database", "enable": false},
            {"mechanism": "scram", "backend": "built_in_database", "algorithm": "sha512",
             "iteration_count": "10"},
        ]);
        let chain = chain_of(GLOBAL_CHAIN, "authentication", Some(&conf)).unwrap();
        assert_eq!(
            chain.authenticators.len(),
            3,
            "the disabled one is left out"
        );
        assert_eq!(
            chain.authenticators[0],
            Authenticator::Other("password_based:http".into())
        );
        assert!(matches!(
            chain.authenticators[1],
            Authenticator::Password {
                user_id_type: UserIdType::Clientid,
                ..
            }
        ));
        assert_eq!(
            chain.authenticators[2],
            Authenticator::Scram {
                algorithm: scram::Algorithm::Sha512,
                iterations: 10
            }
        );
        let bad = json!({"mechanism": "password_based", "backend": "built_in_database",
                         "password_hash_algorithm": {"name": "rot13"}});
        let e = chain_of(GLOBAL_CHAIN, "authentication", Some(&bad)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("config authentication.password_hash_algorithm:"),
            "{e}"
        );
    }
}
