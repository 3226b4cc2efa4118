//! `GET /api/v5/nodes[/{node}]` and the status endpoints.

use crate::cluster::peer_request;
use crate::error::ApiError;
use crate::role_name;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use emqx_archive::Edition;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Routes below `/api/v5` (behind authentication).
pub(crate) fn api_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/nodes", get(nodes))
        .route("/nodes/{node}", get(one_node))
        .route("/status", get(status))
}

/// `GET /status`: EMQX's health check, open to all.
pub(crate) fn public_routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/status", get(status))
        .with_state(state)
}

/// This node as `GET /nodes` lists it.
pub(crate) fn node_info(state: &AppState) -> Value {
    let info = &state.node.info;
    json!({
        "node": info.name,
        "node_status": "running",
        "role": role_name(info.role),
        "edition": match info.edition {
            Edition::Ce => "Opensource",
            Edition::Ee => "Enterprise",
        },
        "version": info.version,
        "uptime": state.started.elapsed().as_millis() as u64,
        "connections": 0,
        "live_connections": 0,
        "cluster_sessions": 0,
    })
}

/// This node and every member (asked in parallel; a member that does not answer is
/// `stopped`).
async fn all_nodes(state: &Arc<AppState>) -> Vec<Value> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (name, member)) in state.members().into_iter().enumerate() {
        let state = state.clone();
        tasks.spawn(async move {
            let url = format!("{}/internal/cluster/info", member.url);
            let answer = peer_request(&state, Method::GET, &url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            let info = match answer {
                Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
                _ => None,
            };
            let info = info.unwrap_or_else(
                || json!({"node": name, "node_status": "stopped", "role": role_name(member.role)}),
            );
            (i, info)
        });
    }
    let mut others: Vec<(usize, Value)> = tasks.join_all().await;
    others.sort_by_key(|(i, _)| *i);
    std::iter::once(node_info(state))
        .chain(others.into_iter().map(|(_, v)| v))
        .collect()
}

async fn nodes(State(state): State<Arc<AppState>>) -> Json<Vec<Value>> {
    Json(all_nodes(&state).await)
}

async fn one_node(
    State(state): State<Arc<AppState>>,
    Path(node): Path<String>,
) -> Result<Json<Value>, ApiError> {
    all_nodes(&state)
        .await
        .into_iter()
        .find(|n| n["node"] == node.as_str())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Node not found"))
}

/// EMQX's `emqx_mgmt_api_status`: text by default, JSON with `?format=json`.
async fn status(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let info = &state.node.info;
    if q.get("format").map(String::as_str) == Some("json") {
        Json(json!({
            "node_name": info.name,
            "rel_vsn": info.version,
            "broker_status": "started",
            "app_status": "running",
        }))
        .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/plain")],
            format!("Node {} is started\nemqx is running", info.name),
        )
            .into_response()
    }
}
