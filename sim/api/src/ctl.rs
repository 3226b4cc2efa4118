//! The endpoints of `emqx-sim ctl` (`/internal/ctl/data/{export,import}`), open to the holder
//! of the token the node writes into `<data_dir>/.ctl-token` at start; they answer EMQX's CLI
//! lines (spec §6.3).

use crate::cluster::export_at_core;
use crate::data::{import_errors, save_archive, ExportBody};
use crate::error::ApiError;
use crate::state::{blocking, AppState};
use crate::ServeError;
use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use emqx_sim_store::{Caller, DataError, ExportOptions, Role};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The header carrying the ctl token.
pub const CTL_HEADER: &str = "x-emqx-sim-ctl";
/// The file in the data dir holding the ctl token (mode 0600).
pub const CTL_TOKEN_FILE: &str = ".ctl-token";

/// `POST /internal/ctl/data/export`: `emqx ctl data export` options.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CtlExportRequest {
    /// `--root-keys` (all when empty).
    #[serde(default)]
    pub root_keys: Vec<String>,
    /// `--table-sets` (all when empty).
    #[serde(default)]
    pub table_sets: Vec<String>,
    /// `--dir` (the backup dir when absent).
    #[serde(default)]
    pub dir: Option<String>,
}

/// `POST /internal/ctl/data/import`: `emqx ctl data import <file>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CtlImportRequest {
    /// A path, else a name in the backup dir.
    pub file: String,
    /// Append what the import changed, per domain (beyond EMQX's lines).
    #[serde(default)]
    pub report: bool,
}

/// What a ctl command printed, and whether it succeeded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CtlReply {
    /// Whether the command did all it was asked (an import with errors is not ok).
    pub ok: bool,
    /// The lines EMQX's CLI prints.
    pub lines: Vec<String>,
}

pub(crate) fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/internal/ctl/data/export", post(export))
        .route("/internal/ctl/data/import", post(import))
        .route_layer(from_fn_with_state(state.clone(), require_ctl))
        .with_state(state)
}

