//! Dashboard users (`emqx_dashboard_api`, table `emqx_admin`) and API keys
//! (`emqx_mgmt_api_api_keys`, table `emqx_app`), as EMQX 5.8.
//!
//! Users are `{emqx_admin, Username, PwdHash, Description, Role, #{}}` with the legacy 36-byte
//! `pwdhash` (PBKDF2 `$1$` from 6.3). API keys are `{emqx_app, Name, ApiKey, SecretHash,
//! Enable, #{desc => Desc, role => Role}, ExpiredAt, CreatedAt}`; the 5.x `api_key` is the first
//! 16 hex characters of `sha512(Name)` and the secret is shown once, at creation.

use crate::common::{
    blocking, check_write, epoch_second, erl_p, get_path, is_ee, no_content, now_s, object_body,
    ok, opt_bool, opt_str, rfc3339_s, text_of, write_no_content, ApiError, MaybeCaller, Version,
};
use crate::passwd;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Extension, Router};
use emqx_sim_store::{Caller, Node};
use erlang_term::Term;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The dashboard users' table.
pub const ADMIN_TABLE: &str = "emqx_admin";
/// The API keys' table.
pub const APP_TABLE: &str = "emqx_app";

const ADMINISTRATOR: &str = "administrator";

/// The routes of this domain.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", put(update_user).delete(delete_user))
        .route("/users/{username}/change_pwd", post(change_pwd))
        .route("/api_key", get(list_keys).post(create_key))
        .route(
            "/api_key/{name}",
            get(read_key).put(update_key).delete(delete_key),
        )
}

// ---------------------------------------------------------------------------------------------
// Dashboard users

fn bad(code: &str, message: impl Into<Value>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// `legal_username/1`.
pub fn legal_username(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Username cannot be empty".into());
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(
            "Bad Username. Only upper and lower case letters, numbers and underscores are supported"
                .into(),
        );
    }
    Ok(())
}

const SPECIAL_CHARS: &str = "!@#$%^&*()_+-=[]{}\"|;':,./<>?`~ ";

/// `legal_password/1` of EMQX 5.8: 8 to 64 bytes, two kinds of characters, ASCII only.
pub fn legal_password(pw: &str) -> Result<(), String> {
    if !(8..=64).contains(&pw.len()) {
        return Err("The range of password length is 8~64".into());
    }
    let kinds = [
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| c.is_ascii_alphabetic()),
        pw.chars().any(|c| SPECIAL_CHARS.contains(c)),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return Err("Bad password. At least two different kind of characters from groups of letters, numbers, and special characters. For example, if password is composed from letters, it must contain at least one number or a special character.".into());
    }
    if !pw.is_ascii() {
        return Err("Only ascii characters are allowed in the password".into());
    }
    Ok(())
}

fn legal_role(node: &Node, role: &str) -> Result<(), String> {
    let ok = if is_ee(node) {
        matches!(role, "administrator" | "viewer")
    } else {
        role == ADMINISTRATOR
    };
    if ok {
        Ok(())
    } else {
        Err("Role does not exist".into())
    }
}

/// The `{username, description, role, backend}` of a user, without role and backend on CE.
fn user_json(node: &Node, username: &Term, desc: &Term, role: &Term) -> Value {
    let (name, backend) = match username.as_tuple() {
        Some([backend, name]) => (
            text_of(name).unwrap_or_default(),
            backend.as_atom().unwrap_or("local").to_owned(),
        ),
        _ => (text_of(username).unwrap_or_default(), "local".to_owned()),
    };
    let mut v = json!({
        "username": name,
        "description": text_of(desc).unwrap_or_default(),
    });
    if is_ee(node) {
        v["role"] = json!(text_of(role).unwrap_or_else(|| ADMINISTRATOR.to_owned()));
        v["backend"] = json!(backend);
    }
    v
}

fn admin_record(username: &str, pwdhash: Vec<u8>, desc: &str, role: &str) -> Term {
    Term::tuple(vec![
        Term::atom(ADMIN_TABLE),
        Term::binary(username),
        Term::Binary(pwdhash),
        Term::binary(desc),
        Term::binary(role),
        Term::Map(Vec::new()),
    ])
}

fn default_username(node: &Node) -> Result<String, ApiError> {
    let conf = node.store.read(|tx| tx.config("dashboard"))?;
    Ok(conf
        .as_ref()
        .and_then(|c| get_path(c, &["default_username"]))
        .and_then(Value::as_str)
        .unwrap_or("admin")
        .to_owned())
}

