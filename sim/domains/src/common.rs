//! What every domain's handlers share: EMQX's error replies, the caller check, running the
//! blocking store off the async runtime, request bodies, pagination, versions, time formats and
//! Erlang's `~p` rendering of terms in messages.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Local, SecondsFormat, TimeZone};
use emqx_sim_store::{Caller, Node, StoreError, Tx};
use erlang_term::Term;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// An EMQX error reply: a status and a body `{"code": ..., "message": ...}`.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
}

impl ApiError {
    /// A reply with `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<Value>) -> Self {
        ApiError {
            status,
            body: json!({ "code": code, "message": message.into() }),
        }
    }

    /// 400 `BAD_REQUEST`.
    pub fn bad_request(message: impl Into<Value>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(message: impl Into<Value>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 409 `ALREADY_EXISTS`.
    pub fn conflict(message: impl Into<Value>) -> Self {
        Self::new(StatusCode::CONFLICT, "ALREADY_EXISTS", message)
    }

    /// 500 `INTERNAL_ERROR`.
    pub fn internal(message: impl Into<Value>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }

    /// A body of any shape.
    pub fn with_body(status: StatusCode, body: Value) -> Self {
        ApiError { status, body }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// What a handler returns.
pub type Reply = Result<Response, ApiError>;

/// A JSON reply.
pub fn reply(status: StatusCode, body: Value) -> Reply {
    Ok((status, Json(body)).into_response())
}

/// 200 with a JSON body.
pub fn ok(body: Value) -> Reply {
    reply(StatusCode::OK, body)
}

/// 204 without a body.
pub fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller from the request extensions; `None` when the router runs without the API's
/// authentication in front (tests that add none), which is treated as a local caller.
pub type MaybeCaller = Option<Extension<Caller>>;

/// Refuses a write to a caller that may only read: 403 `FORBIDDEN`.
pub fn check_write(caller: &MaybeCaller) -> Result<(), ApiError> {
    match caller {
        Some(Extension(c)) if !c.can_write() => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "the caller's role may only read",
        )),
        _ => Ok(()),
    }
}

/// Runs `f` on the blocking pool (the store is synchronous) and turns its result into a reply.
pub async fn blocking<F>(node: Arc<Node>, f: F) -> Response
where
    F: FnOnce(&Node) -> Reply + Send + 'static,
{
    match tokio::task::spawn_blocking(move || f(&node)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::internal(format!("handler failed: {e}")).into_response(),
    }
}

/// Runs `f` in one store transaction on the blocking pool for a caller allowed to write; 204
/// when it commits, the error reply when `f` or the commit fails.
pub async fn write_no_content<F>(node: Arc<Node>, caller: MaybeCaller, f: F) -> Response
where
    F: FnOnce(&mut Tx<'_>) -> Result<(), ApiError> + Send + 'static,
{
    blocking(node, move |node| {
        check_write(&caller)?;
        node.store.write(f)?;
        no_content()
    })
    .await
}

/// Parses a JSON request body; an empty body is `null`.
pub fn json_body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("request body is not JSON: {e}")))
}

/// A JSON object body, or 400 naming what was expected.
pub fn object_body(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match json_body(bytes)? {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::bad_request("request body must be a JSON object")),
    }
}

/// The query string as a map.
pub type Query = HashMap<String, String>;

/// `page` and `limit` of a list request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pager {
    /// 1-based page.
    pub page: usize,
    /// Rows per page.
    pub limit: usize,
}

impl Pager {
    /// Reads `page` (default 1) and `limit` (default 100, at most 10000) as EMQX's swagger
    /// check does.
    pub fn from_query(q: &Query) -> Result<Pager, ApiError> {
        let num = |k: &str, default: usize| -> Result<usize, ApiError> {
            match q.get(k) {
                None => Ok(default),
                Some(v) => v.trim().parse::<usize>().map_err(|_| {
                    ApiError::bad_request(format!("{k}: {v:?} is not a positive integer"))
                }),
            }
        };
        let page = num("page", 1)?;
        let limit = num("limit", 100)?;
        if page == 0 || limit == 0 {
            return Err(ApiError::bad_request("page_limit_invalid"));
        }
        if limit > 10000 {
            return Err(ApiError::bad_request(format!(
                "limit: {limit} is greater than 10000"
            )));
        }
        Ok(Pager { page, limit })
    }

