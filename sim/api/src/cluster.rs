//! The cluster: one core keeps the members (replicants register with
//! `POST /internal/cluster/join`); node-to-node endpoints under `/internal/cluster`, guarded by
//! the cluster cookie; and the client side of those endpoints.

use crate::auth;
use crate::data::{export_error, ExportBody};
use crate::error::ApiError;
use crate::nodes::node_info;
use crate::state::{blocking, AppState, Member};
use crate::{role_name, ServeError};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use emqx_sim_store::node::SENSITIVE_TABLE_SETS;
use emqx_sim_store::{BackupFileInfo, Caller, ExportOptions, Role};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The header carrying the cluster cookie on node-to-node requests.
pub(crate) const COOKIE_HEADER: &str = "x-emqx-sim-cookie";
/// The header a replicant names itself in when it proxies a request to the core.
pub(crate) const API_NODE_HEADER: &str = "x-emqx-sim-api-node";
/// The header of `/internal/cluster/export` holding base64 JSON of [`ExportMeta`].
const EXPORT_META_HEADER: &str = "x-emqx-sim-export";
/// Largest archive moved between nodes.
pub(crate) const MAX_ARCHIVE: usize = 1 << 30;

/// `POST /internal/cluster/join` body.
#[derive(Serialize, Deserialize)]
struct JoinBody {
    name: String,
    url: String,
    role: String,
}

/// What `/internal/cluster/export` says about the archive it returns.
#[derive(Serialize, Deserialize)]
pub(crate) struct ExportMeta {
    /// The archive's file name.
    pub filename: String,
    /// Where the core wrote it (named in `lines`).
    pub path: String,
    /// The core's data dir (named in `lines`).
    pub data_dir: String,
    /// EMQX's CLI lines of the export.
    pub lines: Vec<String>,
}

pub(crate) fn internal_routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/internal/cluster/join", post(join))
        .route("/internal/cluster/leave", post(leave))
        .route("/internal/cluster/info", get(info))
        .route("/internal/cluster/authenticate", post(authenticate))
        .route("/internal/cluster/export", post(export_archive))
        .route("/internal/cluster/files", get(list_files))
        .route(
            "/internal/cluster/files/{name}",
            get(download_file).delete(delete_file),
        )
        .route("/internal/cluster/files/{name}/sensitive", get(sensitive))
        .route_layer(from_fn_with_state(state.clone(), require_cookie))
        .layer(DefaultBodyLimit::max(MAX_ARCHIVE))
        .with_state(state)
}

fn cookie_ok(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(given) = headers.get(COOKIE_HEADER) else {
        return false;
    };
    let (a, b) = (given.as_bytes(), state.cluster.cookie.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_cookie(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if cookie_ok(&state, req.headers()) {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "BAD_CLUSTER_COOKIE",
            "cluster endpoints need the cluster cookie",
        )
        .into_response()
    }
}

/// The replicant that proxied a request to this core, when the request says so with the
/// cluster cookie and the replicant is a member.
pub(crate) fn proxied_from(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if !cookie_ok(state, headers) {
        return None;
    }
    let name = headers.get(API_NODE_HEADER)?.to_str().ok()?;
    state.members().contains_key(name).then(|| name.to_owned())
}

/// A request to another node with the cookie set.
pub(crate) fn peer_request(state: &AppState, method: Method, url: &str) -> reqwest::RequestBuilder {
    state
        .http
        .request(method, url)
        .header(COOKIE_HEADER, &state.cluster.cookie)
}

/// `<base>/internal/cluster/files/<name>[/<tail>]` with the name percent-encoded.
fn files_url(base: &str, name: &str, tail: Option<&str>) -> Result<reqwest::Url, ApiError> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| ApiError::internal(format!("bad node URL {base}: {e}")))?;
    {
        let mut segs = url
            .path_segments_mut()
            .map_err(|_| ApiError::internal(format!("bad node URL {base}")))?;
        segs.pop_if_empty()
            .extend(["internal", "cluster", "files", name]);
        if let Some(t) = tail {
            segs.push(t);
        }
    }
    Ok(url)
}

// ---- membership ------------------------------------------------------------------------

