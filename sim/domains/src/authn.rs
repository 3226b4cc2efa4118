//! Authentication: the global chain's authenticators (config root `authentication`) and the
//! users of the built-in database authenticators, as `emqx_authn_api`,
//! `emqx_authn_user_import_api`, `emqx_authn_mnesia` and `emqx_authn_scram_mnesia` of EMQX 5.8.
//!
//! Password users are `{emqx_authn_mnesia, {'mqtt:global', UserId}, PasswordHash, Salt,
//! IsSuperuser}` (user group = the chain name atom); SCRAM users are
//! `{emqx_authn_scram_mnesia, {<<"scram:built_in_database">>, UserId}, StoredKey, ServerKey,
//! Salt, IsSuperuser}` (user group = the authenticator id binary). The hash algorithm is the
//! authenticator's config, not stored per user.

use crate::common::{
    blocking, bool_of, check_write, erl_p, no_content, object_body, ok, opt_bool, opt_str, redact,
    reply, resolve_file, text_of, write_no_content, ApiError, MaybeCaller, Pager, Query, Version,
};
use crate::passwd::{self, Algorithm};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use emqx_sim_store::{Node, StoreError, Tx};
use erlang_term::Term;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The config root of the global chain.
pub const ROOT: &str = "authentication";
/// The password_based built-in database authenticator.
pub const PASSWORD_DB: &str = "password_based:built_in_database";
/// The SCRAM built-in database authenticator (also its users' group).
pub const SCRAM_DB: &str = "scram:built_in_database";
/// The global MQTT chain (the password users' group).
pub const GLOBAL_CHAIN: &str = "mqtt:global";
/// The password users' table.
pub const PASSWORD_TABLE: &str = "emqx_authn_mnesia";
/// The SCRAM users' table.
pub const SCRAM_TABLE: &str = "emqx_authn_scram_mnesia";

/// Mechanisms and the backends EMQX registers providers for (empty: no backend).
const PROVIDERS: &[(&str, &[&str])] = &[
    (
        "password_based",
        &[
            "built_in_database",
            "mysql",
            "postgresql",
            "mongodb",
            "redis",
            "http",
            "ldap",
        ],
    ),
    ("scram", &["built_in_database", "http"]),
    ("gssapi", &["kerberos"]),
    ("jwt", &[]),
    ("cinfo", &[]),
];

/// The routes of this domain.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/authentication", get(list).post(create))
        .route("/authentication/{id}", get(read).put(update).delete(remove))
        .route("/authentication/{id}/users", get(list_users).post(add_user))
        .route(
            "/authentication/{id}/users/{user_id}",
            get(find_user).put(update_user).delete(delete_user),
        )
        .route(
            "/authentication/{id}/import_users",
            post(import_users).layer(DefaultBodyLimit::max(256 << 20)),
        )
}

// ---------------------------------------------------------------------------------------------
// Authenticator configs

/// The authenticators of the global chain (a lone object counts as a list of one).
pub fn authenticators(tx: &Tx<'_>) -> Result<Vec<Value>, StoreError> {
    Ok(match tx.config(ROOT)? {
        Some(Value::Array(items)) => items,
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    })
}

fn save(tx: &mut Tx<'_>, list: Vec<Value>) -> Result<(), StoreError> {
    tx.set_config(ROOT, &Value::Array(list))
}

/// `mechanism:backend` (or the mechanism alone), as `emqx_authn_chains:authenticator_id/1`.
pub fn authenticator_id(conf: &Value) -> Option<String> {
    let mechanism = conf.get("mechanism")?.as_str()?;
    match conf.get("backend").and_then(Value::as_str) {
        Some(backend) => Some(format!("{mechanism}:{backend}")),
        None => Some(mechanism.to_owned()),
    }
}

