//! Authentication as EMQX's dashboard does it: `POST /login` issues bearer tokens for the rows
//! of `emqx_admin`; HTTP Basic `api_key:api_secret` is checked against the rows of `emqx_app`
//! (bootstrap keys are written there at start). The caller goes into the request's extensions.

use crate::error::{not_found_fallback, ApiError};
use crate::state::{blocking, AppState, Session};
use crate::{cluster, data, nodes, ServeError};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use emqx_sim_store::{Caller, DataError, Node, StoreError};
use erlang_term::Term;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// EMQX's `dashboard.default_username` / `default_password`.
const DEFAULT_USERNAME: &str = "admin";
const DEFAULT_PASSWORD: &str = "public";
/// `?ROLE_SUPERUSER`, also the default role of API keys (`?ROLE_API_DEFAULT`).
const ADMINISTRATOR: &str = "administrator";
const VIEWER: &str = "viewer";
const PUBLISHER: &str = "publisher";
/// The description of keys from the bootstrap file (`?BOOTSTRAP_TAG`).
const BOOTSTRAP_TAG: &str = "Bootstrapped From File";
/// `?API_KEY_NOT_ALLOW_MSG`.
const API_KEY_NOT_ALLOW_MSG: &str = "This API Key don't have permission to access this resource";

/// The `/api/v5` routes of a core: `/login` open, everything else behind [`require_auth`].
pub(crate) fn core_api(state: Arc<AppState>) -> Router {
    let authed = Router::new()
        .merge(data::routes())
        .merge(nodes::api_routes())
        .route("/logout", post(logout))
        .fallback(not_found_fallback)
        .with_state(state.clone())
        .merge(domains_router(&state))
        .layer(from_fn_with_state(state.clone(), require_auth));
    Router::new()
        .route("/login", post(login))
        .with_state(state)
        .merge(authed)
}

/// The domain endpoints of spec §7 (`emqx-sim-domains`), on the node's state.
fn domains_router(state: &Arc<AppState>) -> Router {
    emqx_sim_domains::router().with_state(state.node.clone())
}

/// The path below `/api/v5` of a request seen inside the nested router.
pub(crate) fn api_path(req: &Request) -> String {
    let full = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.path().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    match full.strip_prefix("/api/v5") {
        Some("") => "/".to_owned(),
        Some(rest) => rest.to_owned(),
        None => full,
    }
}

/// The node a request came in on: this node, or the replicant that proxied it (named in
/// `X-Emqx-Sim-Api-Node`, trusted with the cluster cookie only).
#[derive(Clone, Debug)]
pub(crate) struct ApiNode(pub String);

/// Middleware of the core's `/api/v5`: authenticates, puts the [`Caller`] and the
/// [`ApiNode`] into the request's extensions.
async fn require_auth(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = api_path(&req);
    let method = req.method().clone();
    let auth = req.headers().get(header::AUTHORIZATION).cloned();
    let caller = match check(&state, auth.as_ref(), &method, &path).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let api_node =
        cluster::proxied_from(&state, req.headers()).unwrap_or_else(|| state.cluster.name.clone());
    req.extensions_mut().insert(caller);
    req.extensions_mut().insert(ApiNode(api_node));
    next.run(req).await
}

/// Checks the `Authorization` header of a request for `method path` (below `/api/v5`) as
/// EMQX's `emqx_dashboard:authorize/1` does.
pub(crate) async fn check(
    state: &Arc<AppState>,
    authorization: Option<&HeaderValue>,
    method: &Method,
    path: &str,
) -> Result<Caller, ApiError> {
    let header_error = || {
        ApiError::unauthorized(
            "AUTHORIZATION_HEADER_ERROR",
            "Support authorization: basic/bearer ",
        )
    };
    let value = authorization
        .and_then(|v| v.to_str().ok())
        .ok_or_else(header_error)?
        .trim();
    let (scheme, rest) = value.split_once(' ').ok_or_else(header_error)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let bad = || ApiError::unauthorized("BAD_API_KEY_OR_SECRET", "Check api_key/api_secret");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| header_error())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (key, secret) = decoded.split_once(':').ok_or_else(header_error)?;
        if let Some(resource) = api_key_forbidden_resource(path) {
            return Err(ApiError::unauthorized(
                "API_KEY_NOT_ALLOW",
                format!(
                    "Please use bearer Token instead, using API key/secret in {resource} path is not permitted"
                ),
            ));
        }
        let (name, role) = check_api_key(state, key, secret).await?.ok_or_else(bad)?;
        if !role_allows(&role, method, path, None) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "UNAUTHORIZED_ROLE",
                API_KEY_NOT_ALLOW_MSG,
            ));
        }
        Ok(Caller::ApiKey { name, role })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let (username, role) = check_token(state, rest).await?;
        if !role_allows(&role, method, path, Some(&username)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "UNAUTHORIZED_ROLE",
                "You don't have permission to access this resource",
            ));
        }
        Ok(Caller::Dashboard { username, role })
    } else {
        Err(header_error())
    }
}

