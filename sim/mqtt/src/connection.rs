//! One client connection, as EMQX's channel handles it: CONNECT (bans, then authentication),
//! then PUBLISH (authorized, routed, acknowledged), SUBSCRIBE (each filter authorized),
//! UNSUBSCRIBE, PINGREQ and DISCONNECT, and the messages routed to its subscriptions.
//!
//! A denied publish is dropped: QoS 1 and 2 are acknowledged with reason 0x87 (MQTT 5; the
//! 3.1.1 acknowledgement has no reason), QoS 0 silently. A denied filter gets 0x80 (MQTT 5:
//! 0x87) in the SUBACK. With `authorization.deny_action = disconnect` either closes the
//! connection instead (after a DISCONNECT 0x87 to MQTT 5 clients). Sessions end with their
//! connection (no persistent sessions, retained messages, wills or redelivery).

use crate::broker::{real_filter, Deliver, Registry};
use crate::codec::{
    self, AckReason, ConnAckCode, Connect, DisconnectReason, Hello, Inbound, Outbound, SubResult,
    Version,
};
use crate::error::ConnError;
use bytes::{Bytes, BytesMut};
use emqx_sim_access::{
    admit, authorize, topic, Action, Admission, ClientInfo, DenyAction, Permission, Refusal,
};
use emqx_sim_store::Node;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long a client has to send CONNECT (EMQX's `mqtt.idle_timeout`, 15 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What every connection shares.
pub struct Shared {
    /// The node whose store holds the access data.
    pub node: Arc<Node>,
    /// The connected clients.
    pub registry: Registry,
    /// Numbers for client ids the broker assigns.
    pub assigned: AtomicU64,
}

/// The writing side of a connection.
struct Writer<S> {
    wr: WriteHalf<S>,
    version: Version,
    buf: BytesMut,
}

impl<S: AsyncWrite> Writer<S> {
    async fn send(&mut self, packet: Outbound) -> Result<(), ConnError> {
        self.buf.clear();
        codec::write(self.version, packet, &mut self.buf)?;
        if !self.buf.is_empty() {
            self.wr.write_all(&self.buf).await?;
            self.wr.flush().await?;
        }
        Ok(())
    }
}

/// Reads more bytes; an error at end of stream. Cancel-safe: the only await is `read_buf`.
async fn fill<S: AsyncRead>(rd: &mut ReadHalf<S>, buf: &mut BytesMut) -> Result<(), ConnError> {
    if rd.read_buf(buf).await? == 0 {
        return Err(ConnError::Io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(())
}

async fn next_packet<S: AsyncRead>(
    rd: &mut ReadHalf<S>,
    buf: &mut BytesMut,
    version: Version,
) -> Result<Inbound, ConnError> {
    loop {
        if let Some(p) = codec::read(version, buf)? {
            return Ok(p);
        }
        fill(rd, buf).await?;
    }
}

/// Runs a blocking store read on the blocking pool.
async fn blocking<T: Send + 'static>(
    node: &Arc<Node>,
    f: impl FnOnce(&Node) -> T + Send + 'static,
) -> Result<T, ConnError> {
    let node = node.clone();
    Ok(tokio::task::spawn_blocking(move || f(&node)).await?)
}

/// Serves one connection until it ends; the error says why it ended abnormally.
pub async fn run<S: AsyncRead + AsyncWrite + Send + 'static>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    listener: String,
) -> Result<(), ConnError> {
    let (mut rd, wr) = tokio::io::split(stream);
    let mut buf = BytesMut::with_capacity(4096);
    let hello = tokio::time::timeout(CONNECT_TIMEOUT, async {
        loop {
            if let Some(h) = codec::read_hello(&mut buf)? {
                return Ok::<_, ConnError>(h);
            }
            fill(&mut rd, &mut buf).await?;
        }
    })
    .await
    .map_err(|_| ConnError::Timeout("no CONNECT"))??;
    let connect = match hello {
        Hello::Connect(c) => c,
        Hello::UnsupportedLevel(level) => {
            let mut out = BytesMut::new();
            codec::write_unsupported_level(&mut out)?;
            let mut wr = wr;
            wr.write_all(&out).await?;
            wr.flush().await?;
            return Err(ConnError::Protocol(format!(
                "protocol level {level} is not 4 (MQTT 3.1.1) or 5"
            )));
        }
    };
    let mut w = Writer {
        wr,
        version: connect.version,
        buf: BytesMut::new(),
    };
    let Some(client) = accept(&shared, &connect, peer, &listener, &mut w).await? else {
        return Ok(());
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let conn = shared.registry.register(&client.clientid, tx);
    let result = session(
        &shared,
        &client,
        conn,
        connect.keep_alive,
        &mut rd,
        &mut buf,
        &mut w,
        rx,
    )
    .await;
    shared.registry.unregister(&client.clientid, conn);
    let _ = w.wr.shutdown().await;
    result
}

/// Answers the CONNECT; the client when it is let in.
async fn accept<S: AsyncWrite>(
    shared: &Arc<Shared>,
    connect: &Connect,
    peer: SocketAddr,
    listener: &str,
    w: &mut Writer<S>,
) -> Result<Option<ClientInfo>, ConnError> {
    let mut assigned = None;
    let clientid = if connect.clientid.is_empty() {
        if connect.version == Version::V311 && !connect.clean {
            w.send(Outbound::ConnAck(ConnAckCode::ClientIdNotValid, None))
                .await?;
            return Ok(None);
        }
        let n = shared.assigned.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("emqx-sim-{}-{n}", std::process::id());
        assigned = Some(id.clone());
        id
    } else {
        connect.clientid.clone()
    };
    let mut client = ClientInfo::new(clientid, peer.ip(), listener);
    client.username = connect.username.clone();
    client.password = connect.password.clone();
    client.auth_method = connect.auth_method.clone();
    let now = chrono::Utc::now().timestamp();
    let checked = client.clone();
    let admission = blocking(&shared.node, move |node| {
        node.store.read(|tx| Ok(admit(tx, &checked, now)))
    })
    .await?;
    let admission = match admission.map_err(emqx_sim_access::AccessError::from) {
        Ok(Ok(a)) => a,
        Ok(Err(e)) | Err(e) => {
            w.send(Outbound::ConnAck(ConnAckCode::ServerError, None))
                .await?;
            return Err(e.into());
        }
    };
    match admission {
        Admission::Accepted { is_superuser } => {
            client.is_superuser = is_superuser;
            client.password = None;
            w.send(Outbound::ConnAck(ConnAckCode::Success, assigned))
                .await?;
            Ok(Some(client))
        }
        Admission::Refused(refusal, _) => {
            let code = match refusal {
                Refusal::Banned => ConnAckCode::Banned,
                Refusal::BadUsernameOrPassword => ConnAckCode::BadUsernameOrPassword,
                Refusal::NotAuthorized => ConnAckCode::NotAuthorized,
            };
            w.send(Outbound::ConnAck(code, None)).await?;
            Ok(None)
        }
    }
}

/// The decision on `action`; a failed check denies (and is logged).
async fn decide(
    shared: &Arc<Shared>,
    client: &ClientInfo,
    action: Action,
    topic: &str,
) -> (bool, DenyAction) {
    let (c, t) = (client.clone(), topic.to_owned());
    let verdict = blocking(&shared.node, move |node| {
        node.store.read(|tx| Ok(authorize(tx, &c, action, &t)))
    })
    .await;
    let verdict = verdict
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .and_then(|r| r.map_err(|e| e.to_string()));
    match verdict {
        Ok(v) => (v.permission == Permission::Allow, v.deny_action),
        Err(e) => {
            eprintln!(
                "emqx-sim: mqtt {}: client {}: authorization of {topic:?} failed, denied: {e}",
                client.listener, client.clientid
            );
            (false, DenyAction::Ignore)
        }
    }
}

/// Closes for `deny_action = disconnect`, with DISCONNECT 0x87 to MQTT 5 clients.
async fn deny_disconnect<S: AsyncWrite>(w: &mut Writer<S>) -> Result<(), ConnError> {
    w.send(Outbound::Disconnect(DisconnectReason::NotAuthorized))
        .await
}

/// What the session loop does next.
enum Step {
    Continue,
    Close,
}

#[allow(clippy::too_many_arguments)]
async fn session<S: AsyncRead + AsyncWrite>(
    shared: &Arc<Shared>,
    client: &ClientInfo,
    conn: u64,
    keep_alive: u16,
    rd: &mut ReadHalf<S>,
    buf: &mut BytesMut,
    w: &mut Writer<S>,
    mut rx: mpsc::UnboundedReceiver<Deliver>,
) -> Result<(), ConnError> {
    let idle = (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive) * 1500));
    let mut deadline = idle.map(|d| Instant::now() + d);
    let mut next_pkid: u16 = 0;
    loop {
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            packet = next_packet(rd, buf, w.version) => {
                let packet = packet?;
                deadline = idle.map(|d| Instant::now() + d);
                if let Step::Close = handle(shared, client, conn, packet, w).await? {
                    return Ok(());
                }
            }
            Some(d) = rx.recv() => match d {
                Deliver::Publish { topic, payload, qos } => {
                    let pkid = if qos == 0 {
                        0
                    } else {
                        next_pkid = next_pkid.checked_add(1).unwrap_or(1);
                        next_pkid
                    };
                    w.send(Outbound::Publish { topic, payload, qos, pkid }).await?;
                }
                Deliver::TakenOver => {
                    w.send(Outbound::Disconnect(DisconnectReason::SessionTakenOver)).await?;
                    return Ok(());
                }
            },
            () = sleep => {
                w.send(Outbound::Disconnect(DisconnectReason::KeepAliveTimeout)).await?;
                return Err(ConnError::Timeout("nothing received for 1.5 × keep alive"));
            }
        }
    }
}