async fn join(
    State(state): State<Arc<AppState>>,
    Json(body): Json<JoinBody>,
) -> Result<Json<Value>, ApiError> {
    if state.node.info.role != Role::Core {
        return Err(ApiError::bad_request(format!(
            "{} is not a core node",
            state.cluster.name
        )));
    }
    if body.name == state.cluster.name {
        return Err(ApiError::bad_request(format!(
            "node name {} is taken by the core",
            body.name
        )));
    }
    let role = match body.role.as_str() {
        "replicant" => Role::Replicant,
        other => {
            return Err(ApiError::bad_request(format!(
                "only replicants join a core, not {other:?}"
            )))
        }
    };
    let url = body.url.trim_end_matches('/').to_owned();
    let previous = state
        .cluster
        .members
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            body.name.clone(),
            Member {
                url: url.clone(),
                role,
            },
        );
    if previous.is_none_or(|p| p.url != url) {
        eprintln!(
            "emqx-sim: {}: {} ({}) joined from {url}",
            state.cluster.name,
            body.name,
            role_name(role)
        );
    }
    Ok(Json(
        json!({"core": state.cluster.name, "url": state.cluster.self_url}),
    ))
}

async fn leave(State(state): State<Arc<AppState>>, Json(body): Json<Value>) -> StatusCode {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    let removed = state
        .cluster
        .members
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(name);
    if removed.is_some() {
        eprintln!("emqx-sim: {}: {name} left", state.cluster.name);
    }
    StatusCode::NO_CONTENT
}

async fn send_join(state: &AppState) -> Result<(), String> {
    let core = state.cluster.core_url.as_deref().ok_or("no core URL")?;
    let body = JoinBody {
        name: state.cluster.name.clone(),
        url: state.cluster.self_url.clone(),
        role: "replicant".into(),
    };
    let resp = peer_request(
        state,
        Method::POST,
        &format!("{core}/internal/cluster/join"),
    )
    .timeout(Duration::from_secs(5))
    .json(&body)
    .send()
    .await
    .map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        let e = ApiError::from_peer(core, resp).await;
        Err(format!("{} {}", e.status, e.message))
    }
}

