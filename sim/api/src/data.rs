//! `/api/v5/data/*` (spec §6): export, import, upload, list, download and delete of backup
//! files, across the nodes of the cluster.

use crate::auth::ApiNode;
use crate::cluster::{self, octet_stream, MAX_ARCHIVE};
use crate::error::ApiError;
use crate::state::{blocking, AppState, Target};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use emqx_sim_store::{
    check_backup_name, BackupFileInfo, Caller, DataError, ExportOptions, Node, Role,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

/// EMQX's default and largest page size of lists.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 10_000;
/// The tables EMQX restricts API keys from (spec §5.8).
const SENSITIVE_SETS: &str = "dashboard_users, api_keys";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/data/export", post(export))
        .route("/data/import", post(import))
        .route(
            "/data/files",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_ARCHIVE)),
        )
        .route("/data/files/{filename}", get(download).delete(delete))
}

/// The body of `POST /data/export` (and of the core's internal export).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ExportBody {
    /// Table sets to export (all when absent).
    #[serde(default)]
    pub table_sets: Option<Vec<String>>,
    /// Config roots to export (all when absent).
    #[serde(default)]
    pub root_keys: Option<Vec<String>>,
    /// Drop the sensitive sets (set from the caller, never from the REST body).
    #[serde(default)]
    pub without_sensitive: bool,
}

#[derive(Deserialize)]
struct ImportBody {
    filename: String,
    #[serde(default)]
    node: Option<String>,
}

#[derive(Deserialize)]
struct NodeQuery {
    node: Option<String>,
}

/// A JSON body; an empty body is `{}`.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("bad request body: {e}")))
}

/// EMQX's answers to a failed export: unknown names are the caller's fault (400), the rest
/// is `Error processing export: ...` (500).
pub(crate) fn export_error(e: DataError) -> ApiError {
    match e {
        DataError::InvalidRootKeys(_) | DataError::InvalidTableSets(_) => {
            ApiError::bad_request(e.to_string())
        }
        other => ApiError::internal(format!("Error processing export: {other}")),
    }
}

/// The listing entry of a file in the node's backup dir.
fn file_info(node: &Node, path: &FsPath) -> Result<BackupFileInfo, ApiError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    node.list_files()
        .map_err(ApiError::from_data)?
        .into_iter()
        .find(|f| f.filename == name)
        .ok_or_else(|| ApiError::internal(format!("exported file {name} is not listed")))
}

/// Writes archive bytes as `<dir>/<name>` without replacing a file of that name.
pub(crate) fn save_archive(dir: &FsPath, name: &str, bytes: &[u8]) -> Result<PathBuf, ApiError> {
    use std::io::Write;
    let fail = |e: std::io::Error| ApiError::internal(format!("{}: {e}", dir.join(name).display()));
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(ApiError::internal(format!(
            "bad archive name {name:?} from the core"
        )));
    }
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    let path = dir.join(name);
    tmp.persist_noclobber(&path).map_err(|e| fail(e.error))?;
    Ok(path)
}