async fn list_users(State(node): State<Arc<Node>>) -> Response {
    blocking(node, |node| {
        let rows = node.store.read(|tx| tx.scan(ADMIN_TABLE))?;
        let users: Vec<Value> = rows
            .iter()
            .filter_map(|r| match r.as_tuple()? {
                [_, username, _, desc, role, ..] => Some(user_json(node, username, desc, role)),
                _ => None,
            })
            .collect();
        ok(Value::Array(users))
    })
    .await
}

async fn create_user(State(node): State<Arc<Node>>, caller: MaybeCaller, body: Bytes) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let username = opt_str(&o, "username")?.unwrap_or_default().to_owned();
        let password = opt_str(&o, "password")?.unwrap_or_default().to_owned();
        let desc = opt_str(&o, "description")?.unwrap_or_default().to_owned();
        let role = opt_str(&o, "role")?.unwrap_or(ADMINISTRATOR).to_owned();
        if username.is_empty() || password.is_empty() {
            return Err(ApiError::bad_request("Username or password undefined"));
        }
        legal_username(&username)
            .and_then(|()| legal_password(&password))
            .and_then(|()| legal_role(node, &role))
            .map_err(ApiError::bad_request)?;
        let record = admin_record(
            &username,
            passwd::admin_hash(Version::of(node), &password),
            &desc,
            &role,
        );
        node.store.write(|tx| {
            if tx.get(ADMIN_TABLE, &Term::binary(&username))?.is_some() {
                return Err(ApiError::bad_request("username_already_exists"));
            }
            tx.put(ADMIN_TABLE, &record)?;
            Ok(())
        })?;
        ok(user_json(
            node,
            &Term::binary(&username),
            &Term::binary(&desc),
            &Term::binary(&role),
        ))
    })
    .await
}

async fn update_user(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(username): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        // EMQX takes the default role when the body names none.
        let role = opt_str(&o, "role")?.unwrap_or(ADMINISTRATOR).to_owned();
        let desc = opt_str(&o, "description")?.map(str::to_owned);
        legal_role(node, &role).map_err(ApiError::bad_request)?;
        let record = node.store.write(|tx| {
            let old = tx
                .get(ADMIN_TABLE, &Term::binary(&username))?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "USER_NOT_FOUND",
                        "username_not_found",
                    )
                })?;
            let mut items = old.as_tuple().map(<[Term]>::to_vec).unwrap_or_default();
            if items.len() < 6 {
                return Err(ApiError::internal(format!(
                    "{ADMIN_TABLE}: the row of {username} is not a user record"
                )));
            }
            if let Some(d) = &desc {
                items[3] = Term::binary(d);
            }
            items[4] = Term::binary(&role);
            let record = Term::Tuple(items);
            tx.put(ADMIN_TABLE, &record)?;
            Ok(record)
        })?;
        let items = record.as_tuple().expect("a tuple");
        ok(user_json(node, &items[1], &items[3], &items[4]))
    })
    .await
}

async fn delete_user(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(username): Path<String>,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        if username == default_username(node)? {
            return Err(bad(
                "NOT_ALLOWED",
                format!("Cannot delete user {}", erl_p(&Term::binary(&username))),
            ));
        }
        if let Some(Extension(Caller::Dashboard { username: me, .. })) = &caller {
            if *me == username {
                return Err(bad("NOT_ALLOWED", "Cannot delete self"));
            }
        }
        node.store.write(|tx| {
            if !tx.delete(ADMIN_TABLE, &Term::binary(&username))? {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "USER_NOT_FOUND",
                    "username_not_found",
                ));
            }
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn change_pwd(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(username): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        // Viewers may change their own password.
        let own = matches!(&caller, Some(Extension(Caller::Dashboard { username: me, .. })) if *me == username);
        if !own {
            check_write(&caller)?;
        }
        let o = object_body(&body)?;
        let old_pwd = opt_str(&o, "old_pwd")?.unwrap_or_default().to_owned();
        let new_pwd = opt_str(&o, "new_pwd")?.unwrap_or_default().to_owned();
        if old_pwd.is_empty() || new_pwd.is_empty() {
            return Err(ApiError::bad_request(
                "Old password or new password undefined",
            ));
        }
        let v = Version::of(node);
        node.store.write(|tx| {
            let old = tx.get(ADMIN_TABLE, &Term::binary(&username))?.ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "USER_NOT_FOUND", "User not found")
            })?;
            let mut items = old.as_tuple().map(<[Term]>::to_vec).unwrap_or_default();
            let stored = items.get(2).and_then(Term::as_binary).unwrap_or_default();
            if !passwd::admin_verify(&old_pwd, stored) {
                return Err(bad("ERROR_PWD_NOT_MATCH", "Old password not match"));
            }
            legal_password(&new_pwd).map_err(ApiError::bad_request)?;
            items[2] = Term::Binary(passwd::admin_hash(v, &new_pwd));
            tx.put(ADMIN_TABLE, &Term::Tuple(items))?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// API keys

const MAX_KEYS: u64 = 100;

/// `validate_name/1` of the API key API.
pub fn legal_key_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 256 {
        return Err("Name Length must =< 256".into());
    }
    let mut chars = name.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("Name should be ^[A-Za-z]+[A-Za-z0-9-_]*$".into());
    }
    Ok(())
}

