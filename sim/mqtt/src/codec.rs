//! MQTT packets on the wire through the codecs of `rumqttc` (`mqttbytes::v4` for 3.1.1,
//! `v5::mqttbytes::v5` for 5), behind one set of types for both versions: the first packet
//! decides the version, [`Inbound`] is what a client sends, [`Outbound`] what the broker sends.

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

/// Largest packet accepted (EMQX's default `mqtt.max_packet_size`, 1 MiB).
pub const MAX_PACKET_SIZE: usize = 1 << 20;

/// The protocol version of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// MQTT 3.1.1 (protocol level 4).
    V311,
    /// MQTT 5 (protocol level 5).
    V5,
}

/// What a CONNECT carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    /// The protocol version.
    pub version: Version,
    /// The client id (empty: the broker assigns one).
    pub clientid: String,
    /// Clean session (3.1.1) or clean start (5).
    pub clean: bool,
    /// Keep alive in seconds (0: none).
    pub keep_alive: u16,
    /// The username, when sent.
    pub username: Option<String>,
    /// The password, when sent.
    pub password: Option<Vec<u8>>,
    /// MQTT 5 authentication method.
    pub auth_method: Option<String>,
}

/// The first packet of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hello {
    /// A CONNECT of a version the broker speaks.
    Connect(Connect),
    /// A CONNECT of another protocol level (3 for MQTT 3.1, ...).
    UnsupportedLevel(u8),
}

/// A packet from a client after CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// PUBLISH.
    Publish {
        /// Topic name.
        topic: String,
        /// Payload.
        payload: Bytes,
        /// QoS 0, 1 or 2.
        qos: u8,
        /// Retain flag.
        retain: bool,
        /// Packet id (0 for QoS 0).
        pkid: u16,
    },
    /// PUBACK of a QoS 1 delivery.
    PubAck,
    /// PUBREC of a QoS 2 delivery.
    PubRec(u16),
    /// PUBREL of a QoS 2 publish.
    PubRel(u16),
    /// PUBCOMP of a QoS 2 delivery.
    PubComp,
    /// SUBSCRIBE.
    Subscribe {
        /// Packet id.
        pkid: u16,
        /// Filters and requested QoS.
        filters: Vec<(String, u8)>,
    },
    /// UNSUBSCRIBE.
    Unsubscribe {
        /// Packet id.
        pkid: u16,
        /// Filters.
        filters: Vec<String>,
    },
    /// PINGREQ.
    PingReq,
    /// DISCONNECT.
    Disconnect,
    /// A packet a client must not send now (a second CONNECT, a CONNACK, AUTH, ...).
    Unexpected(&'static str),
}

/// The reason of a CONNACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnAckCode {
    /// Accepted.
    Success,
    /// v5 0x84, 3.1.1 1.
    UnsupportedVersion,
    /// v5 0x85, 3.1.1 2.
    ClientIdNotValid,
    /// v5 0x80, 3.1.1 3.
    ServerError,
    /// v5 0x86, 3.1.1 4.
    BadUsernameOrPassword,
    /// v5 0x87, 3.1.1 5.
    NotAuthorized,
    /// v5 0x8A, 3.1.1 5.
    Banned,
    /// v5 0x8C, 3.1.1 5.
    BadAuthMethod,
}

/// Why the broker disconnects a client (sent as DISCONNECT to MQTT 5 clients only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// 0x87: a denied publish or subscribe under `deny_action = disconnect`.
    NotAuthorized,
    /// 0x8E: another connection took the client id.
    SessionTakenOver,
    /// 0x82: a packet out of order.
    ProtocolError,
    /// 0x8D: nothing received for 1.5 × keep alive.
    KeepAliveTimeout,
    /// 0x90: a topic name that is not valid.
    TopicNameInvalid,
}

/// The reason of a PUBACK or PUBREC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckReason {
    /// Delivered to at least one subscriber.
    Success,
    /// Accepted, but no subscription matched (MQTT 5 0x10).
    NoMatchingSubscribers,
    /// Denied by authorization (MQTT 5 0x87).
    NotAuthorized,
}

/// The outcome of one filter of a SUBSCRIBE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubResult {
    /// Subscribed with this QoS.
    Granted(u8),
    /// Denied by authorization (0x80; MQTT 5 0x87).
    NotAuthorized,
    /// Not a valid filter (0x80; MQTT 5 0x8F).
    InvalidFilter,
}