/// Registers a replicant with its core, retrying while the core starts (15 s).
pub(crate) async fn join_core(state: &Arc<AppState>) -> Result<(), ServeError> {
    let url = state.cluster.core_url.clone().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match send_join(state).await {
            Ok(()) => return Ok(()),
            // A refusal (4xx) will not change: give up at once.
            Err(message) if message.starts_with('4') => {
                return Err(ServeError::Join { url, message })
            }
            Err(message) if tokio::time::Instant::now() >= deadline => {
                return Err(ServeError::Join { url, message })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Re-registers every few seconds, so a restarted core learns its replicants again.
pub(crate) async fn keep_joined(state: Arc<AppState>) {
    let mut failing = false;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        match send_join(&state).await {
            Ok(()) if failing => {
                eprintln!("emqx-sim: {}: core reachable again", state.cluster.name);
                failing = false;
            }
            Ok(()) => {}
            Err(e) if !failing => {
                eprintln!(
                    "emqx-sim: {}: cannot reach the core: {e}",
                    state.cluster.name
                );
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// Tells the core this replicant stops (best effort).
pub(crate) async fn leave_core(state: &AppState) {
    if let Some(core) = &state.cluster.core_url {
        let _ = peer_request(
            state,
            Method::POST,
            &format!("{core}/internal/cluster/leave"),
        )
        .timeout(Duration::from_secs(2))
        .json(&json!({"name": state.cluster.name}))
        .send()
        .await;
    }
}

async fn info(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(node_info(&state))
}

// ---- authentication for replicants ----------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct AuthBody {
    authorization: Option<String>,
    method: String,
    path: String,
}

async fn authenticate(
    State(state): State<Arc<AppState>>,
    Json(body): Json<AuthBody>,
) -> Result<Json<Caller>, ApiError> {
    if state.node.info.role != Role::Core {
        return Err(ApiError::bad_request("only the core authenticates"));
    }
    let auth = body
        .authorization
        .as_deref()
        .and_then(|a| HeaderValue::from_str(a).ok());
    let method = Method::from_bytes(body.method.as_bytes())
        .map_err(|_| ApiError::bad_request(format!("bad method {:?}", body.method)))?;
    auth::check(&state, auth.as_ref(), &method, &body.path)
        .await
        .map(Json)
}

/// Authenticates a request on a replicant by asking the core (which holds users, keys and
/// tokens).
pub(crate) async fn check_at_core(
    state: &AppState,
    authorization: Option<&HeaderValue>,
    method: &Method,
    path: &str,
) -> Result<Caller, ApiError> {
    let core = state.core_url()?;
    let body = AuthBody {
        authorization: authorization
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        method: method.as_str().to_owned(),
        path: path.to_owned(),
    };
    let resp = peer_request(
        state,
        Method::POST,
        &format!("{core}/internal/cluster/authenticate"),
    )
    .json(&body)
    .send()
    .await
    .map_err(|e| ApiError::unreachable(core, e))?;
    if !resp.status().is_success() {
        return Err(ApiError::from_peer(core, resp).await);
    }
    let v: Value = resp
        .json()
        .await
        .map_err(|e| ApiError::unreachable(core, e))?;
    caller_from_json(&v).ok_or_else(|| ApiError::internal(format!("core sent a bad caller: {v}")))
}

fn caller_from_json(v: &Value) -> Option<Caller> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match v.get("type")?.as_str()? {
        "dashboard" => Some(Caller::Dashboard {
            username: s("username")?,
            role: s("role")?,
        }),
        "api_key" => Some(Caller::ApiKey {
            name: s("name")?,
            role: s("role")?,
        }),
        "local" => Some(Caller::Local),
        _ => None,
    }
}

// ---- archives for replicants -----------------------------------------------------------------

/// `POST /internal/cluster/export`: the core builds an archive in a temporary folder and
/// answers its bytes, with [`ExportMeta`] in a header.
async fn export_archive(
    State(state): State<Arc<AppState>>,
    Json(body): Json<ExportBody>,
) -> Result<Response, ApiError> {
    if state.node.info.role != Role::Core {
        return Err(ApiError::bad_request(
            "only the core exports archives for others",
        ));
    }
    let node = state.node.clone();
    let (bytes, meta) = blocking(move || -> Result<(Vec<u8>, ExportMeta), ApiError> {
        let tmp = tempfile::Builder::new()
            .prefix(".export-")
            .tempdir_in(&node.info.data_dir)
            .map_err(|e| ApiError::internal(format!("temporary export folder: {e}")))?;
        let options = ExportOptions {
            table_sets: body.table_sets.unwrap_or_default(),
            root_keys: body.root_keys.unwrap_or_default(),
            dir: Some(tmp.path().to_owned()),
            without_sensitive: body.without_sensitive,
        };
        let mut lines = Vec::new();
        let path = node
            .export(&options, &mut |l: &str| lines.push(l.to_owned()))
            .map_err(export_error)?;
        let bytes = std::fs::read(&path)
            .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
        let meta = ExportMeta {
            filename: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.display().to_string(),
            data_dir: node.info.data_dir.display().to_string(),
            lines,
        };
        Ok((bytes, meta))
    })
    .await??;
    let meta = base64::engine::general_purpose::STANDARD
        .encode(serde_json::to_vec(&meta).map_err(|e| ApiError::internal(e.to_string()))?);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::HeaderName::from_static(EXPORT_META_HEADER), meta),
        ],
        bytes,
    )
        .into_response())
}

/// Asks the core for an archive (replicant side of [`export_archive`]).
pub(crate) async fn export_at_core(
    state: &AppState,
    body: &ExportBody,
) -> Result<(Bytes, ExportMeta), ApiError> {
    let core = state.core_url()?;
    let resp = peer_request(
        state,
        Method::POST,
        &format!("{core}/internal/cluster/export"),
    )
    .json(body)
    .send()
    .await
    .map_err(|e| ApiError::unreachable(core, e))?;
    if !resp.status().is_success() {
        return Err(ApiError::from_peer(core, resp).await);
    }
    let meta = resp
        .headers()
        .get(EXPORT_META_HEADER)
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_bytes())
                .ok()
        })
        .and_then(|j| serde_json::from_slice::<ExportMeta>(&j).ok())
        .ok_or_else(|| ApiError::internal("the core's export answer lacks its description"))?;
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ApiError::unreachable(core, e))?;
    Ok((bytes, meta))
}

