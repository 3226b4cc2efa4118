//! EMQX's error responses: `{"code": "...", "message": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use emqx_sim_store::DataError;
use serde_json::json;

/// An error answered as EMQX does.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `WWW-Authenticate: Basic Realm="emqx-dashboard"` (EMQX's `return_unauthorized`).
    pub challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            challenge: false,
        }
    }

    /// 400 `BAD_REQUEST`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    /// 500 `INTERNAL_ERROR`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }

    /// 401 with EMQX's Basic challenge header.
    pub fn unauthorized(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, code, message)
        }
    }

    /// EMQX's `response({error, Reason})`: 400 with the formatted reason; a failure of the
    /// node itself is a 500.
    pub fn from_data(e: DataError) -> ApiError {
        match e {
            DataError::Internal(_) => ApiError::internal(e.to_string()),
            other => ApiError::bad_request(other.to_string()),
        }
    }

    /// As [`ApiError::from_data`], but `not_found` is a 404 (download and delete).
    pub fn from_data_404(e: DataError) -> ApiError {
        match e {
            DataError::NotFound => ApiError::not_found(e.to_string()),
            other => ApiError::from_data(other),
        }
    }

    /// A node that did not answer.
    pub fn unreachable(node: &str, e: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            format!("node {node} did not answer: {e}"),
        )
    }

    /// Rebuilds the error another node answered (status and `{code, message}` body).
    pub async fn from_peer(node: &str, resp: reqwest::Response) -> ApiError {
        let status = StatusCode::from_u16(resp.status().as_u16())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let challenge = resp.headers().contains_key(header::WWW_AUTHENTICATE);
        let text = resp.text().await.unwrap_or_default();
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if v.get("code").is_some() => ApiError {
                status,
                code: v["code"].as_str().unwrap_or("INTERNAL_ERROR").to_owned(),
                message: match &v["message"] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                challenge,
            },
            _ => ApiError::new(
                status,
                "INTERNAL_ERROR",
                format!("node {node} answered {status}: {text}"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response();
        if self.challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic Realm=\"emqx-dashboard\""),
            );
        }
        resp
    }
}

/// EMQX's answer to a path it does not serve.
pub(crate) async fn not_found_fallback() -> ApiError {
    ApiError::not_found("Request Path Not Found")
}