/// What an authenticator does with users.
enum Provider {
    /// password_based:built_in_database with its hash algorithm.
    Password(Algorithm),
    /// scram:built_in_database with its algorithm and iteration count.
    Scram { algorithm: String, iterations: u32 },
    /// Any other authenticator: no user management.
    Other,
}

fn scram_settings(conf: &Value) -> Result<(String, u32), ApiError> {
    let algorithm = match conf.get("algorithm") {
        None | Some(Value::Null) => "sha256".to_owned(),
        Some(Value::String(s)) if s == "sha256" || s == "sha512" => s.clone(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "algorithm: expected sha256 or sha512, got {other}"
            )))
        }
    };
    let iterations = match conf.get("iteration_count") {
        None | Some(Value::Null) => 4096,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "iteration_count: expected a non-negative integer, got {v}"
                ))
            })?,
    };
    Ok((algorithm, iterations))
}

fn provider(conf: &Value) -> Result<Provider, ApiError> {
    match authenticator_id(conf).as_deref() {
        Some(PASSWORD_DB) => passwd::algorithm(conf.get("password_hash_algorithm"))
            .map(Provider::Password)
            .map_err(ApiError::bad_request),
        Some(SCRAM_DB) => {
            let (algorithm, iterations) = scram_settings(conf)?;
            Ok(Provider::Scram {
                algorithm,
                iterations,
            })
        }
        _ => Ok(Provider::Other),
    }
}

/// Checks an authenticator config as EMQX's schema would, naming the field at fault.
fn validate(conf: &Map<String, Value>) -> Result<String, ApiError> {
    let mechanism = opt_str(conf, "mechanism")?
        .ok_or_else(|| ApiError::bad_request("Missing required parameter: mechanism"))?;
    let backend = opt_str(conf, "backend")?;
    let known = PROVIDERS.iter().find(|(m, _)| *m == mechanism);
    let supported = match (known, backend) {
        (Some((_, backends)), Some(b)) => backends.contains(&b),
        (Some((_, backends)), None) => backends.is_empty(),
        (None, _) => false,
    };
    let value = Value::Object(conf.clone());
    let id = authenticator_id(&value).unwrap_or_default();
    if !supported {
        return Err(ApiError::bad_request(format!(
            "Unsupported authentication type: mechanism = {mechanism}, backend = {}",
            backend.unwrap_or("(none)")
        )));
    }
    if id == PASSWORD_DB {
        if let Some(t) = opt_str(conf, "user_id_type")? {
            if t != "username" && t != "clientid" {
                return Err(ApiError::bad_request(format!(
                    "user_id_type: expected username or clientid, got {t:?}"
                )));
            }
        }
    }
    provider(&value)?;
    opt_bool(conf, "enable")?;
    Ok(id)
}

/// The config as EMQX's replies show it: defaults filled in, `id` added, secrets redacted
/// (GET replies; the reply to a creation shows them).
fn shown(conf: &Value, id: &str, redacted: bool) -> Value {
    let mut o = conf.as_object().cloned().unwrap_or_default();
    o.entry("enable").or_insert(json!(true));
    match provider(conf) {
        Ok(Provider::Password(alg)) => {
            o.entry("user_id_type").or_insert(json!("username"));
            let mut algo = alg.to_config();
            if let (Some(given), Some(filled)) = (
                conf.get("password_hash_algorithm")
                    .and_then(Value::as_object),
                algo.as_object_mut(),
            ) {
                for (k, v) in given {
                    filled.entry(k.clone()).or_insert(v.clone());
                }
            }
            o.insert("password_hash_algorithm".into(), algo);
        }
        Ok(Provider::Scram {
            algorithm,
            iterations,
        }) => {
            o.insert("algorithm".into(), json!(algorithm));
            o.insert("iteration_count".into(), json!(iterations));
        }
        _ => {}
    }
    let mut v = Value::Object(o);
    if redacted {
        v = redact(&v);
    }
    v["id"] = json!(id);
    v
}

fn not_found_authenticator(id: &str) -> ApiError {
    ApiError::not_found(format!("Authenticator '{id}' does not exist"))
}