/// Writes a fresh random token into `<data_dir>/.ctl-token`, readable by the owner only.
pub(crate) fn write_ctl_token(data_dir: &Path) -> Result<String, ServeError> {
    use std::io::Write;
    let path = data_dir.join(CTL_TOKEN_FILE);
    let io = |source| ServeError::Io {
        path: path.clone(),
        source,
    };
    let token = hex::encode(rand::random::<[u8; 32]>());
    let _ = std::fs::remove_file(&path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(io)?;
    file.write_all(token.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(token)
}

/// Removes the token file at shutdown.
pub(crate) fn remove_ctl_token(data_dir: &Path) {
    let _ = std::fs::remove_file(data_dir.join(CTL_TOKEN_FILE));
}

async fn require_ctl(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(CTL_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let want = state.ctl_token.as_bytes();
    let same = given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return ApiError::unauthorized(
            "BAD_CTL_TOKEN",
            format!("ctl needs the token of {CTL_TOKEN_FILE} in the node's data dir"),
        )
        .into_response();
    }
    req.extensions_mut().insert(Caller::Local);
    next.run(req).await
}

/// A string as Erlang's `~p` prints it.
pub(crate) fn erl_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn export_failed(reason: &str) -> String {
    format!("[error] Data export failed, reason: {}.", erl_quote(reason))
}

fn import_failed(reason: &str) -> String {
    format!("[error] Data import failed, reason: {}.", erl_quote(reason))
}

/// Appends the closing line of a successful export unless the node printed it.
fn finish_export(lines: &mut Vec<String>, path: &Path) {
    if !lines
        .iter()
        .any(|l| l.starts_with("Data has been successfully exported to"))
    {
        lines.push(format!(
            "Data has been successfully exported to {}.",
            path.display()
        ));
    }
}

async fn export(
    State(state): State<Arc<AppState>>,
    Json(req): Json<CtlExportRequest>,
) -> Result<Json<CtlReply>, ApiError> {
    let reply = if state.node.info.role == Role::Core {
        let node = state.node.clone();
        blocking(move || {
            let options = ExportOptions {
                table_sets: req.table_sets,
                root_keys: req.root_keys,
                dir: req.dir.map(PathBuf::from),
                without_sensitive: false,
            };
            let mut lines = Vec::new();
            let result = node.export(&options, &mut |l: &str| lines.push(l.to_owned()));
            match result {
                Ok(path) => {
                    finish_export(&mut lines, &path);
                    CtlReply { ok: true, lines }
                }
                Err(e @ (DataError::InvalidRootKeys(_) | DataError::InvalidTableSets(_))) => {
                    lines.push(e.to_string());
                    CtlReply { ok: false, lines }
                }
                Err(e) => {
                    if !lines
                        .last()
                        .is_some_and(|l| l.starts_with("[error] Data export failed"))
                    {
                        lines.push(export_failed(&e.to_string()));
                    }
                    CtlReply { ok: false, lines }
                }
            }
        })
        .await?
    } else {
        replicant_export(&state, req).await
    };
    Ok(Json(reply))
}

/// A replicant's `ctl data export`: the core builds the archive, the replicant stores it.
async fn replicant_export(state: &Arc<AppState>, req: CtlExportRequest) -> CtlReply {
    let nonempty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let body = ExportBody {
        table_sets: nonempty(req.table_sets),
        root_keys: nonempty(req.root_keys),
        without_sensitive: false,
    };
    let (bytes, meta) = match export_at_core(state, &body).await {
        Ok(x) => x,
        Err(e) if e.status.as_u16() == 400 => {
            return CtlReply {
                ok: false,
                lines: vec![e.message],
            }
        }
        Err(e) => {
            let reason = e
                .message
                .strip_prefix("Error processing export: ")
                .unwrap_or(&e.message)
                .to_owned();
            return CtlReply {
                ok: false,
                lines: vec![export_failed(&reason)],
            };
        }
    };
    let node = state.node.clone();
    let dir = req
        .dir
        .map(PathBuf::from)
        .unwrap_or_else(|| node.backup_dir());
    let saved =
        blocking(move || save_archive(&dir, &meta.filename, &bytes).map(|p| (p, meta))).await;
    match saved.and_then(|r| r) {
        Ok((path, meta)) => {
            let own = path.display().to_string();
            let own_dir = state.node.info.data_dir.display().to_string();
            let mut lines: Vec<String> = meta
                .lines
                .iter()
                .map(|l| {
                    l.replace(&meta.path, &own)
                        .replace(&meta.data_dir, &own_dir)
                })
                .collect();
            finish_export(&mut lines, &path);
            CtlReply { ok: true, lines }
        }
        Err(e) => CtlReply {
            ok: false,
            lines: vec![export_failed(&e.message)],
        },
    }
}

async fn import(
    State(state): State<Arc<AppState>>,
    Json(req): Json<CtlImportRequest>,
) -> Result<Json<CtlReply>, ApiError> {
    if state.node.info.role != Role::Core {
        let e = DataError::NotCoreNode(state.cluster.name.clone());
        return Ok(Json(CtlReply {
            ok: false,
            lines: vec![import_failed(&e.to_string())],
        }));
    }
    let node = state.node.clone();
    let reply = blocking(move || {
        let mut lines = Vec::new();
        let result = node
            .resolve_import_path(&req.file)
            .and_then(|path| node.import(&path, &mut |l: &str| lines.push(l.to_owned())));
        match result {
            Ok(report) => {
                if lines.is_empty() {
                    lines = report.lines;
                }
                let ok = import_errors(&lines).is_empty();
                let last = if ok {
                    "Data has been imported successfully."
                } else {
                    "Data has been imported, but some errors occurred, see the log above."
                };
                if lines.last().map(String::as_str) != Some(last) {
                    lines.push(last.to_owned());
                }
                if req.report {
                    lines.extend(report_lines(&report.plans));
                }
                CtlReply { ok, lines }
            }
            Err(e) => {
                if !lines
                    .last()
                    .is_some_and(|l| l.starts_with("[error] Data import failed"))
                {
                    lines.push(import_failed(&e.to_string()));
                }
                CtlReply { ok: false, lines }
            }
        }
    })
    .await?;
    Ok(Json(reply))
}

/// What an import changed, a line per domain and per changed key: the report EMQX does not
/// give (all domains were committed in one transaction).
fn report_lines(plans: &[emqx_backup_plugin_sdk::Plan]) -> Vec<String> {
    let mut out = vec!["Committed in one transaction:".to_owned()];
    for plan in plans {
        let (inserted, updated, unchanged) = plan.totals();
        if inserted + updated + unchanged == 0 {
            continue;
        }
        out.push(format!(
            "  {}: {inserted} inserted, {updated} updated, {unchanged} unchanged",
            plan.domain
        ));
        for scope in &plan.scopes {
            out.extend(
                scope
                    .insert
                    .iter()
                    .map(|k| format!("    + {} {k}", scope.name)),
            );
            out.extend(
                scope
                    .update
                    .iter()
                    .map(|k| format!("    ~ {} {k}", scope.name)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_as_erlang() {
        assert_eq!(erl_quote("a \"b\"\n"), r#""a \"b\"\n""#);
        assert_eq!(
            import_failed("backup file not found"),
            "[error] Data import failed, reason: \"backup file not found\"."
        );
    }

    #[test]
    fn token_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let t1 = write_ctl_token(dir.path()).unwrap();
        let t2 = write_ctl_token(dir.path()).unwrap();
        assert_ne!(t1, t2);
        let path = dir.path().join(CTL_TOKEN_FILE);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), t2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