    /// The rows of this page and whether more follow.
    pub fn slice<T>(&self, rows: Vec<T>) -> (Vec<T>, bool) {
        let start = (self.page - 1).saturating_mul(self.limit);
        let total = rows.len();
        let page: Vec<T> = rows.into_iter().skip(start).take(self.limit).collect();
        let hasnext = start.saturating_add(self.limit) < total;
        (page, hasnext)
    }

    /// `{data, meta: {page, limit, hasnext[, count]}}` as `emqx_mgmt_api:node_query` returns
    /// it: `count` only when no fuzzy (`like_*`) filter was applied.
    pub fn query_result(&self, rows: Vec<Value>, with_count: bool) -> Value {
        let count = rows.len();
        let (data, hasnext) = self.slice(rows);
        let mut meta = json!({ "page": self.page, "limit": self.limit, "hasnext": hasnext });
        if with_count {
            meta["count"] = json!(count);
        }
        json!({ "data": data, "meta": meta })
    }
}

/// An EMQX release version, compared on major, minor and patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// The node's version (`5.8.6`, `e5.9.0`, `6.1.2-rc.1`); parts that do not parse are 0.
    pub fn of(node: &Node) -> Version {
        Version::parse(&node.info.version)
    }

    /// Parses leading digits of each dotted part.
    pub fn parse(text: &str) -> Version {
        let text = text.trim_start_matches(|c: char| !c.is_ascii_digit());
        let mut parts = text.split('.').map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<u32>()
                .unwrap_or(0)
        });
        Version(
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        )
    }

    /// Whether this is at least `major.minor.patch`.
    pub fn at_least(self, major: u32, minor: u32, patch: u32) -> bool {
        self >= Version(major, minor, patch)
    }
}

/// Whether the node is an Enterprise edition node.
pub fn is_ee(node: &Node) -> bool {
    node.info.edition.as_str() == "ee"
}

/// Now in epoch seconds.
pub fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Now in epoch milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `emqx_utils_calendar:epoch_to_rfc3339(T, second)`: local time with its offset.
pub fn rfc3339_s(epoch: i64) -> String {
    match Local.timestamp_opt(epoch, 0).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, false),
        None => epoch.to_string(),
    }
}

/// `emqx_utils_calendar:epoch_to_rfc3339(T, millisecond)`.
pub fn rfc3339_ms(epoch_ms: i64) -> String {
    match Local.timestamp_millis_opt(epoch_ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, false),
        None => epoch_ms.to_string(),
    }
}

/// An `emqx_utils_calendar:epoch_second()` input: an integer, a numeric string or an RFC 3339
/// date; `None` when it is none of these.
pub fn epoch_second(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp()))
        }
        _ => None,
    }
}

/// Erlang's `~0p` of a term, as EMQX puts reasons into messages.
pub fn erl_p(t: &Term) -> String {
    t.to_string()
}

/// A binary term of text.
pub fn bin(s: &str) -> Term {
    Term::binary(s)
}

/// The text of a binary term (lossy for non-UTF-8).
pub fn text_of(t: &Term) -> Option<String> {
    t.as_binary()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A boolean term's value.
pub fn bool_of(t: &Term) -> Option<bool> {
    match t.as_atom()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A string field of a JSON object: `Ok(None)` when absent, 400 naming the field when it is not
/// a string.
pub fn opt_str<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key}: expected a string, got {other}"
        ))),
    }
}

/// A boolean field (`true`/`false` or their strings): `Ok(None)` when absent.
pub fn opt_bool(o: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key}: expected true or false, got {other}"
        ))),
    }
}

/// The value at a path inside a JSON value.
pub fn get_path<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

/// Sets the value at a path, creating objects on the way (a non-object on the way is
/// replaced by one).
pub fn set_path(v: &mut Value, path: &[&str], value: Value) {
    let Some((last, init)) = path.split_last() else {
        *v = value;
        return;
    };
    let mut cur = v;
    for k in init {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .expect("made an object")
            .entry((*k).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut()
        .expect("made an object")
        .insert((*last).to_owned(), value);
}

/// Removes the value at a path; whether it was there.
pub fn remove_path(v: &mut Value, path: &[&str]) -> bool {
    let Some((last, init)) = path.split_last() else {
        return false;
    };
    let mut cur = v;
    for k in init {
        match cur.get_mut(*k) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    cur.as_object_mut()
        .is_some_and(|o| o.remove(*last).is_some())
}

/// Random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS has no random source");
    buf
}

/// Whether `pattern` (a PCRE pattern in EMQX) is a valid regex; approximated with Rust's
/// regex syntax. The error text on failure.
pub fn check_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| e.to_string())
}