/// The resources EMQX never lets API keys touch (`emqx_mgmt_auth:authorize/4`).
fn api_key_forbidden_resource(path: &str) -> Option<&'static str> {
    if path == "/users" || path.starts_with("/users/") {
        Some("users")
    } else if path == "/logout" {
        Some("logout")
    } else if path == "/api_key" || path.starts_with("/api_key/") {
        Some("api_key")
    } else {
        None
    }
}

/// EMQX's RBAC: administrators do anything, viewers read (and may log out and change their
/// own password), publishers only publish.
fn role_allows(role: &str, method: &Method, path: &str, user: Option<&str>) -> bool {
    match role {
        VIEWER => {
            method == Method::GET
                || (user.is_some() && method == Method::POST && path == "/logout")
                || user.is_some_and(|u| {
                    method == Method::POST && path == format!("/users/{u}/change_pwd")
                })
        }
        PUBLISHER => method == Method::POST && (path == "/publish" || path == "/publish/bulk"),
        _ => true,
    }
}

async fn check_token(state: &Arc<AppState>, token: &str) -> Result<(String, String), ApiError> {
    let bad_token = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "BAD_TOKEN",
            "Get a token by POST /login",
        )
    };
    let session = {
        let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match sessions.get(token) {
            None => return Err(bad_token()),
            Some(s) if s.expires <= now => {
                sessions.remove(token);
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "TOKEN_TIME_OUT",
                    "Token expired, get new token by POST /login",
                ));
            }
            Some(s) => s.clone(),
        }
    };
    // The user may have been deleted or changed since the login (EMQX drops its tokens then).
    let node = state.node.clone();
    let username = session.username.clone();
    let user = blocking(move || read_admin(&node, &username))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match user {
        Some(u) => Ok((session.username, u.role)),
        None => {
            state
                .sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(token);
            Err(bad_token())
        }
    }
}

/// Checks an API key and secret; `Some((name, role))` when they open the door.
async fn check_api_key(
    state: &Arc<AppState>,
    key: &str,
    secret: &str,
) -> Result<Option<(String, String)>, ApiError> {
    let node = state.node.clone();
    let key = key.to_owned();
    let app = blocking(move || find_app(&node, &key))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let Some(app) = app else { return Ok(None) };
    let now = unix_now();
    // Erlang term order: the atoms `infinity` and `undefined` are above every integer.
    let live = app.expired_at.is_none_or(|at| at >= now);
    if !app.enable || !live {
        return Ok(None);
    }
    let secret = secret.to_owned();
    let hash = app.secret_hash.clone();
    let ok = blocking(move || emqx_passwd::dashboard::verify(secret.as_bytes(), &hash)).await?;
    Ok(ok.then_some((app.name, app.role)))
}

/// A row of `emqx_admin`, as far as login needs it.
struct Admin {
    pwdhash: Vec<u8>,
    role: String,
}

fn read_admin(node: &Node, username: &str) -> Result<Option<Admin>, StoreError> {
    let key = Term::binary(username);
    let row = node.store.read(|tx| tx.get("emqx_admin", &key))?;
    Ok(row.and_then(|r| {
        let f = r.as_tuple()?;
        Some(Admin {
            pwdhash: f.get(2)?.as_binary()?.to_vec(),
            // 5.1 rows have `undefined` here: EMQX treats them as administrators.
            role: f
                .get(4)
                .and_then(Term::as_binary)
                .map(|r| String::from_utf8_lossy(r).into_owned())
                .unwrap_or_else(|| ADMINISTRATOR.to_owned()),
        })
    }))
}

/// A row of `emqx_app`, as far as authentication needs it.
struct App {
    name: String,
    secret_hash: Vec<u8>,
    enable: bool,
    /// `None` for `infinity` / `undefined`.
    expired_at: Option<i64>,
    role: String,
}

fn find_app(node: &Node, api_key: &str) -> Result<Option<App>, StoreError> {
    let rows = node.store.read(|tx| tx.scan("emqx_app"))?;
    let mut found = rows.iter().filter_map(|r| {
        let f = r.as_tuple()?;
        if f.get(2)?.as_binary()? != api_key.as_bytes() {
            return None;
        }
        Some(App {
            name: String::from_utf8_lossy(f.get(1)?.as_binary()?).into_owned(),
            secret_hash: f.get(3)?.as_binary()?.to_vec(),
            enable: f.get(4)?.as_atom() == Some("true"),
            expired_at: f.get(6).and_then(Term::as_i64),
            role: app_role(f.get(5)?),
        })
    });
    let first = found.next();
    // EMQX finds the key with match_object and refuses when it is not exactly one row.
    Ok(if found.next().is_some() { None } else { first })
}