async fn list(State(node): State<Arc<Node>>) -> Response {
    blocking(node, |node| {
        let list = node.store.read(authenticators)?;
        let shown: Vec<Value> = list
            .iter()
            .map(|c| shown(c, &authenticator_id(c).unwrap_or_default(), true))
            .collect();
        ok(Value::Array(shown))
    })
    .await
}

async fn create(State(node): State<Arc<Node>>, caller: MaybeCaller, body: Bytes) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let mut conf = object_body(&body)?;
        conf.remove("id");
        let id = validate(&conf)?;
        let conf = Value::Object(conf);
        node.store.write(|tx| {
            let mut list = authenticators(tx)?;
            if list
                .iter()
                .any(|c| authenticator_id(c).as_deref() == Some(&id))
            {
                return Err(ApiError::conflict(format!(
                    "Authenticator '{id}' already exist"
                )));
            }
            list.push(conf.clone());
            save(tx, list)?;
            if id == PASSWORD_DB {
                bootstrap(node, tx, &conf);
            }
            Ok(())
        })?;
        ok(shown(&conf, &id, false))
    })
    .await
}

async fn read(State(node): State<Arc<Node>>, Path(id): Path<String>) -> Response {
    blocking(node, move |node| {
        let list = node.store.read(authenticators)?;
        let conf = list
            .iter()
            .find(|c| authenticator_id(c).as_deref() == Some(&id))
            .ok_or_else(|| not_found_authenticator(&id))?;
        ok(shown(conf, &id, true))
    })
    .await
}