/// Keys whose values EMQX's `emqx_utils:redact/1` replaces by `******` in replies.
const SENSITIVE: &[&str] = &[
    "account_key",
    "aws_secret_access_key",
    "password",
    "private_key",
    "secret",
    "secret_access_key",
    "access_key_secret",
    "access_key_id",
    "secret_key",
    "security_token",
    "sp_private_key",
    "token",
    "jwt",
    "bind_password",
];

/// The placeholder of a redacted value.
pub const REDACTED: &str = "******";

/// A config with its secrets replaced by `******`, as EMQX's replies show it.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = if SENSITIVE.contains(&k.as_str()) && !v.is_object() && !v.is_array() {
                        json!(REDACTED)
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// A new config whose `******` values are taken back from the old one
/// (`emqx_utils:deobfuscate/2`): a redacted value with no old one is dropped.
pub fn deobfuscate(new: &Value, old: &Value) -> Value {
    match (new, old) {
        (Value::Object(n), Value::Object(o)) => {
            let mut out = Map::new();
            for (k, v) in n {
                match o.get(k) {
                    None if v.as_str() == Some(REDACTED) => {}
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                    Some(old_v) if v.as_str() == Some(REDACTED) => {
                        out.insert(k.clone(), old_v.clone());
                    }
                    Some(old_v) => {
                        out.insert(k.clone(), deobfuscate(v, old_v));
                    }
                }
            }
            Value::Object(out)
        }
        (new, _) => new.clone(),
    }
}

/// A file path from config as the node reads it: `${EMQX_ETC_DIR}` and `${EMQX_DATA_DIR}`
/// expanded (to `<root>/etc` and the data dir), relative paths taken from the node's root (the
/// data dir's parent, EMQX's working directory).
pub fn resolve_file(node: &Node, path: &str) -> std::path::PathBuf {
    let root = node
        .info
        .data_dir
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let expanded = path
        .replace("${EMQX_ETC_DIR}", &root.join("etc").to_string_lossy())
        .replace("${EMQX_DATA_DIR}", &node.info.data_dir.to_string_lossy());
    let p = std::path::PathBuf::from(expanded);
    if p.is_absolute() {
        p
    } else {
        root.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::parse("5.8.6"), Version(5, 8, 6));
        assert_eq!(Version::parse("e5.10.4"), Version(5, 10, 4));
        assert_eq!(Version::parse("6.1.2-rc.1"), Version(6, 1, 2));
        assert_eq!(Version::parse("5.1.0-alpha.3-ga9d63c69"), Version(5, 1, 0));
        assert!(Version(5, 9, 0).at_least(5, 9, 0));
        assert!(!Version(5, 8, 9).at_least(5, 9, 0));
    }

    #[test]
    fn pages() {
        let p = Pager { page: 2, limit: 2 };
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5]), (vec![3, 4], true));
        assert_eq!(p.slice(vec![1, 2, 3, 4]), (vec![3, 4], false));
        let q: Query = [("page".to_string(), "0".to_string())].into();
        assert!(Pager::from_query(&q).is_err());
    }

    #[test]
    fn epoch_inputs() {
        assert_eq!(epoch_second(&json!(17)), Some(17));
        assert_eq!(epoch_second(&json!("17")), Some(17));
        assert_eq!(
            epoch_second(&json!("2021-10-25T21:48:47+08:00")),
            Some(1635169727)
        );
        assert_eq!(epoch_second(&json!("soon")), None);
    }

    #[test]
    fn paths() {
        let mut v = json!({});
        set_path(&mut v, &["a", "b", "c"], json!(1));
        assert_eq!(get_path(&v, &["a", "b", "c"]), Some(&json!(1)));
        assert!(remove_path(&mut v, &["a", "b", "c"]));
        assert!(!remove_path(&mut v, &["a", "x", "c"]));
        assert_eq!(v, json!({"a": {"b": {}}}));
    }

    #[test]
    fn secrets() {
        let old = json!({"server": "h", "password": "p", "ssl": {"password": "q"}});
        let shown = redact(&old);
        assert_eq!(
            shown,
            json!({"server": "h", "password": REDACTED, "ssl": {"password": REDACTED}})
        );
        assert_eq!(deobfuscate(&shown, &old), old);
        assert_eq!(
            deobfuscate(&json!({"password": REDACTED}), &json!({})),
            json!({})
        );
    }
}
