//! Config roots read and replaced whole (`GET/PUT /configs/:root`), listeners
//! (`GET/PUT /listeners/:id`), and PSKs: EMQX has no REST API for PSK entries, so setting
//! `psk_authentication` with `enable = true` and an `init_file` loads that file into
//! `emqx_psk` as `emqx_psk`'s config handler does (rows `{emqx_psk, PskId, Secret, undefined}`).
//!
//! Config values are stored as the API receives them; TLS material and the file authz source's
//! rules stay inline (PEM text, acl.conf text), as the archive carries them.

use crate::common::{
    blocking, check_write, deobfuscate, get_path, json_body, ok, redact, resolve_file, set_path,
    ApiError, MaybeCaller,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use emqx_sim_store::Node;
use erlang_term::Term;
use serde_json::{json, Value};
use std::sync::Arc;

/// The PSK table.
pub const PSK_TABLE: &str = "emqx_psk";
/// The PSK config root.
pub const PSK_ROOT: &str = "psk_authentication";

/// The routes of this domain.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/configs", get(all))
        .route("/configs/{root}", get(read).put(replace))
        .route("/listeners/{id}", get(read_listener).put(update_listener))
}

fn check_root(root: &str) -> Result<(), ApiError> {
    let ok = root
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && root
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "root: {root:?} is not a config root name"
        )))
    }
}

async fn all(State(node): State<Arc<Node>>) -> Response {
    blocking(node, |node| {
        let roots = node.store.read(|tx| tx.config_all())?;
        ok(redact(&Value::Object(roots)))
    })
    .await
}

async fn read(State(node): State<Arc<Node>>, Path(root): Path<String>) -> Response {
    blocking(node, move |node| {
        check_root(&root)?;
        let v = node
            .store
            .read(|tx| tx.config(&root))?
            .ok_or_else(|| ApiError::not_found(format!("Config root {root} not found")))?;
        ok(redact(&v))
    })
    .await
}

async fn replace(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(root): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        check_root(&root)?;
        let new = json_body(&body)?;
        if new.is_null() {
            return Err(ApiError::bad_request(format!(
                "{root}: a value is required"
            )));
        }
        if root == PSK_ROOT {
            check_psk(&new)?;
        }
        let value = node.store.write(|tx| {
            let value = match tx.config(&root)? {
                Some(old) => deobfuscate(&new, &old),
                None => new.clone(),
            };
            tx.set_config(&root, &value)?;
            Ok::<_, ApiError>(value)
        })?;
        if root == PSK_ROOT {
            // EMQX loads the file after the update (a cast); failures are only logged.
            let _ = load_psk_file(node);
        }
        ok(redact(&value))
    })
    .await
}

fn check_psk(v: &Value) -> Result<(), ApiError> {
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::bad_request("psk_authentication: expected an object"))?;
    crate::common::opt_bool(o, "enable")?;
    for k in ["init_file", "separator"] {
        crate::common::opt_str(o, k)?;
    }
    if let Some(c) = o.get("chunk_size") {
        if c.as_u64().filter(|c| *c > 0).is_none() {
            return Err(ApiError::bad_request(format!(
                "chunk_size: expected a positive integer, got {c}"
            )));
        }
    }
    Ok(())
}

/// What loading a PSK file did.
#[derive(Debug, PartialEq, Eq)]
pub enum PskLoad {
    /// PSK is disabled or has no `init_file`.
    Skipped,
    /// Every line was loaded.
    Loaded(usize),
}

/// Loads `psk_authentication.init_file` (lines `Identity<separator>Secret`) into `emqx_psk`
/// as `emqx_psk:import_psks/3`: chunks of `chunk_size` lines, each written in its own
/// transaction, so the chunks before a malformed line stay. The error names the file and line.
pub fn load_psk_file(node: &Node) -> Result<PskLoad, String> {
    let conf = node
        .store
        .read(|tx| tx.config(PSK_ROOT))
        .map_err(|e| e.to_string())?
        .unwrap_or(Value::Null);
    if conf.get("enable") != Some(&json!(true)) {
        return Ok(PskLoad::Skipped);
    }
    let Some(file) = conf.get("init_file").and_then(Value::as_str) else {
        return Ok(PskLoad::Skipped);
    };
    let separator = conf
        .get("separator")
        .and_then(Value::as_str)
        .unwrap_or(":")
        .to_owned();
    let chunk = get_path(&conf, &["chunk_size"])
        .and_then(Value::as_u64)
        .unwrap_or(50)
        .max(1) as usize;
    let path = resolve_file(node, file);
    let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries = parse_psk_lines(&data, separator.as_bytes());
    let mut loaded = 0;
    for (n, batch) in entries.chunks(chunk).enumerate() {
        let good: Vec<&(Vec<u8>, Vec<u8>)> = batch.iter().map_while(|e| e.as_ref().ok()).collect();
        if good.len() < batch.len() {
            let line = n * chunk + good.len() + 1;
            return Err(format!("{}: line {line}: bad_format", path.display()));
        }
        node.store
            .write(|tx| {
                for (id, secret) in &good {
                    tx.put(
                        PSK_TABLE,
                        &Term::tuple(vec![
                            Term::atom(PSK_TABLE),
                            Term::binary(id),
                            Term::binary(secret),
                            Term::atom("undefined"),
                        ]),
                    )?;
                }
                Ok::<_, emqx_sim_store::StoreError>(())
            })
            .map_err(|e| e.to_string())?;
        loaded += good.len();
    }
    Ok(PskLoad::Loaded(loaded))
}