async fn update(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let mut new = object_body(&body)?;
        new.remove("id");
        node.store.write(|tx| {
            let mut list = authenticators(tx)?;
            let at = list
                .iter()
                .position(|c| authenticator_id(c).as_deref() == Some(&id))
                .ok_or_else(|| not_found_authenticator(&id))?;
            let old = &list[at];
            for k in ["mechanism", "backend"] {
                if !new.contains_key(k) {
                    if let Some(v) = old.get(k) {
                        new.insert(k.into(), v.clone());
                    }
                }
            }
            let conf = crate::common::deobfuscate(&Value::Object(new.clone()), old);
            if authenticator_id(&conf).as_deref() != Some(&id) {
                return Err(ApiError::bad_request(
                    "Change of authentication type is not allowed",
                ));
            }
            validate(conf.as_object().expect("an object"))?;
            list[at] = conf;
            save(tx, list)?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn remove(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
) -> Response {
    write_no_content(node, caller, move |tx| {
        let mut list = authenticators(tx)?;
        let at = list
            .iter()
            .position(|c| authenticator_id(c).as_deref() == Some(&id))
            .ok_or_else(|| not_found_authenticator(&id))?;
        list.remove(at);
        save(tx, list)?;
        // The provider's destroy/1 deletes its users.
        match id.as_str() {
            PASSWORD_DB => destroy(tx, PASSWORD_TABLE, &Term::atom(GLOBAL_CHAIN))?,
            SCRAM_DB => destroy(tx, SCRAM_TABLE, &Term::binary(SCRAM_DB))?,
            _ => {}
        }
        Ok::<_, ApiError>(())
    })
    .await
}

fn destroy(tx: &mut Tx<'_>, table: &str, group: &Term) -> Result<(), StoreError> {
    for row in tx.scan(table)? {
        if let Some(key) = row_key(&row) {
            if key_group(key) == Some(group) {
                tx.delete(table, &key.clone())?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Users

fn row_key(row: &Term) -> Option<&Term> {
    row.as_tuple()?.get(1)
}

fn key_group(key: &Term) -> Option<&Term> {
    key.as_tuple()?.first()
}

/// A user row's `(user_id, is_superuser)`.
fn user_info(row: &Term) -> Option<(String, bool)> {
    let items = row.as_tuple()?;
    let user = items.get(1)?.as_tuple()?.get(1)?;
    let superuser = bool_of(items.last()?)?;
    Some((text_of(user)?, superuser))
}

fn user_json(user_id: &str, is_superuser: bool) -> Value {
    json!({ "user_id": user_id, "is_superuser": is_superuser })
}

/// The users' table, group and provider of an authenticator the user endpoints address, with
/// EMQX's errors: no authenticator at all → 404 (no chain), another id → 400 `User error`,
/// no user management → 400 `User error: unsupported_operation`.
struct Users {
    table: &'static str,
    group: Term,
    provider: Provider,
}

fn users_of(list: &[Value], id: &str) -> Result<Users, ApiError> {
    if list.is_empty() {
        return Err(ApiError::not_found(
            "Authenticator not found in the 'global' scope",
        ));
    }
    let conf = list
        .iter()
        .find(|c| authenticator_id(c).as_deref() == Some(id))
        .ok_or_else(|| {
            let reason = Term::tuple(vec![
                Term::atom("not_found"),
                Term::tuple(vec![Term::atom("authenticator"), Term::binary(id)]),
            ]);
            ApiError::bad_request(format!("User error: {}", erl_p(&reason)))
        })?;
    let provider = provider(conf)?;
    let (table, group) = match provider {
        Provider::Password(_) => (PASSWORD_TABLE, Term::atom(GLOBAL_CHAIN)),
        Provider::Scram { .. } => (SCRAM_TABLE, Term::binary(SCRAM_DB)),
        Provider::Other => {
            return Err(ApiError::bad_request("User error: unsupported_operation"));
        }
    };
    Ok(Users {
        table,
        group,
        provider,
    })
}

impl Users {
    fn key(&self, user_id: &str) -> Term {
        Term::tuple(vec![self.group.clone(), Term::binary(user_id)])
    }

    /// A record for `user_id` with fresh credentials from `password`.
    fn record(&self, user_id: &str, password: &str, is_superuser: bool) -> Result<Term, ApiError> {
        let key = self.key(user_id);
        Ok(match &self.provider {
            Provider::Password(alg) => {
                let (hash, salt) =
                    passwd::hash_new(alg, password).map_err(ApiError::bad_request)?;
                Term::tuple(vec![
                    Term::atom(PASSWORD_TABLE),
                    key,
                    Term::Binary(hash),
                    Term::Binary(salt),
                    Term::boolean(is_superuser),
                ])
            }
            Provider::Scram {
                algorithm,
                iterations,
            } => {
                let (stored, server, salt) =
                    passwd::scram_new_user(algorithm, *iterations, password)
                        .map_err(ApiError::bad_request)?;
                Term::tuple(vec![
                    Term::atom(SCRAM_TABLE),
                    key,
                    Term::Binary(stored),
                    Term::Binary(server),
                    Term::Binary(salt),
                    Term::boolean(is_superuser),
                ])
            }
            Provider::Other => unreachable!("users_of refuses other providers"),
        })
    }
}

fn user_not_found() -> ApiError {
    ApiError::not_found("User not found")
}

async fn list_users(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Query>,
) -> Response {
    blocking(node, move |node| {
        let pager = Pager::from_query(&q)?;
        let superuser = match q.get("is_superuser").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "is_superuser: expected true or false, got {other:?}"
                )))
            }
        };
        let like = q.get("like_user_id").cloned();
        let rows = node.store.read(|tx| {
            let users = match users_of(&authenticators(tx)?, &id) {
                Ok(u) => u,
                Err(e) => return Ok(Err(e)),
            };
            let rows: Vec<Value> = tx
                .scan(users.table)?
                .iter()
                .filter(|r| row_key(r).and_then(key_group) == Some(&users.group))
                .filter_map(user_info)
                .filter(|(_, s)| superuser.is_none_or(|want| *s == want))
                .filter(|(u, _)| like.as_ref().is_none_or(|l| u.contains(l.as_str())))
                .map(|(u, s)| user_json(&u, s))
                .collect();
            Ok(Ok(rows))
        })??;
        ok(pager.query_result(rows, like.is_none()))
    })
    .await
}

async fn add_user(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let user_id = opt_str(&o, "user_id")?
            .ok_or_else(|| ApiError::bad_request("Missing required parameter: user_id"))?
            .to_owned();
        let password = opt_str(&o, "password")?
            .ok_or_else(|| ApiError::bad_request("Missing required parameter: password"))?
            .to_owned();
        let is_superuser = opt_bool(&o, "is_superuser")?.unwrap_or(false);
        let users = node
            .store
            .read(|tx| Ok(users_of(&authenticators(tx)?, &id)))??;
        let record = users.record(&user_id, &password, is_superuser)?;
        node.store.write(|tx| {
            if tx.get(users.table, &users.key(&user_id))?.is_some() {
                return Err(ApiError::conflict("User already exists"));
            }
            tx.put(users.table, &record)?;
            Ok(())
        })?;
        // EMQX before 6.0.2 answers a new SCRAM user with the user group as `user_id`
        // (`emqx_authn_scram_mnesia:do_add_user/1` binds the wrong key element).
        let shown_id = match users.provider {
            Provider::Scram { .. } if !Version::of(node).at_least(6, 0, 2) => SCRAM_DB,
            _ => user_id.as_str(),
        };
        reply(StatusCode::CREATED, user_json(shown_id, is_superuser))
    })
    .await
}