/// A packet to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// CONNACK; the client id when the broker assigned it (sent to MQTT 5 clients).
    ConnAck(ConnAckCode, Option<String>),
    /// PUBACK (its reason goes to MQTT 5 clients only).
    PubAck {
        /// Packet id.
        pkid: u16,
        /// Why.
        reason: AckReason,
    },
    /// PUBREC (its reason goes to MQTT 5 clients only).
    PubRec {
        /// Packet id.
        pkid: u16,
        /// Why.
        reason: AckReason,
    },
    /// PUBREL.
    PubRel(u16),
    /// PUBCOMP.
    PubComp(u16),
    /// SUBACK.
    SubAck {
        /// Packet id.
        pkid: u16,
        /// Per filter.
        results: Vec<SubResult>,
    },
    /// UNSUBACK for `count` filters.
    UnsubAck {
        /// Packet id.
        pkid: u16,
        /// How many filters.
        count: usize,
    },
    /// PINGRESP.
    PingResp,
    /// PUBLISH to a subscriber.
    Publish {
        /// Topic name.
        topic: String,
        /// Payload.
        payload: Bytes,
        /// QoS.
        qos: u8,
        /// Packet id (0 for QoS 0).
        pkid: u16,
    },
    /// DISCONNECT (MQTT 5 only; 3.1.1 connections just close).
    Disconnect(DisconnectReason),
}

/// A packet that does not decode.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The MQTT 3.1.1 codec refused it.
    #[error("MQTT 3.1.1: {0}")]
    V311(rumqttc::mqttbytes::Error),
    /// The MQTT 5 codec refused it.
    #[error("MQTT 5: {0}")]
    V5(rumqttc::v5::mqttbytes::Error),
    /// A malformed fixed header or first packet.
    #[error("{0}")]
    Malformed(String),
    /// A packet that cannot be written.
    #[error("cannot encode {0}")]
    Encode(String),
}

/// `(fixed header length, remaining length)` when the buffer holds a whole fixed header.
fn fixed_header(buf: &[u8]) -> Result<Option<(usize, usize)>, CodecError> {
    let mut len = 0usize;
    for i in 0..4 {
        let Some(&b) = buf.get(1 + i) else {
            return Ok(None);
        };
        len |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((2 + i, len)));
        }
    }
    Err(CodecError::Malformed(
        "remaining length longer than 4 bytes".into(),
    ))
}