/// `POST /data/export {table_sets?, root_keys?}` → 200 backup_file_info. API-key callers get
/// no sensitive table sets (silently). A replicant stores an archive built by the core.
async fn export(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<BackupFileInfo>, ApiError> {
    let mut req: ExportBody = parse_body(&body)?;
    req.without_sensitive = caller.sensitive_restricted();
    let node = state.node.clone();
    let info = if node.info.role == Role::Core {
        blocking(move || {
            let options = ExportOptions {
                table_sets: req.table_sets.unwrap_or_default(),
                root_keys: req.root_keys.unwrap_or_default(),
                dir: None,
                without_sensitive: req.without_sensitive,
            };
            let path = node.export(&options, &mut |_| {}).map_err(export_error)?;
            file_info(&node, &path)
        })
        .await??
    } else {
        let (bytes, meta) = cluster::export_at_core(&state, &req).await?;
        blocking(move || {
            let path = save_archive(&node.backup_dir(), &meta.filename, &bytes)?;
            file_info(&node, &path)
        })
        .await??
    };
    Ok(Json(info))
}

/// EMQX's `backup_path`: a name of one path segment ending in `.tar.gz` (no `/`, `\`, NUL,
/// `.` or `..` as the base), in the backup dir.
fn backup_path(node: &Node, name: &str) -> Result<PathBuf, DataError> {
    check_backup_name(name)?;
    Ok(node.backup_dir().join(name))
}

/// The sensitive table sets of a backup file, peeked at on the node holding it.
async fn sensitive_sets(
    state: &Arc<AppState>,
    node_name: &str,
    name: &str,
) -> Result<Vec<String>, ApiError> {
    match state.locate(node_name)? {
        Target::Local => {
            let node = state.node.clone();
            let name = name.to_owned();
            let sets = blocking(move || node.sensitive_table_sets(&name))
                .await?
                .map_err(ApiError::from_data_404)?;
            Ok(sets.into_iter().map(str::to_owned).collect())
        }
        Target::Remote(url) => cluster::peer_sensitive(state, node_name, &url, name).await,
    }
}

/// The lines of an import that EMQX counts as errors (`db_errors`, then `config_errors`),
/// each once.
pub(crate) fn import_errors(lines: &[String]) -> Vec<String> {
    let mut db = Vec::new();
    let mut conf = Vec::new();
    for l in lines {
        let list = if l.starts_with("[error] Failed to import built-in database table:") {
            &mut db
        } else if l.starts_with("Failed to import the following config path:") {
            &mut conf
        } else {
            continue;
        };
        if !list.contains(l) {
            list.push(l.clone());
        }
    }
    db.extend(conf);
    db
}

/// `POST /data/import {filename, node?}` → 204. Runs on the core (a replicant proxies it
/// here, naming itself the API node); a file of another node is copied first (§5.5).
async fn import(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Extension(ApiNode(api_node)): Extension<ApiNode>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let req: ImportBody = parse_body(&body)?;
    let file_node = req.node.clone().unwrap_or_else(|| api_node.clone());
    let file_at = state.locate(&file_node)?;
    if caller.sensitive_restricted() {
        // EMQX peeks at the API node's own copy only.
        let sensitive = sensitive_sets(&state, &api_node, &req.filename)
            .await
            .map_err(|e| {
                if e.status == StatusCode::NOT_FOUND {
                    ApiError::from_data(DataError::NotFound)
                } else {
                    e
                }
            })?;
        if !sensitive.is_empty() {
            return Err(ApiError::forbidden(format!(
                "API key import refused: backup contains restricted tables: {SENSITIVE_SETS}"
            )));
        }
    }
    if state.node.info.role != Role::Core {
        return Err(ApiError::from_data(DataError::NotCoreNode(
            state.cluster.name.clone(),
        )));
    }
    let node = state.node.clone();
    let name = req.filename.clone();
    let path = blocking(move || backup_path(&node, &name))
        .await?
        .map_err(ApiError::from_data)?;
    if let Target::Remote(url) = file_at {
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            let bytes = cluster::peer_download(&state, &file_node, &url, &req.filename)
                .await
                .map_err(|e| {
                    if e.status == StatusCode::NOT_FOUND {
                        ApiError::from_data(DataError::NotFound)
                    } else {
                        e
                    }
                })?
                .bytes()
                .await
                .map_err(|e| ApiError::unreachable(&file_node, e))?;
            let node = state.node.clone();
            let name = req.filename.clone();
            blocking(move || node.upload(&name, &bytes))
                .await?
                .map_err(ApiError::from_data)?;
        }
    }
    let node = state.node.clone();
    let report = blocking(move || {
        if !path.is_file() {
            return Err(DataError::NotFound);
        }
        node.import(&path, &mut |_| {})
    })
    .await?
    .map_err(ApiError::from_data)?;
    let errors = import_errors(&report.lines);
    if errors.is_empty() {
        Ok(StatusCode::NO_CONTENT)
    } else {
        let message: String = errors.iter().map(|l| format!("{l}\n")).collect();
        Err(ApiError::bad_request(message))
    }
}

/// `POST /data/files` (multipart, field `filename`) → 204.
async fn upload(State(state): State<Arc<AppState>>, req: Request) -> Result<StatusCode, ApiError> {
    let missing = || ApiError::bad_request("Missing required parameter: filename");
    let mut multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|_| missing())?;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?
            .ok_or_else(missing)?;
        if field.name() != Some("filename") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?;
        let node = state.node.clone();
        blocking(move || node.upload(&name, &bytes))
            .await?
            .map_err(ApiError::from_data)?;
        return Ok(StatusCode::NO_CONTENT);
    }
}

/// `page` and `limit` as EMQX checks them (`page_limit_invalid`).
fn pager(query: &HashMap<String, String>) -> Result<(u64, u64), ApiError> {
    let invalid = || ApiError::bad_request("page_limit_invalid");
    let num = |key: &str, default: u64| match query.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().map_err(|_| invalid()),
    };
    let (page, limit) = (num("page", 1)?, num("limit", DEFAULT_LIMIT)?);
    if page < 1 || !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid());
    }
    Ok((page, limit))
}