async fn find_user(
    State(node): State<Arc<Node>>,
    Path((id, user_id)): Path<(String, String)>,
) -> Response {
    blocking(node, move |node| {
        let row = node.store.read(|tx| {
            let users = match users_of(&authenticators(tx)?, &id) {
                Ok(u) => u,
                Err(e) => return Ok(Err(e)),
            };
            Ok(Ok(tx.get(users.table, &users.key(&user_id))?))
        })??;
        let (u, s) = row
            .as_ref()
            .and_then(user_info)
            .ok_or_else(user_not_found)?;
        ok(user_json(&u, s))
    })
    .await
}

async fn update_user(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path((id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let password = opt_str(&o, "password")?.map(str::to_owned);
        let superuser = opt_bool(&o, "is_superuser")?;
        if password.is_none() && superuser.is_none() {
            return Err(ApiError::bad_request(
                "Missing required parameter: password",
            ));
        }
        let users = node
            .store
            .read(|tx| Ok(users_of(&authenticators(tx)?, &id)))??;
        let fresh = match &password {
            Some(p) => Some(users.record(&user_id, p, false)?),
            None => None,
        };
        let record = node.store.write(|tx| {
            let old = tx
                .get(users.table, &users.key(&user_id))?
                .ok_or_else(user_not_found)?;
            let mut items = match fresh.clone() {
                Some(Term::Tuple(items)) => items,
                _ => old.as_tuple().map(<[Term]>::to_vec).unwrap_or_default(),
            };
            let old_superuser = old.as_tuple().and_then(|t| t.last()).cloned();
            if let Some(last) = items.last_mut() {
                *last = match superuser {
                    Some(s) => Term::boolean(s),
                    None => old_superuser.unwrap_or(Term::boolean(false)),
                };
            }
            let record = Term::Tuple(items);
            tx.put(users.table, &record)?;
            Ok::<_, ApiError>(record)
        })?;
        let (u, s) = user_info(&record).ok_or_else(user_not_found)?;
        ok(user_json(&u, s))
    })
    .await
}

