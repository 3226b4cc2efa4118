//! What can go wrong talking to a node, sorted the way an operator acts on it.

use reqwest::blocking::Response;
use serde_json::Value;
use std::path::PathBuf;

/// An error of a REST call; every variant names the URL (or file) concerned.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached: connection refused, no route, DNS, TLS, a broken stream.
    #[error("{url}: cannot reach the node: {message}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What failed.
        message: String,
    },
    /// No answer in time.
    #[error("{url}: no answer in time ({message})")]
    Timeout {
        /// The URL asked.
        url: String,
        /// What timed out.
        message: String,
    },
    /// 401: bad credentials (or none).
    #[error("{url}: 401 {code}: {message} (check the API key and secret, or the user name and password)")]
    BadCredentials {
        /// The URL asked.
        url: String,
        /// EMQX's code.
        code: String,
        /// EMQX's message.
        message: String,
    },
    /// 403: the credentials lack the rights.
    #[error("{url}: 403 {code}: {message}")]
    Forbidden {
        /// The URL asked.
        url: String,
        /// EMQX's code.
        code: String,
        /// EMQX's message.
        message: String,
    },
    /// 404 of something that should exist (a backup file).
    #[error("{url}: 404 {code}: {message}")]
    NotFound {
        /// The URL asked.
        url: String,
        /// EMQX's code.
        code: String,
        /// EMQX's message.
        message: String,
    },
    /// The node has no data backup API (EMQX before 5.x answers 404 on `/data/*`).
    #[error("{url}: the node has no data backup API (404); EMQX 5.1 or newer is needed")]
    NoDataApi {
        /// The URL asked.
        url: String,
    },
    /// Another 4xx: EMQX refused the request, with its code and message.
    #[error("{url}: {status} {code}: {message}")]
    Refused {
        /// The URL asked.
        url: String,
        /// HTTP status.
        status: u16,
        /// EMQX's code.
        code: String,
        /// EMQX's message.
        message: String,
    },
    /// 5xx: the node failed.
    #[error("{url}: the node failed: {status} {code}: {message}")]
    Server {
        /// The URL asked.
        url: String,
        /// HTTP status.
        status: u16,
        /// EMQX's code.
        code: String,
        /// EMQX's message.
        message: String,
    },
    /// An answer this client does not understand.
    #[error("{url}: {message}")]
    Protocol {
        /// The URL asked.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The fault.
        message: String,
    },
    /// Bad settings (URL, CA file).
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// Sorts a transport error.
    pub(crate) fn from_reqwest(url: &str, e: reqwest::Error) -> ClientError {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        if e.is_timeout() {
            ClientError::Timeout {
                url: url.to_owned(),
                message,
            }
        } else {
            ClientError::Unreachable {
                url: url.to_owned(),
                message,
            }
        }
    }

    /// Sorts a non-2xx answer, keeping EMQX's `{code, message}`.
    pub(crate) fn from_response(url: &str, resp: Response) -> ClientError {
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        let (code, message) = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(o)) => (
                o.get("code")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                match o.get("message") {
                    Some(Value::String(s)) => s.clone(),
                    // 6.x sends import errors as an object keyed by namespace.
                    Some(other) => other.to_string(),
                    None => text.clone(),
                },
            ),
            _ => (String::new(), text.trim().to_owned()),
        };
        let url = url.to_owned();
        match status {
            401 => ClientError::BadCredentials { url, code, message },
            403 => ClientError::Forbidden { url, code, message },
            404 => ClientError::NotFound { url, code, message },
            400..=499 => ClientError::Refused {
                url,
                status,
                code,
                message,
            },
            _ => ClientError::Server {
                url,
                status,
                code,
                message,
            },
        }
    }

    /// A 404 from an endpoint every 5.x node has means the node lacks the data API.
    pub(crate) fn data_api(self) -> ClientError {
        match self {
            ClientError::NotFound { url, .. } => ClientError::NoDataApi { url },
            other => other,
        }
    }

    /// EMQX's message, when the node answered with one.
    pub fn emqx_message(&self) -> Option<&str> {
        match self {
            ClientError::BadCredentials { message, .. }
            | ClientError::Forbidden { message, .. }
            | ClientError::NotFound { message, .. }
            | ClientError::Refused { message, .. }
            | ClientError::Server { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The node could not be reached at all.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. } | ClientError::Timeout { .. }
        )
    }

    /// The node did not accept the credentials (401) or their rights (403).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ClientError::BadCredentials { .. } | ClientError::Forbidden { .. }
        )
    }
}
