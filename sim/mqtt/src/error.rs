//! Why a connection ended abnormally (logged with the listener and peer it concerns).

use crate::codec::CodecError;
use crate::tls::TlsError;
use emqx_sim_access::AccessError;

/// A connection failure.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// A packet did not decode or encode.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// An access check could not be made.
    #[error("access check: {0}")]
    Access(#[from] AccessError),
    /// The listener has no usable TLS config.
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
    /// The TLS handshake failed.
    #[error("tls handshake: {0}")]
    Handshake(std::io::Error),
    /// The client broke the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The client sent nothing in time.
    #[error("timeout: {0}")]
    Timeout(&'static str),
    /// A blocking store task died.
    #[error("store task: {0}")]
    Task(#[from] tokio::task::JoinError),
}