/// Sorts files as EMQX lists them: newest first, ties by file name descending.
pub(crate) fn sort_files(files: &mut [BackupFileInfo]) {
    files.sort_by(|a, b| {
        b.created_at_sec
            .cmp(&a.created_at_sec)
            .then_with(|| b.filename.cmp(&a.filename))
    });
}

/// `GET /data/files?page&limit` → the files of every node, one page.
async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = pager(&query)?;
    let node = state.node.clone();
    let mut files = blocking(move || node.list_files())
        .await?
        .map_err(ApiError::from_data)?;
    for (name, member) in state.members() {
        match cluster::peer_list(&state, &name, &member.url).await {
            Ok(more) => files.extend(more),
            Err(e) => eprintln!(
                "emqx-sim: {}: list_exported_backup_files_failed on {name}: {}",
                state.cluster.name, e.message
            ),
        }
    }
    sort_files(&mut files);
    let count = files.len() as u64;
    let start = (page - 1).saturating_mul(limit);
    let data: Vec<_> = files
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(limit as usize)
        .collect();
    Ok(Json(json!({
        "data": data,
        "meta": {"page": page, "limit": limit, "count": count, "hasnext": start + limit < count},
    })))
}

/// `GET /data/files/{filename}?node` → the archive's bytes. API keys may not download an
/// archive holding the sensitive tables (EMQX 6's guard, spec §5.8).
async fn download(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Extension(ApiNode(api_node)): Extension<ApiNode>,
    Path(filename): Path<String>,
    Query(q): Query<NodeQuery>,
) -> Result<Response, ApiError> {
    check_backup_name(&filename).map_err(ApiError::from_data)?;
    let node_name = q.node.unwrap_or(api_node);
    if caller.sensitive_restricted() {
        let sets = sensitive_sets(&state, &node_name, &filename).await?;
        if !sets.is_empty() {
            return Err(ApiError::forbidden(format!(
                "API key download refused: backup contains restricted tables: {}",
                sets.join(", ")
            )));
        }
    }
    match state.locate(&node_name)? {
        Target::Local => {
            let node = state.node.clone();
            let bytes = blocking(move || node.download(&filename))
                .await?
                .map_err(ApiError::from_data_404)?;
            Ok(octet_stream(Body::from(bytes)))
        }
        Target::Remote(url) => {
            let resp = cluster::peer_download(&state, &node_name, &url, &filename).await?;
            Ok(octet_stream(Body::from_stream(resp.bytes_stream())))
        }
    }
}

/// `DELETE /data/files/{filename}?node` → 204.
async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(ApiNode(api_node)): Extension<ApiNode>,
    Path(filename): Path<String>,
    Query(q): Query<NodeQuery>,
) -> Result<StatusCode, ApiError> {
    check_backup_name(&filename).map_err(ApiError::from_data)?;
    let node_name = q.node.unwrap_or(api_node);
    match state.locate(&node_name)? {
        Target::Local => {
            let node = state.node.clone();
            blocking(move || node.delete(&filename))
                .await?
                .map_err(ApiError::from_data_404)?;
        }
        Target::Remote(url) => cluster::peer_delete(&state, &node_name, &url, &filename).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pages() {
        assert_eq!(pager(&q(&[])).unwrap(), (1, 100));
        assert_eq!(
            pager(&q(&[("page", "3"), ("limit", "10000")])).unwrap(),
            (3, 10000)
        );
        for bad in [
            ("page", "0"),
            ("limit", "0"),
            ("limit", "10001"),
            ("page", "x"),
        ] {
            let e = pager(&q(&[bad])).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.message.as_str()),
                (400, "page_limit_invalid")
            );
        }
    }

    #[test]
    fn sorting() {
        let f = |name: &str, sec| BackupFileInfo {
            filename: name.into(),
            size: 1,
            created_at: String::new(),
            created_at_sec: sec,
            node: "n".into(),
        };
        let mut files = vec![f("a", 1), f("b", 2), f("c", 1)];
        sort_files(&mut files);
        let names: Vec<_> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["b", "c", "a"]);
    }

    #[test]
    fn error_lines() {
        let lines: Vec<String> = [
            "Importing data from \"x\"...",
            "Failed to import the following config path: \"clusterlinks\", reason: x",
            "[error] Failed to import built-in database table: emqx_acl, reason: y",
            "Failed to import the following config path: \"clusterlinks\", reason: x",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            import_errors(&lines),
            [
                "[error] Failed to import built-in database table: emqx_acl, reason: y",
                "Failed to import the following config path: \"clusterlinks\", reason: x"
            ]
        );
    }
}