// ---- backup files of one node ----------------------------------------------------------------

async fn list_files(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<BackupFileInfo>>, ApiError> {
    let node = state.node.clone();
    let files = blocking(move || node.list_files())
        .await?
        .map_err(ApiError::from_data)?;
    Ok(Json(files))
}

async fn download_file(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let node = state.node.clone();
    let bytes = blocking(move || node.download(&name))
        .await?
        .map_err(ApiError::from_data_404)?;
    Ok(octet_stream(Body::from(bytes)))
}

async fn delete_file(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let node = state.node.clone();
    blocking(move || node.delete(&name))
        .await?
        .map_err(ApiError::from_data_404)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sensitive(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let node = state.node.clone();
    let sets = blocking(move || node.sensitive_table_sets(&name))
        .await?
        .map_err(ApiError::from_data_404)?;
    Ok(Json(json!({"sensitive": !sets.is_empty(), "sets": sets})))
}

/// A `200 application/octet-stream` answer.
pub(crate) fn octet_stream(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response()
}

/// The backup files of another node.
pub(crate) async fn peer_list(
    state: &AppState,
    node: &str,
    base: &str,
) -> Result<Vec<BackupFileInfo>, ApiError> {
    let resp = peer_request(
        state,
        Method::GET,
        &format!("{base}/internal/cluster/files"),
    )
    .timeout(Duration::from_secs(300))
    .send()
    .await
    .map_err(|e| ApiError::unreachable(node, e))?;
    if !resp.status().is_success() {
        return Err(ApiError::from_peer(node, resp).await);
    }
    resp.json()
        .await
        .map_err(|e| ApiError::unreachable(node, e))
}

/// A backup file of another node, as a response to stream on.
pub(crate) async fn peer_download(
    state: &AppState,
    node: &str,
    base: &str,
    name: &str,
) -> Result<reqwest::Response, ApiError> {
    let resp = peer_request(state, Method::GET, files_url(base, name, None)?.as_str())
        .send()
        .await
        .map_err(|e| ApiError::unreachable(node, e))?;
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(ApiError::from_peer(node, resp).await)
    }
}

/// Deletes a backup file of another node.
pub(crate) async fn peer_delete(
    state: &AppState,
    node: &str,
    base: &str,
    name: &str,
) -> Result<(), ApiError> {
    let resp = peer_request(state, Method::DELETE, files_url(base, name, None)?.as_str())
        .send()
        .await
        .map_err(|e| ApiError::unreachable(node, e))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(ApiError::from_peer(node, resp).await)
    }
}

/// The sensitive table sets a backup file of another node holds.
pub(crate) async fn peer_sensitive(
    state: &AppState,
    node: &str,
    base: &str,
    name: &str,
) -> Result<Vec<String>, ApiError> {
    let resp = peer_request(
        state,
        Method::GET,
        files_url(base, name, Some("sensitive"))?.as_str(),
    )
    .send()
    .await
    .map_err(|e| ApiError::unreachable(node, e))?;
    if !resp.status().is_success() {
        return Err(ApiError::from_peer(node, resp).await);
    }
    let v: Value = resp
        .json()
        .await
        .map_err(|e| ApiError::unreachable(node, e))?;
    let sets: Vec<String> = v
        .get("sets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let sensitive = v.get("sensitive").and_then(Value::as_bool).unwrap_or(true);
    Ok(if sensitive && sets.is_empty() {
        // A peer that does not name the sets: assume both.
        SENSITIVE_TABLE_SETS
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        sets
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_encoded() {
        let u = files_url("http://127.0.0.1:1/", "a b/../c.tar.gz", Some("sensitive")).unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:1/internal/cluster/files/a%20b%2F..%2Fc.tar.gz/sensitive"
        );
    }

    #[test]
    fn callers_round_trip() {
        for c in [
            Caller::Local,
            Caller::ApiKey {
                name: "k".into(),
                role: "viewer".into(),
            },
            Caller::Dashboard {
                username: "admin".into(),
                role: "administrator".into(),
            },
        ] {
            let v = serde_json::to_value(&c).unwrap();
            assert_eq!(caller_from_json(&v), Some(c));
        }
    }
}