async fn handle<S: AsyncWrite>(
    shared: &Arc<Shared>,
    client: &ClientInfo,
    conn: u64,
    packet: Inbound,
    w: &mut Writer<S>,
) -> Result<Step, ConnError> {
    match packet {
        Inbound::Publish {
            topic,
            payload,
            qos,
            retain,
            pkid,
        } => publish(shared, client, w, topic, payload, qos, retain, pkid).await,
        Inbound::Subscribe { pkid, filters } => {
            let mut results = Vec::with_capacity(filters.len());
            let mut denied_disconnect = false;
            for (filter, qos) in &filters {
                let real = real_filter(filter);
                if !topic::valid_filter(real) {
                    results.push(SubResult::InvalidFilter);
                    continue;
                }
                let (allowed, deny_action) =
                    decide(shared, client, Action::Subscribe { qos: *qos }, real).await;
                if allowed {
                    results.push(SubResult::Granted(*qos));
                } else {
                    denied_disconnect |= deny_action == DenyAction::Disconnect;
                    results.push(SubResult::NotAuthorized);
                }
            }
            if denied_disconnect {
                deny_disconnect(w).await?;
                return Ok(Step::Close);
            }
            for ((filter, _), r) in filters.iter().zip(&results) {
                if let SubResult::Granted(q) = r {
                    shared
                        .registry
                        .subscribe(&client.clientid, conn, filter, *q);
                }
            }
            w.send(Outbound::SubAck { pkid, results }).await?;
            Ok(Step::Continue)
        }
        Inbound::Unsubscribe { pkid, filters } => {
            for f in &filters {
                shared.registry.unsubscribe(&client.clientid, conn, f);
            }
            w.send(Outbound::UnsubAck {
                pkid,
                count: filters.len(),
            })
            .await?;
            Ok(Step::Continue)
        }
        Inbound::PingReq => {
            w.send(Outbound::PingResp).await?;
            Ok(Step::Continue)
        }
        Inbound::PubRec(pkid) => {
            w.send(Outbound::PubRel(pkid)).await?;
            Ok(Step::Continue)
        }
        Inbound::PubRel(pkid) => {
            w.send(Outbound::PubComp(pkid)).await?;
            Ok(Step::Continue)
        }
        Inbound::PubAck | Inbound::PubComp => Ok(Step::Continue),
        Inbound::Disconnect => Ok(Step::Close),
        Inbound::Unexpected(what) => {
            w.send(Outbound::Disconnect(DisconnectReason::ProtocolError))
                .await?;
            Err(ConnError::Protocol(format!("{what} after CONNECT")))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn publish<S: AsyncWrite>(
    shared: &Arc<Shared>,
    client: &ClientInfo,
    w: &mut Writer<S>,
    topic: String,
    payload: Bytes,
    qos: u8,
    retain: bool,
    pkid: u16,
) -> Result<Step, ConnError> {
    if !topic::valid_name(&topic) {
        w.send(Outbound::Disconnect(DisconnectReason::TopicNameInvalid))
            .await?;
        return Err(ConnError::Protocol(format!(
            "PUBLISH to {topic:?}, which is not a topic name"
        )));
    }
    let (allowed, deny_action) =
        decide(shared, client, Action::Publish { qos, retain }, &topic).await;
    let reason = if allowed {
        if shared.registry.route(&topic, &payload, qos) > 0 {
            AckReason::Success
        } else {
            AckReason::NoMatchingSubscribers
        }
    } else if deny_action == DenyAction::Disconnect {
        deny_disconnect(w).await?;
        return Ok(Step::Close);
    } else {
        AckReason::NotAuthorized
    };
    match qos {
        1 => w.send(Outbound::PubAck { pkid, reason }).await?,
        2 => w.send(Outbound::PubRec { pkid, reason }).await?,
        _ => {}
    }
    Ok(Step::Continue)
}