async fn delete_user(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path((id, user_id)): Path<(String, String)>,
) -> Response {
    write_no_content(node, caller, move |tx| {
        let users = users_of(&authenticators(tx)?, &id)?;
        if !tx.delete(users.table, &users.key(&user_id))? {
            return Err(user_not_found());
        }
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Bulk import

/// `?type=hash|plain` of an import (anything else is `hash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordType {
    /// `password_hash` and `salt` taken verbatim.
    Hash,
    /// `password` hashed with the authenticator's algorithm.
    Plain,
}

/// Where imported users come from.
#[derive(Debug)]
pub enum ImportSource {
    /// An `application/json` array body.
    Prepared(Value),
    /// A multipart file (`filename` field) with its name and bytes.
    File(String, Vec<u8>),
}

/// `{total, success, override, skipped, failed}` of an import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Users read.
    pub total: u64,
    /// New users written.
    pub success: u64,
    /// Existing users replaced.
    pub overridden: u64,
    /// Users identical to the stored ones.
    pub skipped: u64,
    /// Existing users left alone (bootstrap files, which do not override).
    pub failed: u64,
}

impl ImportCounts {
    fn json(&self) -> Value {
        json!({
            "total": self.total,
            "success": self.success,
            "override": self.overridden,
            "skipped": self.skipped,
            "failed": self.failed,
        })
    }
}

/// An import failure as EMQX renders it (`~0p` of the reason).
fn import_error(reason: &str) -> ApiError {
    ApiError::bad_request(reason.to_owned())
}

/// The rows of a CSV file as `emqx_utils_stream:csv/1` reads them: lines split on CR or LF,
/// fields on `,` or space, empty lines and empty fields dropped, the first line the header.
pub fn csv_rows(data: &[u8]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let fields = |line: &[u8]| -> Vec<String> {
        line.split(|b| *b == b',' || *b == b' ')
            .filter(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    };
    let mut lines = data
        .split(|b| *b == b'\r' || *b == b'\n')
        .filter(|l| !l.is_empty());
    let Some(header) = lines.next() else {
        return Ok(Vec::new());
    };
    let header = fields(header);
    lines
        .map(|l| {
            let values = fields(l);
            if values.len() != header.len() {
                return Err(import_error("bad_format"));
            }
            Ok(header
                .iter()
                .cloned()
                .zip(values.into_iter().map(Value::String))
                .collect())
        })
        .collect()
}

fn extension(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rfind('.') {
        Some(0) | None => "",
        Some(i) => &base[i..],
    }
}

/// The user objects of an import source, with EMQX's errors.
pub fn source_users(source: ImportSource) -> Result<Vec<Value>, ApiError> {
    match source {
        ImportSource::Prepared(Value::Array(items)) => Ok(items),
        ImportSource::Prepared(_) => Err(import_error("bad_format")),
        ImportSource::File(name, data) => match extension(&name) {
            ".json" => match serde_json::from_slice::<Value>(&data) {
                Ok(Value::Array(items)) => Ok(items),
                Ok(_) => Err(import_error("unknown_file_format")),
                Err(e) => Err(import_error(&format!("invalid_json: {e}"))),
            },
            ".csv" => Ok(csv_rows(&data)?.into_iter().map(Value::Object).collect()),
            "" => Err(import_error("unknown_file_format")),
            ext => Err(import_error(&erl_p(&Term::tuple(vec![
                Term::atom("unsupported_file_format"),
                Term::binary(ext),
            ])))),
        },
    }
}

/// One user of an import converted to `(user_id, password_hash, salt, is_superuser)` as
/// `emqx_authn_mnesia:convert_user/3`.
fn convert_user(
    user: &Value,
    ty: PasswordType,
    alg: &Algorithm,
) -> Result<(String, Vec<u8>, Vec<u8>, bool), ApiError> {
    let o = user.as_object().ok_or_else(|| import_error("bad_format"))?;
    let string = |k: &str| -> Result<Option<String>, ApiError> {
        match o.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(import_error("bad_format")),
        }
    };
    let user_id = string("user_id")?.ok_or_else(|| import_error("bad_format"))?;
    let (hash, salt) = match ty {
        PasswordType::Hash => {
            let hash = string("password_hash")?
                .ok_or_else(|| import_error("\"hash_import_requires_password_hash_field\""))?;
            let salt = string("salt")?.unwrap_or_default();
            (hash.into_bytes(), salt.into_bytes())
        }
        PasswordType::Plain => {
            let password = string("password")?
                .ok_or_else(|| import_error("\"plain_import_requires_password_field\""))?;
            passwd::hash_new(alg, &password).map_err(ApiError::bad_request)?
        }
    };
    let is_superuser = matches!(o.get("is_superuser"), Some(Value::Bool(true)))
        || o.get("is_superuser").and_then(Value::as_str) == Some("true");
    Ok((user_id, hash, salt, is_superuser))
}

/// Writes imported users into the password table in one transaction: new → `success`,
/// identical → `skipped`, different → `override` (or `failed` without override).
fn insert_users(
    tx: &mut Tx<'_>,
    users: &[(String, Vec<u8>, Vec<u8>, bool)],
    allow_override: bool,
) -> Result<ImportCounts, StoreError> {
    let mut counts = ImportCounts {
        total: users.len() as u64,
        ..ImportCounts::default()
    };
    for (user_id, hash, salt, superuser) in users {
        let key = Term::tuple(vec![Term::atom(GLOBAL_CHAIN), Term::binary(user_id)]);
        let record = Term::tuple(vec![
            Term::atom(PASSWORD_TABLE),
            key.clone(),
            Term::Binary(hash.clone()),
            Term::Binary(salt.clone()),
            Term::boolean(*superuser),
        ]);
        match tx.get(PASSWORD_TABLE, &key)? {
            None => {
                tx.put(PASSWORD_TABLE, &record)?;
                counts.success += 1;
            }
            Some(old) if old == record => counts.skipped += 1,
            Some(_) if allow_override => {
                tx.put(PASSWORD_TABLE, &record)?;
                counts.overridden += 1;
            }
            Some(_) => counts.failed += 1,
        }
    }
    Ok(counts)
}

/// Imports users into an authenticator as `POST /authentication/:id/import_users`.
pub fn import(
    node: &Node,
    id: &str,
    ty: PasswordType,
    source: ImportSource,
) -> Result<ImportCounts, ApiError> {
    let list = node.store.read(authenticators)?;
    if list.is_empty() {
        return Err(ApiError::not_found(
            "Authenticator not found in the 'global' scope",
        ));
    }
    let conf = list
        .iter()
        .find(|c| authenticator_id(c).as_deref() == Some(id))
        .ok_or_else(|| not_found_authenticator(id))?;
    let alg = match provider(conf)? {
        Provider::Password(alg) => alg,
        _ => {
            return Err(ApiError::bad_request(
                "Operation not supported in this authentication type",
            ))
        }
    };
    let users = source_users(source)?
        .iter()
        .map(|u| convert_user(u, ty, &alg))
        .collect::<Result<Vec<_>, _>>()?;
    if users.is_empty() {
        return Err(import_error("empty_users"));
    }
    Ok(node.store.write(|tx| insert_users(tx, &users, true))?)
}

/// Loads the authenticator's `bootstrap_file` (when set) without overriding existing users,
/// as the provider does on creation; failures are only logged by EMQX, so ignored here.
fn bootstrap(node: &Node, tx: &mut Tx<'_>, conf: &Value) {
    let Some(file) = conf
        .get("bootstrap_file")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
    else {
        return;
    };
    let ty = match conf.get("bootstrap_type").and_then(Value::as_str) {
        Some("hash") => PasswordType::Hash,
        _ => PasswordType::Plain,
    };
    let Ok(alg) = passwd::algorithm(conf.get("password_hash_algorithm")) else {
        return;
    };
    let Ok(data) = std::fs::read(resolve_file(node, file)) else {
        return;
    };
    let Ok(users) = source_users(ImportSource::File(file.to_owned(), data)) else {
        return;
    };
    let Ok(users) = users
        .iter()
        .map(|u| convert_user(u, ty, &alg))
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    let _ = insert_users(tx, &users, false);
}

async fn import_users(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Query>,
    request: Request,
) -> Response {
    if let Err(e) = check_write(&caller) {
        return axum::response::IntoResponse::into_response(e);
    }
    let ty = match q.get("type").map(String::as_str) {
        Some("plain") => PasswordType::Plain,
        _ => PasswordType::Hash,
    };
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let source = if is_json {
        match axum::body::to_bytes(request.into_body(), 256 << 20).await {
            Ok(bytes) => match crate::common::json_body(&bytes) {
                Ok(v) => ImportSource::Prepared(v),
                Err(e) => return axum::response::IntoResponse::into_response(e),
            },
            Err(e) => {
                return axum::response::IntoResponse::into_response(ApiError::bad_request(format!(
                    "cannot read the request body: {e}"
                )))
            }
        }
    } else {
        match file_part(request).await {
            Ok(s) => s,
            Err(e) => return axum::response::IntoResponse::into_response(e),
        }
    };
    blocking(node, move |node| {
        let counts = import(node, &id, ty, source)?;
        ok(counts.json())
    })
    .await
}

/// The multipart field `filename`: its file name and bytes.
async fn file_part(request: Request) -> Result<ImportSource, ApiError> {
    let missing = || ApiError::bad_request("Missing required parameter: filename");
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| missing())?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?
    {
        if field.name() == Some("filename") {
            let name = field.file_name().unwrap_or_default().to_owned();
            let data = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(format!("filename: {e}")))?;
            return Ok(ImportSource::File(name, data.to_vec()));
        }
    }
    Err(missing())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_as_emqx_reads_it() {
        let rows = csv_rows(
            b"user_id,password_hash,salt,is_superuser\r\nu1,h1,s1,true\n\nu2,h2,s2,false\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["user_id"], json!("u1"));
        assert_eq!(rows[1]["is_superuser"], json!("false"));
        // An empty field disappears, so the line no longer fits the header.
        assert!(csv_rows(b"user_id,password_hash,salt,is_superuser\nu1,h1,,true\n").is_err());
        assert!(csv_rows(b"").unwrap().is_empty());
    }

    #[test]
    fn file_kinds() {
        assert!(matches!(
            source_users(ImportSource::File("a.txt".into(), vec![])),
            Err(e) if e.body["message"] == json!("{unsupported_file_format,<<\".txt\">>}")
        ));
        assert!(matches!(
            source_users(ImportSource::File("noext".into(), vec![])),
            Err(e) if e.body["message"] == json!("unknown_file_format")
        ));
        assert_eq!(
            source_users(ImportSource::File(
                "u.json".into(),
                b"[{\"user_id\":\"a\"}]".to_vec()
            ))
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn ids() {
        assert_eq!(
            authenticator_id(
                &json!({"mechanism": "password_based", "backend": "built_in_database"})
            ),
            Some(PASSWORD_DB.to_owned())
        );
        assert_eq!(
            authenticator_id(&json!({"mechanism": "jwt"})),
            Some("jwt".to_owned())
        );
    }

    #[test]
    fn configs_are_checked() {
        let conf = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            validate(&conf(
                json!({"mechanism": "password_based", "backend": "built_in_database"})
            ))
            .unwrap(),
            PASSWORD_DB
        );
        assert!(validate(&conf(
            json!({"mechanism": "password_based", "backend": "nope"})
        ))
        .is_err());
        let e = validate(&conf(json!({
            "mechanism": "password_based", "backend": "built_in_database",
            "password_hash_algorithm": {"name": "rot13"}
        })))
        .unwrap_err();
        assert!(e.body["message"].as_str().unwrap().contains("rot13"));
        assert!(validate(&conf(json!({
            "mechanism": "scram", "backend": "built_in_database", "algorithm": "md5"
        })))
        .is_err());
    }
}
