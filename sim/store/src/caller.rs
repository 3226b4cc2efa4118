//! Who makes a request: set by the REST API's authentication into the request's extensions,
//! read by handlers that EMQX restricts (sensitive table sets, viewers).

use serde::Serialize;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Caller {
    /// A dashboard user with a bearer token from `POST /login`.
    Dashboard {
        /// The username.
        username: String,
        /// `administrator` or `viewer`.
        role: String,
    },
    /// An API key with HTTP Basic `api_key:api_secret`.
    ApiKey {
        /// The key's name.
        name: String,
        /// `administrator`, `viewer` or `publisher`.
        role: String,
    },
    /// `emqx-sim ctl` on the node's own machine (a token file in the data dir).
    Local,
}

impl Caller {
    /// Whether EMQX restricts this caller from the sensitive table sets (5.x: API keys only).
    pub fn sensitive_restricted(&self) -> bool {
        matches!(self, Caller::ApiKey { .. })
    }

    /// Whether the caller may change state (viewers may only read).
    pub fn can_write(&self) -> bool {
        match self {
            Caller::Dashboard { role, .. } | Caller::ApiKey { role, .. } => role != "viewer",
            Caller::Local => true,
        }
    }
}