fn legal_api_role(node: &Node, role: &str) -> Result<(), ApiError> {
    let ok = if is_ee(node) {
        matches!(role, "administrator" | "viewer" | "publisher")
    } else {
        role == ADMINISTRATOR
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(erl_p(&Term::binary(
            "Role does not exist",
        ))))
    }
}

/// `{desc => Desc, role => Role}`, or a pre-5.4 description binary.
fn extra_of(extra: &Term) -> (String, String) {
    match extra {
        Term::Map(pairs) => {
            let get = |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| key.as_atom() == Some(k))
                    .and_then(|(_, v)| text_of(v))
            };
            (
                get("desc").unwrap_or_default(),
                get("role").unwrap_or_else(|| ADMINISTRATOR.to_owned()),
            )
        }
        other => (text_of(other).unwrap_or_default(), ADMINISTRATOR.to_owned()),
    }
}

fn extra_term(desc: &str, role: &str) -> Term {
    Term::Map(vec![
        (Term::atom("desc"), Term::binary(desc)),
        (Term::atom("role"), Term::binary(role)),
    ])
}

fn epoch_json(t: &Term) -> Value {
    match t {
        Term::Int(s) => json!(rfc3339_s(*s)),
        t => json!(t.as_atom().unwrap_or("infinity")),
    }
}

/// `emqx_mgmt_auth:format/1` of a row (without `role` on CE).
fn key_json(node: &Node, row: &Term) -> Option<Value> {
    let [_, name, api_key, _, enable, extra, expired_at, created_at] = row.as_tuple()? else {
        return None;
    };
    let (desc, role) = extra_of(extra);
    let expired = matches!(expired_at, Term::Int(t) if *t < now_s());
    let mut v = json!({
        "name": text_of(name)?,
        "api_key": text_of(api_key)?,
        "enable": crate::common::bool_of(enable).unwrap_or(true),
        "expired_at": epoch_json(expired_at),
        "created_at": epoch_json(created_at),
        "desc": desc,
        "expired": expired,
    });
    if is_ee(node) {
        v["role"] = json!(role);
    }
    Some(v)
}

/// `expired_at`: an integer or date, `"infinity"` (the default) for anything else.
fn expired_at(o: &Map<String, Value>) -> Result<Term, ApiError> {
    match o.get("expired_at") {
        None | Some(Value::Null) => Ok(Term::atom("infinity")),
        Some(Value::String(s)) if s == "infinity" => Ok(Term::atom("infinity")),
        Some(v) => epoch_second(v).map(Term::Int).ok_or_else(|| {
            ApiError::bad_request(format!(
                "expired_at: expected \"infinity\", epoch seconds or an RFC 3339 date, got {v}"
            ))
        }),
    }
}

fn key_not_found() -> ApiError {
    ApiError::not_found("Name NOT FOUND")
}

async fn list_keys(State(node): State<Arc<Node>>) -> Response {
    blocking(node, |node| {
        let rows = node.store.read(|tx| tx.scan(APP_TABLE))?;
        ok(Value::Array(
            rows.iter().filter_map(|r| key_json(node, r)).collect(),
        ))
    })
    .await
}

