//! The MQTT listener of an `emqx-sim` node: MQTT 3.1.1 and 5 over TCP (listener `tcp:default`)
//! and TLS (listener `ssl:default`), enforcing what the node's store holds as EMQX does
//! (`emqx-sim-access`): bans and the authentication chain at CONNECT, authorization of every
//! PUBLISH and SUBSCRIBE.
//!
//! A minimal broker on the packet codecs of `rumqttc`: CONNECT/CONNACK, PUBLISH QoS 0, 1 and 2,
//! SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK, PINGREQ, DISCONNECT, and routing to every matching
//! subscription (`+`, `#`, shared subscriptions delivered to every member). Embedded brokers
//! (`rumqttd`) authenticate with a client id, username and password only and authorize
//! nothing, which cannot carry EMQX's bans by peer address, reason codes or per-publish and
//! per-subscribe authorization.
//!
//! The TLS listener builds its rustls config from `listeners.ssl.default.ssl_options` at each
//! connection, so certificates restored by an import are served without a restart.

pub mod broker;
pub mod codec;
mod connection;
pub mod error;
pub mod tls;

pub use error::ConnError;

use connection::Shared;
use emqx_sim_store::Node;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long a TLS handshake may take (EMQX's `ssl_options.handshake_timeout`, 15 s).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// The transport of a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP, listener `tcp:default`.
    Tcp,
    /// TLS, listener `ssl:default`.
    Tls,
}

impl Transport {
    /// EMQX's listener id.
    pub fn listener_id(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp:default",
            Transport::Tls => "ssl:default",
        }
    }
}

/// The broker of one node; clones share its clients, so a TCP and a TLS listener route to
/// each other.
#[derive(Clone)]
pub struct Mqtt {
    shared: Arc<Shared>,
}

impl Mqtt {
    /// A broker enforcing the access data of `node`.
    pub fn new(node: Arc<Node>) -> Mqtt {
        Mqtt {
            shared: Arc::new(Shared {
                node,
                registry: broker::Registry::default(),
                assigned: AtomicU64::new(0),
            }),
        }
    }

    /// Accepts connections on `listener` until the future is dropped, which also ends every
    /// connection it accepted. Connection failures are logged to stderr.
    pub async fn serve(self, listener: TcpListener, transport: Transport) {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let shared = self.shared.clone();
                        connections.spawn(connection_task(shared, stream, peer, transport));
                    }
                    Err(e) => {
                        eprintln!("emqx-sim: mqtt {}: accept: {e}", transport.listener_id());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

async fn connection_task(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
) {
    let listener = transport.listener_id();
    let _ = stream.set_nodelay(true);
    let result = match transport {
        Transport::Tcp => connection::run(shared, stream, peer, listener.to_owned()).await,
        Transport::Tls => tls_connection(shared, stream, peer).await,
    };
    match result {
        Err(ConnError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => eprintln!("emqx-sim: mqtt {listener}: client {peer}: {e}"),
        Ok(()) => {}
    }
}

async fn tls_connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
) -> Result<(), ConnError> {
    let listener = Transport::Tls.listener_id();
    let node = shared.node.clone();
    let config = tokio::task::spawn_blocking(move || {
        node.store
            .read(|tx| Ok(tls::server_config(tx, listener)))
            .map_err(tls::TlsError::from)
            .and_then(|r| r)
    })
    .await??;
    let tls = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        tokio_rustls::TlsAcceptor::from(config).accept(stream),
    )
    .await
    .map_err(|_| ConnError::Timeout("TLS handshake"))?
    .map_err(ConnError::Handshake)?;
    connection::run(shared, tls, peer, listener.to_owned()).await
}