/// Reads the first packet when the buffer holds all of it: `None` means more bytes are needed.
pub fn read_hello(buf: &mut BytesMut) -> Result<Option<Hello>, CodecError> {
    let Some((header, remaining)) = fixed_header(buf)? else {
        return Ok(None);
    };
    if remaining > MAX_PACKET_SIZE {
        return Err(CodecError::Malformed(format!(
            "first packet of {remaining} bytes exceeds {MAX_PACKET_SIZE}"
        )));
    }
    if buf.len() < header + remaining {
        return Ok(None);
    }
    if buf[0] >> 4 != 1 {
        return Err(CodecError::Malformed(format!(
            "the first packet is of type {}, not CONNECT",
            buf[0] >> 4
        )));
    }
    let body = &buf[header..header + remaining];
    let name_len = body
        .get(..2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        .ok_or_else(|| CodecError::Malformed("CONNECT without a protocol name".into()))?;
    let level = *body
        .get(2 + name_len)
        .ok_or_else(|| CodecError::Malformed("CONNECT without a protocol level".into()))?;
    match level {
        4 => match v4::Packet::read(buf, MAX_PACKET_SIZE).map_err(CodecError::V311)? {
            v4::Packet::Connect(c) => Ok(Some(Hello::Connect(Connect {
                version: Version::V311,
                clientid: c.client_id,
                clean: c.clean_session,
                keep_alive: c.keep_alive,
                username: c.login.as_ref().map(|l| l.username.clone()),
                password: c.login.map(|l| l.password.into_bytes()),
                auth_method: None,
            }))),
            _ => Err(CodecError::Malformed("CONNECT expected".into())),
        },
        5 => match v5::Packet::read(buf, Some(MAX_PACKET_SIZE as u32)).map_err(CodecError::V5)? {
            v5::Packet::Connect(c, _will, login) => Ok(Some(Hello::Connect(Connect {
                version: Version::V5,
                clientid: c.client_id,
                clean: c.clean_start,
                keep_alive: c.keep_alive,
                username: login.as_ref().map(|l| l.username.clone()),
                password: login.map(|l| l.password.into_bytes()),
                auth_method: c.properties.and_then(|p| p.authentication_method),
            }))),
            _ => Err(CodecError::Malformed("CONNECT expected".into())),
        },
        other => {
            let _ = buf.split_to(header + remaining);
            Ok(Some(Hello::UnsupportedLevel(other)))
        }
    }
}

fn qos4(q: rumqttc::mqttbytes::QoS) -> u8 {
    q as u8
}

fn qos5(q: rumqttc::v5::mqttbytes::QoS) -> u8 {
    q as u8
}

fn to_qos4(q: u8) -> rumqttc::mqttbytes::QoS {
    match q {
        0 => rumqttc::mqttbytes::QoS::AtMostOnce,
        1 => rumqttc::mqttbytes::QoS::AtLeastOnce,
        _ => rumqttc::mqttbytes::QoS::ExactlyOnce,
    }
}

fn to_qos5(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    use rumqttc::v5::mqttbytes::QoS;
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// Reads the next packet after CONNECT; `None` means more bytes are needed.
pub fn read(version: Version, buf: &mut BytesMut) -> Result<Option<Inbound>, CodecError> {
    let Some((header, remaining)) = fixed_header(buf)? else {
        return Ok(None);
    };
    if buf.len() < header + remaining {
        return Ok(None);
    }
    match version {
        Version::V311 => {
            let p = match v4::Packet::read(buf, MAX_PACKET_SIZE) {
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => return Ok(None),
                r => r.map_err(CodecError::V311)?,
            };
            Ok(Some(match p {
                v4::Packet::Publish(p) => Inbound::Publish {
                    topic: p.topic,
                    payload: p.payload,
                    qos: qos4(p.qos),
                    retain: p.retain,
                    pkid: p.pkid,
                },
                v4::Packet::PubAck(_) => Inbound::PubAck,
                v4::Packet::PubRec(p) => Inbound::PubRec(p.pkid),
                v4::Packet::PubRel(p) => Inbound::PubRel(p.pkid),
                v4::Packet::PubComp(_) => Inbound::PubComp,
                v4::Packet::Subscribe(s) => Inbound::Subscribe {
                    pkid: s.pkid,
                    filters: s
                        .filters
                        .into_iter()
                        .map(|f| (f.path, qos4(f.qos)))
                        .collect(),
                },
                v4::Packet::Unsubscribe(u) => Inbound::Unsubscribe {
                    pkid: u.pkid,
                    filters: u.topics,
                },
                v4::Packet::PingReq => Inbound::PingReq,
                v4::Packet::Disconnect => Inbound::Disconnect,
                v4::Packet::Connect(_) => Inbound::Unexpected("CONNECT"),
                _ => Inbound::Unexpected("a server packet"),
            }))
        }
        Version::V5 => {
            if buf[0] == 0xE0 && remaining == 0 {
                let _ = buf.split_to(header);
                return Ok(Some(Inbound::Disconnect));
            }
            let p = match v5::Packet::read(buf, Some(MAX_PACKET_SIZE as u32)) {
                Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => return Ok(None),
                r => r.map_err(CodecError::V5)?,
            };
            Ok(Some(match p {
                v5::Packet::Publish(p) => Inbound::Publish {
                    topic: String::from_utf8(p.topic.to_vec()).map_err(|_| {
                        CodecError::Malformed("a PUBLISH topic is not UTF-8".into())
                    })?,
                    payload: p.payload,
                    qos: qos5(p.qos),
                    retain: p.retain,
                    pkid: p.pkid,
                },
                v5::Packet::PubAck(_) => Inbound::PubAck,
                v5::Packet::PubRec(p) => Inbound::PubRec(p.pkid),
                v5::Packet::PubRel(p) => Inbound::PubRel(p.pkid),
                v5::Packet::PubComp(_) => Inbound::PubComp,
                v5::Packet::Subscribe(s) => Inbound::Subscribe {
                    pkid: s.pkid,
                    filters: s
                        .filters
                        .into_iter()
                        .map(|f| (f.path, qos5(f.qos)))
                        .collect(),
                },
                v5::Packet::Unsubscribe(u) => Inbound::Unsubscribe {
                    pkid: u.pkid,
                    filters: u.filters,
                },
                v5::Packet::PingReq(_) => Inbound::PingReq,
                v5::Packet::Disconnect(_) => Inbound::Disconnect,
                v5::Packet::Connect(..) => Inbound::Unexpected("CONNECT"),
                v5::Packet::Auth(_) => Inbound::Unexpected("AUTH"),
                _ => Inbound::Unexpected("a server packet"),
            }))
        }
    }
}

fn v311_connack(code: ConnAckCode) -> v4::ConnectReturnCode {
    use v4::ConnectReturnCode as C;
    match code {
        ConnAckCode::Success => C::Success,
        ConnAckCode::UnsupportedVersion => C::RefusedProtocolVersion,
        ConnAckCode::ClientIdNotValid => C::BadClientId,
        ConnAckCode::ServerError => C::ServiceUnavailable,
        ConnAckCode::BadUsernameOrPassword => C::BadUserNamePassword,
        ConnAckCode::NotAuthorized | ConnAckCode::Banned | ConnAckCode::BadAuthMethod => {
            C::NotAuthorized
        }
    }
}

fn v5_connack(code: ConnAckCode) -> v5::ConnectReturnCode {
    use v5::ConnectReturnCode as C;
    match code {
        ConnAckCode::Success => C::Success,
        ConnAckCode::UnsupportedVersion => C::UnsupportedProtocolVersion,
        ConnAckCode::ClientIdNotValid => C::ClientIdentifierNotValid,
        ConnAckCode::ServerError => C::UnspecifiedError,
        ConnAckCode::BadUsernameOrPassword => C::BadUserNamePassword,
        ConnAckCode::NotAuthorized => C::NotAuthorized,
        ConnAckCode::Banned => C::Banned,
        ConnAckCode::BadAuthMethod => C::BadAuthenticationMethod,
    }
}

fn assigned_id(id: String) -> v5::ConnAckProperties {
    v5::ConnAckProperties {
        session_expiry_interval: None,
        receive_max: None,
        max_qos: None,
        retain_available: None,
        max_packet_size: None,
        assigned_client_identifier: Some(id),
        topic_alias_max: None,
        reason_string: None,
        user_properties: Vec::new(),
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: None,
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    }
}

/// Writes a CONNACK refusing an unsupported protocol level, in the 3.1.1 form every client
/// version reads.
pub fn write_unsupported_level(buf: &mut BytesMut) -> Result<(), CodecError> {
    v4::ConnAck::new(v4::ConnectReturnCode::RefusedProtocolVersion, false)
        .write(buf)
        .map(|_| ())
        .map_err(|e| CodecError::Encode(format!("CONNACK: {e}")))
}

/// Appends `packet` to `buf` in the connection's version; nothing for a packet the version
/// lacks (a server DISCONNECT to a 3.1.1 client).
pub fn write(version: Version, packet: Outbound, buf: &mut BytesMut) -> Result<(), CodecError> {
    let what = format!("{packet:?}");
    let fail = |e: String| CodecError::Encode(format!("{what}: {e}"));
    match version {
        Version::V311 => {
            let r = match packet {
                Outbound::ConnAck(code, _) => {
                    v4::ConnAck::new(v311_connack(code), false).write(buf)
                }
                Outbound::PubAck { pkid, .. } => v4::PubAck::new(pkid).write(buf),
                Outbound::PubRec { pkid, .. } => v4::PubRec::new(pkid).write(buf),
                Outbound::PubRel(pkid) => v4::PubRel::new(pkid).write(buf),
                Outbound::PubComp(pkid) => v4::PubComp::new(pkid).write(buf),
                Outbound::SubAck { pkid, results } => v4::SubAck::new(
                    pkid,
                    results
                        .into_iter()
                        .map(|r| match r {
                            SubResult::Granted(q) => v4::SubscribeReasonCode::Success(to_qos4(q)),
                            _ => v4::SubscribeReasonCode::Failure,
                        })
                        .collect(),
                )
                .write(buf),
                Outbound::UnsubAck { pkid, .. } => v4::UnsubAck::new(pkid).write(buf),
                Outbound::PingResp => v4::PingResp.write(buf),
                Outbound::Publish {
                    topic,
                    payload,
                    qos,
                    pkid,
                } => {
                    let mut p = v4::Publish::from_bytes(topic, to_qos4(qos), payload);
                    p.pkid = pkid;
                    p.write(buf)
                }
                Outbound::Disconnect(_) => return Ok(()),
            };
            r.map(|_| ()).map_err(|e| fail(e.to_string()))
        }
        Version::V5 => {
            let packet = match packet {
                Outbound::ConnAck(code, assigned) => v5::Packet::ConnAck(v5::ConnAck {
                    session_present: false,
                    code: v5_connack(code),
                    properties: assigned.map(assigned_id),
                }),
                Outbound::PubAck { pkid, reason } => {
                    let mut a = v5::PubAck::new(pkid, None);
                    a.reason = match reason {
                        AckReason::Success => v5::PubAckReason::Success,
                        AckReason::NoMatchingSubscribers => v5::PubAckReason::NoMatchingSubscribers,
                        AckReason::NotAuthorized => v5::PubAckReason::NotAuthorized,
                    };
                    v5::Packet::PubAck(a)
                }
                Outbound::PubRec { pkid, reason } => {
                    let mut a = v5::PubRec::new(pkid, None);
                    a.reason = match reason {
                        AckReason::Success => v5::PubRecReason::Success,
                        AckReason::NoMatchingSubscribers => v5::PubRecReason::NoMatchingSubscribers,
                        AckReason::NotAuthorized => v5::PubRecReason::NotAuthorized,
                    };
                    v5::Packet::PubRec(a)
                }
                Outbound::PubRel(pkid) => v5::Packet::PubRel(v5::PubRel::new(pkid, None)),
                Outbound::PubComp(pkid) => v5::Packet::PubComp(v5::PubComp::new(pkid, None)),
                Outbound::SubAck { pkid, results } => v5::Packet::SubAck(v5::SubAck {
                    pkid,
                    return_codes: results
                        .into_iter()
                        .map(|r| match r {
                            SubResult::Granted(q) => v5::SubscribeReasonCode::Success(to_qos5(q)),
                            SubResult::NotAuthorized => v5::SubscribeReasonCode::NotAuthorized,
                            SubResult::InvalidFilter => v5::SubscribeReasonCode::TopicFilterInvalid,
                        })
                        .collect(),
                    properties: None,
                }),
                Outbound::UnsubAck { pkid, count } => v5::Packet::UnsubAck(v5::UnsubAck {
                    pkid,
                    reasons: vec![v5::UnsubAckReason::Success; count],
                    properties: None,
                }),
                Outbound::PingResp => v5::Packet::PingResp(v5::PingResp),
                Outbound::Publish {
                    topic,
                    payload,
                    qos,
                    pkid,
                } => {
                    let mut p = v5::Publish::new(topic, to_qos5(qos), payload, None);
                    p.pkid = pkid;
                    v5::Packet::Publish(p)
                }
                Outbound::Disconnect(reason) => {
                    // rumqttc 0.25 writes a reason code and an empty property length under a
                    // remaining length of 1, which its own reader refuses: written here as
                    // reason code and property length 0.
                    let code = match reason {
                        DisconnectReason::NotAuthorized => 0x87,
                        DisconnectReason::SessionTakenOver => 0x8E,
                        DisconnectReason::ProtocolError => 0x82,
                        DisconnectReason::KeepAliveTimeout => 0x8D,
                        DisconnectReason::TopicNameInvalid => 0x90,
                    };
                    buf.extend_from_slice(&[0xE0, 0x02, code, 0x00]);
                    return Ok(());
                }
            };
            packet
                .write(buf, None)
                .map(|_| ())
                .map_err(|e| fail(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_bytes(version: Version, login: Option<(&str, &str)>) -> BytesMut {
        let mut buf = BytesMut::new();
        match version {
            Version::V311 => {
                let mut c = v4::Connect::new("c1");
                if let Some((u, p)) = login {
                    c.set_login(u, p);
                }
                c.write(&mut buf).unwrap();
            }
            Version::V5 => {
                let c = v5::Connect {
                    keep_alive: 30,
                    client_id: "c1".into(),
                    clean_start: true,
                    properties: None,
                };
                let login = login.map(|(u, p)| v5::Login::new(u, p));
                c.write(&None, &login, &mut buf).unwrap();
            }
        }
        buf
    }

    #[test]
    fn hello_of_each_version() {
        for version in [Version::V311, Version::V5] {
            let mut buf = connect_bytes(version, Some(("u", "p")));
            let whole = buf.len();
            let mut part = BytesMut::from(&buf[..whole - 1]);
            assert_eq!(read_hello(&mut part).unwrap(), None, "incomplete");
            match read_hello(&mut buf).unwrap() {
                Some(Hello::Connect(c)) => {
                    assert_eq!(c.version, version);
                    assert_eq!(c.clientid, "c1");
                    assert_eq!(c.username.as_deref(), Some("u"));
                    assert_eq!(c.password.as_deref(), Some(&b"p"[..]));
                }
                other => panic!("{other:?}"),
            }
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn unsupported_level_and_garbage() {
        let mut buf = connect_bytes(Version::V311, None);
        // Fixed header (2 bytes), protocol name "MQTT" (2 + 4 bytes), then the level.
        assert_eq!(buf[8], 4);
        buf[8] = 3;
        assert_eq!(
            read_hello(&mut buf).unwrap(),
            Some(Hello::UnsupportedLevel(3))
        );
        let mut not_connect = BytesMut::from(&[0x30u8, 0x00][..]);
        assert!(read_hello(&mut not_connect).is_err());
        let mut bad_len = BytesMut::from(&[0x10u8, 0xff, 0xff, 0xff, 0xff, 0x01][..]);
        assert!(read_hello(&mut bad_len).is_err());
    }

    #[test]
    fn denials_per_version() {
        let mut buf = BytesMut::new();
        let results = vec![
            SubResult::Granted(1),
            SubResult::NotAuthorized,
            SubResult::InvalidFilter,
        ];
        let suback = Outbound::SubAck { pkid: 7, results };
        write(Version::V5, suback.clone(), &mut buf).unwrap();
        assert_eq!(&buf[..], &[0x90, 6, 0, 7, 0, 1, 0x87, 0x8F]);
        buf.clear();
        write(Version::V311, suback, &mut buf).unwrap();
        assert_eq!(&buf[..], &[0x90, 5, 0, 7, 1, 0x80, 0x80]);
        let denied = Outbound::PubAck {
            pkid: 9,
            reason: AckReason::NotAuthorized,
        };
        buf.clear();
        write(Version::V5, denied.clone(), &mut buf).unwrap();
        assert_eq!(&buf[..], &[0x40, 4, 0, 9, 0x87, 0]);
        buf.clear();
        write(Version::V311, denied, &mut buf).unwrap();
        assert_eq!(&buf[..], &[0x40, 2, 0, 9]);
        for (code, v5rc, v3rc) in [
            (ConnAckCode::Banned, 0x8A, 5),
            (ConnAckCode::BadUsernameOrPassword, 0x86, 4),
            (ConnAckCode::NotAuthorized, 0x87, 5),
        ] {
            buf.clear();
            write(Version::V5, Outbound::ConnAck(code, None), &mut buf).unwrap();
            assert_eq!(buf[3], v5rc, "{code:?}");
            buf.clear();
            write(Version::V311, Outbound::ConnAck(code, None), &mut buf).unwrap();
            assert_eq!(&buf[..], &[0x20, 2, 0, v3rc], "{code:?}");
        }
        buf.clear();
        write(
            Version::V311,
            Outbound::Disconnect(DisconnectReason::NotAuthorized),
            &mut buf,
        )
        .unwrap();
        assert!(buf.is_empty(), "3.1.1 has no server DISCONNECT");
        write(
            Version::V5,
            Outbound::Disconnect(DisconnectReason::NotAuthorized),
            &mut buf,
        )
        .unwrap();
        let mut frame = buf.clone();
        match v5::Packet::read(&mut frame, None).unwrap() {
            v5::Packet::Disconnect(d) => {
                assert_eq!(d.reason_code, v5::DisconnectReasonCode::NotAuthorized)
            }
            other => panic!("{other:?}"),
        }
        assert!(frame.is_empty());
    }

    #[test]
    fn inbound_packets() {
        let mut buf = BytesMut::new();
        v4::Subscribe::new("a/#", rumqttc::mqttbytes::QoS::AtLeastOnce)
            .write(&mut buf)
            .unwrap();
        v4::PingReq.write(&mut buf).unwrap();
        assert!(matches!(
            read(Version::V311, &mut buf).unwrap(),
            Some(Inbound::Subscribe { filters, .. }) if filters == vec![("a/#".to_owned(), 1)]
        ));
        assert_eq!(
            read(Version::V311, &mut buf).unwrap(),
            Some(Inbound::PingReq)
        );
        assert_eq!(read(Version::V311, &mut buf).unwrap(), None);
        let mut buf = BytesMut::from(&[0xE0u8, 0x00][..]);
        assert_eq!(
            read(Version::V5, &mut buf).unwrap(),
            Some(Inbound::Disconnect)
        );
    }
}