/// One line of a PSK file: `(identity, secret)`, or `Err(())` when it has no separator.
pub type PskLine = Result<(Vec<u8>, Vec<u8>), ()>;

/// The lines of a PSK file: `Ok((identity, secret))` split at the first separator with the
/// secret's line end trimmed, or `Err(())` for a line without separator.
pub fn parse_psk_lines(data: &[u8], separator: &[u8]) -> Vec<PskLine> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        let at = (!separator.is_empty())
            .then(|| line.windows(separator.len()).position(|w| w == separator))
            .flatten();
        out.push(match at {
            Some(i) => {
                let id = line[..i].to_vec();
                let mut secret = &line[i + separator.len()..];
                if let Some(s) = secret.strip_suffix(b"\n") {
                    secret = s.strip_suffix(b"\r").unwrap_or(s);
                }
                Ok((id, secret.to_vec()))
            }
            None => Err(()),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Listeners

fn listener_id(id: &str) -> Result<(String, String), ApiError> {
    match id.split_once(':') {
        Some((ty, name)) if !ty.is_empty() && !name.is_empty() => {
            Ok((ty.to_owned(), name.to_owned()))
        }
        _ => Err(ApiError::bad_request(format!(
            "Invalid listener id {id:?}: expected type:name"
        ))),
    }
}

fn listener_json(id: &str, ty: &str, name: &str, conf: &Value) -> Value {
    let mut v = redact(conf);
    if !v.is_object() {
        v = json!({});
    }
    v["id"] = json!(id);
    v["type"] = json!(ty);
    v["name"] = json!(name);
    v
}

async fn read_listener(State(node): State<Arc<Node>>, Path(id): Path<String>) -> Response {
    blocking(node, move |node| {
        let (ty, name) = listener_id(&id)?;
        let root = node.store.read(|tx| tx.config("listeners"))?;
        let conf = root
            .as_ref()
            .and_then(|r| get_path(r, &[&ty, &name]))
            .ok_or_else(|| ApiError::not_found("Listener id not found"))?;
        ok(listener_json(&id, &ty, &name, conf))
    })
    .await
}

async fn update_listener(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let (ty, name) = listener_id(&id)?;
        let mut new = crate::common::object_body(&body)?;
        for k in [
            "id",
            "type",
            "name",
            "running",
            "current_connections",
            "node_status",
        ] {
            new.remove(k);
        }
        let conf = node.store.write(|tx| {
            let mut root = tx
                .config("listeners")?
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            let old = get_path(&root, &[&ty, &name])
                .cloned()
                .ok_or_else(|| ApiError::not_found("Listener id not found"))?;
            let conf = deobfuscate(&Value::Object(new.clone()), &old);
            set_path(&mut root, &[&ty, &name], conf.clone());
            tx.set_config("listeners", &root)?;
            Ok::<_, ApiError>(conf)
        })?;
        ok(listener_json(&id, &ty, &name, &conf))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psk_lines() {
        let got = parse_psk_lines(b"id1:s1\r\nid2:a:b\nbad\nid3:s3", b":");
        assert_eq!(got[0], Ok((b"id1".to_vec(), b"s1".to_vec())));
        assert_eq!(got[1], Ok((b"id2".to_vec(), b"a:b".to_vec())));
        assert_eq!(got[2], Err(()));
        assert_eq!(got[3], Ok((b"id3".to_vec(), b"s3".to_vec())));
        assert_eq!(
            parse_psk_lines(b"a;;b\n", b";;"),
            vec![Ok((b"a".to_vec(), b"b".to_vec()))]
        );
    }
}