async fn create_key(State(node): State<Arc<Node>>, caller: MaybeCaller, body: Bytes) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let name = opt_str(&o, "name")?
            .ok_or_else(|| ApiError::bad_request("name: required field missing"))?
            .to_owned();
        legal_key_name(&name).map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
        let desc = opt_str(&o, "desc")?.unwrap_or_default().to_owned();
        let enable = opt_bool(&o, "enable")?.unwrap_or(true);
        let expired_at = expired_at(&o)?;
        let role = opt_str(&o, "role")?.unwrap_or(ADMINISTRATOR).to_owned();
        let v = Version::of(node);
        let api_key = passwd::api_key_for(v, &name);
        let secret = passwd::new_secret();
        let row = Term::tuple(vec![
            Term::atom(APP_TABLE),
            Term::binary(&name),
            Term::binary(&api_key),
            Term::Binary(passwd::secret_hash(v, &secret)),
            Term::boolean(enable),
            extra_term(&desc, &role),
            expired_at,
            Term::Int(now_s()),
        ]);
        node.store.write(|tx| {
            if tx.count(APP_TABLE)? >= MAX_KEYS {
                return Err(ApiError::bad_request(erl_p(&Term::charlist(
                    "Maximum number of ApiKeys reached.",
                ))));
            }
            legal_api_role(node, &role)?;
            if tx.get(APP_TABLE, &Term::binary(&name))?.is_some() {
                return Err(ApiError::bad_request("name_already_existed"));
            }
            let clash = tx.scan(APP_TABLE)?.iter().any(|r| {
                r.as_tuple()
                    .and_then(|t| t.get(2))
                    .and_then(text_of)
                    .as_deref()
                    == Some(&api_key)
            });
            if clash {
                return Err(ApiError::bad_request("api_key_already_existed"));
            }
            tx.put(APP_TABLE, &row)?;
            Ok(())
        })?;
        let mut v = key_json(node, &row).expect("a row we built");
        v["api_secret"] = json!(secret);
        ok(v)
    })
    .await
}

async fn read_key(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    blocking(node, move |node| {
        let row = node
            .store
            .read(|tx| tx.get(APP_TABLE, &Term::binary(&name)))?;
        let v = row
            .as_ref()
            .and_then(|r| key_json(node, r))
            .ok_or_else(key_not_found)?;
        ok(v)
    })
    .await
}

async fn update_key(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let enable = opt_bool(&o, "enable")?;
        // As EMQX: a missing expired_at becomes infinity, a missing role the default role.
        let expired_at = expired_at(&o)?;
        let desc = opt_str(&o, "desc")?.map(str::to_owned);
        let role = opt_str(&o, "role")?.unwrap_or(ADMINISTRATOR).to_owned();
        legal_api_role(node, &role)?;
        let row = node.store.write(|tx| {
            let old = tx
                .get(APP_TABLE, &Term::binary(&name))?
                .ok_or_else(key_not_found)?;
            let mut items = old.as_tuple().map(<[Term]>::to_vec).unwrap_or_default();
            if items.len() != 8 {
                return Err(ApiError::internal(format!(
                    "{APP_TABLE}: the row of {name} is not an API key record"
                )));
            }
            let (old_desc, _) = extra_of(&items[5]);
            if let Some(e) = enable {
                items[4] = Term::boolean(e);
            }
            items[5] = extra_term(desc.as_deref().unwrap_or(&old_desc), &role);
            items[6] = expired_at;
            let row = Term::Tuple(items);
            tx.put(APP_TABLE, &row)?;
            Ok(row)
        })?;
        ok(key_json(node, &row).ok_or_else(key_not_found)?)
    })
    .await
}

async fn delete_key(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(name): Path<String>,
) -> Response {
    write_no_content(node, caller, move |tx| {
        if !tx.delete(APP_TABLE, &Term::binary(&name))? {
            return Err(key_not_found());
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_as_emqx_checks_them() {
        assert!(legal_password("public123").is_ok());
        assert_eq!(
            legal_password("short1").unwrap_err(),
            "The range of password length is 8~64"
        );
        assert!(legal_password("12345678")
            .unwrap_err()
            .starts_with("Bad password."));
        assert!(legal_password("abcdefgh").is_err());
        assert!(legal_password("abc def gh").is_ok());
        assert!(legal_username("admin_2").is_ok());
        assert!(legal_username("a-b").is_err());
    }

    #[test]
    fn key_names() {
        assert!(legal_key_name("EMQX-API-KEY-1").is_ok());
        assert!(legal_key_name("1abc").is_err());
        assert!(legal_key_name("").is_err());
    }

    #[test]
    fn extras() {
        assert_eq!(
            extra_of(&extra_term("d", "viewer")),
            ("d".to_owned(), "viewer".to_owned())
        );
        assert_eq!(
            extra_of(&Term::binary("legacy")),
            ("legacy".to_owned(), ADMINISTRATOR.to_owned())
        );
    }
}
