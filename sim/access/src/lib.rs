//! Access control of an `emqx-sim` node, as EMQX 5.x decides it for an MQTT client, from the
//! records and config the node's store holds:
//!
//! * [`banned`]: bans of `emqx_banned` and `emqx_banned_rules` (`clientid`, `username`,
//!   `peerhost`, `clientid_re`, `username_re`, `peerhost_net`), in force while `until` is
//!   later than now;
//! * [`authn`]: the authentication chain of the client's listener (its own `authentication`,
//!   else the global `authentication` root): password_based built-in database users of
//!   `emqx_authn_mnesia` under every hash algorithm `emqx-passwd` knows, SCRAM users checked
//!   offline; the first authenticator with a definite answer wins;
//! * [`authz`]: the sources of the `authorization` root in order (built-in database rules of
//!   `emqx_acl`, the file source's `acl.conf` rules), first match wins, superusers skip them,
//!   `no_match` and `deny_action` from the root.
//!
//! Every decision reads the store afresh (EMQX's authorization cache is not simulated).

pub mod authn;
pub mod authz;
pub mod banned;
mod error;
pub mod net;
pub mod topic;

pub use authn::{authenticate, Authenticated};
pub use authz::{authorize, Action, DenyAction, Permission, Verdict};
pub use banned::{find_ban, Ban};
pub use error::AccessError;

use emqx_sim_store::Tx;
use std::net::IpAddr;

/// What EMQX knows of a client when it connects, publishes and subscribes (`clientinfo()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client id (assigned by the broker when the client sent none).
    pub clientid: String,
    /// The username, when the CONNECT carried one.
    pub username: Option<String>,
    /// The password, when the CONNECT carried one.
    pub password: Option<Vec<u8>>,
    /// The MQTT 5 authentication method (enhanced authentication), when given.
    pub auth_method: Option<String>,
    /// The client's address.
    pub peerhost: IpAddr,
    /// The listener id, `<type>:<name>` (`tcp:default`, `ssl:default`).
    pub listener: String,
    /// The zone of the listener (`default`).
    pub zone: String,
    /// Set by authentication; superusers skip authorization.
    pub is_superuser: bool,
}

impl ClientInfo {
    /// A client of the `default` zone on `listener`, not yet authenticated.
    pub fn new(clientid: impl Into<String>, peerhost: IpAddr, listener: impl Into<String>) -> Self {
        ClientInfo {
            clientid: clientid.into(),
            username: None,
            password: None,
            auth_method: None,
            peerhost: peerhost.to_canonical(),
            listener: listener.into(),
            zone: "default".into(),
            is_superuser: false,
        }
    }
}

/// Why a CONNECT is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A ban is in force (`banned`).
    Banned,
    /// The password does not match (`bad_username_or_password`).
    BadUsernameOrPassword,
    /// No authenticator accepted the client (`not_authorized`).
    NotAuthorized,
}

/// The outcome of a CONNECT's access checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Let in; superusers skip authorization.
    Accepted {
        /// `is_superuser` of the authenticated user.
        is_superuser: bool,
    },
    /// Refused, with the ban when one was found.
    Refused(Refusal, Option<Ban>),
}

/// EMQX's checks of a CONNECT in its order: bans first, then the authentication chain.
pub fn admit(tx: &Tx<'_>, client: &ClientInfo, now: i64) -> Result<Admission, AccessError> {
    if let Some(ban) = find_ban(tx, client, now)? {
        return Ok(Admission::Refused(Refusal::Banned, Some(ban)));
    }
    Ok(match authenticate(tx, client)? {
        Authenticated::Allow { is_superuser } => Admission::Accepted { is_superuser },
        Authenticated::Deny(refusal) => Admission::Refused(refusal, None),
    })
}