/// The role in `extra` (since 5.4 a map with `role`); legacy rows (a `desc` binary) are
/// administrators.
fn app_role(extra: &Term) -> String {
    if let Term::Map(pairs) = extra {
        for (k, v) in pairs {
            if k.as_atom() == Some("role") {
                if let Some(r) = v.as_binary() {
                    return String::from_utf8_lossy(r).into_owned();
                }
            }
        }
    }
    ADMINISTRATOR.to_owned()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The 5.x hash of dashboard passwords and API secrets (spec §4.4, legacy form).
fn hash_secret(secret: &str) -> Vec<u8> {
    emqx_passwd::dashboard::new_legacy(secret.as_bytes())
}

/// `POST /login {username, password}` → `{token, version, license, role}`; a locked username
/// (see [`crate::login_lock`]) → 401 `LOGIN_LOCKED`.
async fn login(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::bad_request(format!("{name}: required field missing")))
    };
    let (username, password) = (field("username")?, field("password")?);
    if state.login_lock.is_locked(&username, Instant::now()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "LOGIN_LOCKED",
            "Login locked",
        ));
    }
    let node = state.node.clone();
    let user = username.clone();
    let admin = blocking(move || read_admin(&node, &user))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let failed = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "BAD_USERNAME_OR_PWD",
            "Auth failed",
        )
    };
    let Some(admin) = admin else {
        return Err(failed());
    };
    let hash = admin.pwdhash.clone();
    if !blocking(move || emqx_passwd::dashboard::verify(password.as_bytes(), &hash)).await? {
        state.login_lock.failed(&username, Instant::now());
        return Err(failed());
    }
    state.login_lock.reset(&username);
    let token = hex::encode(rand::random::<[u8; 32]>());
    let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    sessions.retain(|_, s| s.expires > now);
    sessions.insert(
        token.clone(),
        Session {
            username,
            expires: now + state.token_ttl,
        },
    );
    drop(sessions);
    let info = &state.node.info;
    let edition = match info.edition {
        emqx_archive::Edition::Ce => "opensource",
        emqx_archive::Edition::Ee => "enterprise",
    };
    Ok(Json(json!({
        "token": token,
        "version": info.version,
        "license": {"edition": edition},
        "role": admin.role,
    }))
    .into_response())
}

/// `POST /logout {username}`: drops the bearer token of the request.
async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let username = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("username").and_then(Value::as_str).map(str::to_owned));
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
    match (token, username) {
        (Some(t), Some(u)) if sessions.get(&t).is_some_and(|s| s.username == u) => {
            sessions.remove(&t);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "WRONG_TOKEN_OR_USERNAME",
            "Ensure your token & username",
        )
        .into_response(),
    }
}

/// On a core at start: EMQX's default dashboard user (`admin` / `public`) when there is no
/// `admin`, and the bootstrap API keys.
pub(crate) async fn prepare_store(
    state: &Arc<AppState>,
    api_key_file: Option<&Path>,
) -> Result<(), ServeError> {
    let keys = match api_key_file {
        Some(path) => read_bootstrap_file(path)?,
        None => Vec::new(),
    };
    let node = state.node.clone();
    blocking(move || -> Result<(), DataError> {
        add_default_user(&node)?;
        for key in &keys {
            force_create_app(&node, key)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| ServeError::Store(e.message))?
    .map_err(|e| ServeError::Store(e.to_string()))
}

fn add_default_user(node: &Node) -> Result<(), DataError> {
    let key = Term::binary(DEFAULT_USERNAME);
    node.store.write(|tx| -> Result<(), DataError> {
        if tx.get("emqx_admin", &key)?.is_none() {
            let record = Term::tuple(vec![
                Term::atom("emqx_admin"),
                key.clone(),
                Term::binary(hash_secret(DEFAULT_PASSWORD)),
                Term::binary(ADMINISTRATOR),
                Term::binary(ADMINISTRATOR),
                Term::Map(vec![(Term::atom("password_ts"), Term::Int(unix_now()))]),
            ]);
            tx.put("emqx_admin", &record)?;
        }
        Ok(())
    })
}

/// One line of the bootstrap file.
struct BootstrapKey {
    key: String,
    secret: String,
    role: String,
}

/// Reads `api_key:api_secret[:role]` lines (blank lines skipped), as
/// `emqx_mgmt_auth:init_bootstrap_file/1`.
fn read_bootstrap_file(path: &Path) -> Result<Vec<BootstrapKey>, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServeError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: &str| ServeError::ApiKeyFile {
            path: path.to_owned(),
            line: i + 1,
            message: message.to_owned(),
        };
        let (key, rest) = line
            .split_once(':')
            .filter(|(k, r)| !k.is_empty() && !r.is_empty())
            .ok_or_else(|| err("invalid_format: expected api_key:api_secret[:role]"))?;
        let (secret, role) = match rest.split_once(':') {
            Some((s, r)) => (s, r),
            None => (rest, ADMINISTRATOR),
        };
        if secret.is_empty() || role.is_empty() {
            return Err(err("invalid_format: expected api_key:api_secret[:role]"));
        }
        if ![ADMINISTRATOR, VIEWER, PUBLISHER].contains(&role) {
            return Err(err(&format!(
                "invalid_role {role:?}: expected administrator, viewer or publisher"
            )));
        }
        keys.push(BootstrapKey {
            key: key.to_owned(),
            secret: secret.to_owned(),
            role: role.to_owned(),
        });
    }
    Ok(keys)
}

