//! A replicant's `/api/v5`: its own backup files, its exports and its status are served
//! here (credentials checked by the core); every other request goes to the core with the same
//! method, path, query, headers and body, naming this node as the API node.

use crate::auth::{api_path, ApiNode};
use crate::cluster::{check_at_core, API_NODE_HEADER, COOKIE_HEADER, MAX_ARCHIVE};
use crate::error::{not_found_fallback, ApiError};
use crate::state::AppState;
use crate::{data, nodes};
use axum::body::Body;
use axum::extract::{OriginalUri, Query, Request, State};
use axum::http::{header, HeaderName, Method};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn replicant_api(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(data::routes())
        .merge(nodes::api_routes())
        .fallback(not_found_fallback)
        .with_state(state.clone())
        .layer(from_fn_with_state(state, gate))
}

#[derive(Deserialize)]
struct NodeQuery {
    node: Option<String>,
}

/// Whether a replicant answers `method path` itself: its exports, uploads, its own files and
/// its status.
fn is_local(method: &Method, path: &str, node_param: Option<&str>, self_name: &str) -> bool {
    match *method {
        Method::POST => path == "/data/export" || path == "/data/files",
        Method::GET | Method::DELETE => {
            if method == Method::GET && path == "/status" {
                return true;
            }
            match path.strip_prefix("/data/files/") {
                Some(name) if !name.is_empty() && !name.contains('/') => {
                    node_param.is_none_or(|n| n == self_name)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

async fn gate(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let path = api_path(&req);
    let node_param = Query::<NodeQuery>::try_from_uri(req.uri())
        .ok()
        .and_then(|q| q.0.node);
    if !is_local(
        req.method(),
        &path,
        node_param.as_deref(),
        &state.cluster.name,
    ) {
        return proxy(&state, req)
            .await
            .unwrap_or_else(IntoResponse::into_response);
    }
    let auth = req.headers().get(header::AUTHORIZATION).cloned();
    match check_at_core(&state, auth.as_ref(), req.method(), &path).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            req.extensions_mut()
                .insert(ApiNode(state.cluster.name.clone()));
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// Hop-by-hop headers, and the headers the proxy sets itself.
fn skipped(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
            | COOKIE_HEADER
            | API_NODE_HEADER
    )
}

/// Sends the request on to the core and its answer back.
async fn proxy(state: &AppState, req: Request) -> Result<Response, ApiError> {
    let core = state.core_url()?;
    let target = req
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| req.uri().clone());
    let pq = target
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_ARCHIVE)
        .await
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    let mut out = state
        .http
        .request(parts.method, format!("{core}{pq}"))
        .header(COOKIE_HEADER, &state.cluster.cookie)
        .header(API_NODE_HEADER, &state.cluster.name)
        .body(body);
    for (name, value) in &parts.headers {
        if !skipped(name) {
            out = out.header(name, value);
        }
    }
    let resp = out
        .send()
        .await
        .map_err(|e| ApiError::unreachable("core", e))?;
    let mut answer = Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if !skipped(name) || name == header::CONTENT_LENGTH {
            answer = answer.header(name, value);
        }
    }
    answer
        .body(Body::from_stream(resp.bytes_stream()))
        .map_err(|e| ApiError::internal(format!("proxy answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_or_core() {
        let me = "r1@127.0.0.1";
        assert!(is_local(&Method::POST, "/data/export", None, me));
        assert!(is_local(&Method::POST, "/data/files", None, me));
        assert!(is_local(&Method::GET, "/data/files/x.tar.gz", None, me));
        assert!(is_local(
            &Method::DELETE,
            "/data/files/x.tar.gz",
            Some(me),
            me
        ));
        assert!(!is_local(
            &Method::GET,
            "/data/files/x.tar.gz",
            Some("emqx@127.0.0.1"),
            me
        ));
        assert!(!is_local(&Method::GET, "/data/files", None, me));
        assert!(!is_local(&Method::POST, "/data/import", None, me));
        assert!(!is_local(&Method::POST, "/login", None, me));
        assert!(!is_local(&Method::GET, "/nodes", None, me));
        assert!(is_local(&Method::GET, "/status", None, me));
    }
}