/// EMQX's `force_create_app`: the key gets the name `from_bootstrap_file_<first 16 hex of
/// sha512(key)>`; other rows holding the same key are deleted.
fn force_create_app(node: &Node, key: &BootstrapKey) -> Result<(), DataError> {
    // EMQX's `hash_string_from_seed`, the same digest as a 5.x key of a name.
    let name = format!(
        "from_bootstrap_file_{}",
        emqx_passwd::api_key::key_for_name_5x(&key.key)
    );
    let record = Term::tuple(vec![
        Term::atom("emqx_app"),
        Term::binary(&name),
        Term::binary(&key.key),
        Term::binary(hash_secret(&key.secret)),
        Term::boolean(true),
        Term::Map(vec![
            (Term::atom("desc"), Term::binary(BOOTSTRAP_TAG)),
            (Term::atom("role"), Term::binary(&key.role)),
        ]),
        Term::atom("infinity"),
        Term::Int(unix_now()),
    ]);
    node.store.write(|tx| -> Result<(), DataError> {
        for row in tx.scan("emqx_app")? {
            let Some(f) = row.as_tuple() else { continue };
            let same_key = f.get(2).and_then(Term::as_binary) == Some(key.key.as_bytes());
            let other_name = f.get(1).and_then(Term::as_binary) != Some(name.as_bytes());
            if same_key && other_name {
                tx.delete("emqx_app", &f[1])?;
            }
        }
        tx.put("emqx_app", &record)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_hash_has_emqx_shape() {
        let h = hash_secret("public");
        assert_eq!(h.len(), 36);
        assert!(h[..4]
            .iter()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(emqx_passwd::dashboard::verify(b"public", &h));
        assert!(!emqx_passwd::dashboard::verify(b"publik", &h));
    }

    #[test]
    fn bootstrap_lines() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("keys");
        std::fs::write(&f, "k1:s1\n\n  k2:s2:viewer  \n").unwrap();
        let keys = read_bootstrap_file(&f).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (keys[0].key.as_str(), keys[0].role.as_str()),
            ("k1", "administrator")
        );
        assert_eq!(
            (keys[1].secret.as_str(), keys[1].role.as_str()),
            ("s2", "viewer")
        );
        std::fs::write(&f, "k1:s1\nk2:s2:boss\n").unwrap();
        let e = read_bootstrap_file(&f).err().unwrap().to_string();
        assert!(e.contains("line 2") && e.contains("invalid_role"), "{e}");
        std::fs::write(&f, "nocolon\n").unwrap();
        assert!(read_bootstrap_file(&f).is_err());
    }

    #[test]
    fn rbac() {
        assert!(role_allows(VIEWER, &Method::GET, "/data/files", None));
        assert!(!role_allows(VIEWER, &Method::POST, "/data/export", None));
        assert!(role_allows(
            VIEWER,
            &Method::POST,
            "/users/bob/change_pwd",
            Some("bob")
        ));
        assert!(!role_allows(
            VIEWER,
            &Method::POST,
            "/users/eve/change_pwd",
            Some("bob")
        ));
        assert!(role_allows(
            ADMINISTRATOR,
            &Method::DELETE,
            "/data/files/x",
            None
        ));
        assert!(!role_allows(PUBLISHER, &Method::GET, "/nodes", None));
        assert_eq!(api_key_forbidden_resource("/users/x"), Some("users"));
        assert_eq!(api_key_forbidden_resource("/api_key_scopes"), None);
    }
}
