//! What the restored data does over MQTT: the same probes (logins, a ban, ACL rules) against
//! the source broker after seeding and against the target after the import, answered alike.
//! The clients are `rumqttc`'s MQTT 5 and 3.1.1 clients.

use anyhow::{bail, Context};
use rumqttc::v5::mqttbytes::v5 as p5;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a probe waits for any one answer.
const WAIT: Duration = Duration::from_secs(10);

/// What each probe got, by probe name, e.g. `"login alice" -> "accepted"`.
pub type Outcomes = BTreeMap<String, String>;

/// The outcomes every broker holding the seed must give, whatever else it answers alike.
pub const REQUIRED: &[(&str, &str)] = &[
    ("login alice (5)", "accepted"),
    ("login alice (3.1.1)", "accepted"),
    (
        "login alice, wrong password (5)",
        "refused BadUserNamePassword",
    ),
    ("login bob as client mallory (5)", "refused Banned"),
    ("alice subscribes alice/probe", "granted AtLeastOnce"),
    ("alice publishes alice/probe", "acked Success"),
    ("alice receives alice/probe", "received"),
];

fn split(addr: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("MQTT address {addr} has no port"))?;
    Ok((host.to_owned(), port.parse()?))
}

/// Runs every probe against the MQTT listener at `addr` (`host:port`).
pub fn probe(addr: &str) -> anyhow::Result<Outcomes> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(probe_async(addr))
}

async fn probe_async(addr: &str) -> anyhow::Result<Outcomes> {
    let mut out = Outcomes::new();
    let mut put = |k: &str, v: String| out.insert(k.to_owned(), v);
    put(
        "login alice (3.1.1)",
        connect3(addr, "probe-alice-3", "alice", "alice-pass").await?,
    );
    put(
        "login alice, wrong password (5)",
        Client5::connect(addr, "probe-wrong", "alice", "nope")
            .await?
            .1,
    );
    put(
        "login bob as client mallory (5)",
        Client5::connect(addr, "mallory", "bob", "bob-pass")
            .await?
            .1,
    );
    put(
        "login scram-user with a password (5)",
        Client5::connect(addr, "probe-scram", "scram-user", "s3cret")
            .await?
            .1,
    );
    let (alice, got) = Client5::connect(addr, "probe-alice-5", "alice", "alice-pass").await?;
    put("login alice (5)", got);
    let Some(mut alice) = alice else {
        return Ok(out);
    };
    put(
        "alice subscribes secret/probe",
        alice.subscribe("secret/probe").await?,
    );
    put(
        "alice subscribes alice/probe",
        alice.subscribe("alice/probe").await?,
    );
    put(
        "alice publishes alice/probe",
        alice.publish("alice/probe").await?,
    );
    put(
        "alice receives alice/probe",
        alice.received("alice/probe").await,
    );
    Ok(out)
}

/// A 3.1.1 CONNECT: `accepted` or `refused <code>`.
async fn connect3(addr: &str, id: &str, user: &str, pass: &str) -> anyhow::Result<String> {
    let (host, port) = split(addr)?;
    let mut o = rumqttc::MqttOptions::new(id, host, port);
    o.set_credentials(user, pass);
    let (_client, mut el) = rumqttc::AsyncClient::new(o, 8);
    loop {
        match tokio::time::timeout(WAIT, el.poll()).await {
            Err(_) => bail!("{addr}: no CONNACK for {id} within {WAIT:?}"),
            Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_)))) => {
                return Ok("accepted".into())
            }
            Ok(Ok(_)) => {}
            Ok(Err(rumqttc::ConnectionError::ConnectionRefused(code))) => {
                return Ok(format!("refused {code:?}"))
            }
            Ok(Err(e)) => bail!("{addr}: {id}: {e}"),
        }
    }
}

/// An MQTT 5 client that reports what the broker answered.
struct Client5 {
    client: rumqttc::v5::AsyncClient,
    el: rumqttc::v5::EventLoop,
}

impl Client5 {
    /// Connects; the client when accepted, and `accepted` or `refused <reason>`.
    async fn connect(
        addr: &str,
        id: &str,
        user: &str,
        pass: &str,
    ) -> anyhow::Result<(Option<Client5>, String)> {
        let (host, port) = split(addr)?;
        let mut o = rumqttc::v5::MqttOptions::new(id, host, port);
        o.set_credentials(user, pass);
        let (client, mut el) = rumqttc::v5::AsyncClient::new(o, 8);
        loop {
            match tokio::time::timeout(WAIT, el.poll()).await {
                Err(_) => bail!("{addr}: no CONNACK for {id} within {WAIT:?}"),
                Ok(Ok(rumqttc::v5::Event::Incoming(p5::Packet::ConnAck(_)))) => {
                    return Ok((Some(Client5 { client, el }), "accepted".into()))
                }
                Ok(Ok(_)) => {}
                Ok(Err(rumqttc::v5::ConnectionError::ConnectionRefused(code))) => {
                    return Ok((None, format!("refused {code:?}")))
                }
                Ok(Err(e)) => bail!("{addr}: {id}: {e}"),
            }
        }
    }

    /// The next packet, `None` when none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> anyhow::Result<Option<p5::Packet>> {
        loop {
            match tokio::time::timeout(wait, self.el.poll()).await {
                Err(_) => return Ok(None),
                Ok(Ok(rumqttc::v5::Event::Incoming(p))) => return Ok(Some(p)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => bail!("connection lost: {e}"),
            }
        }
    }

    /// SUBSCRIBE at QoS 1: `granted <qos>` or the refusal's reason.
    async fn subscribe(&mut self, filter: &str) -> anyhow::Result<String> {
        self.client
            .subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
            .await?;
        while let Some(p) = self.next(WAIT).await? {
            if let p5::Packet::SubAck(a) = p {
                return Ok(match a.return_codes.first() {
                    Some(p5::SubscribeReasonCode::Success(q)) => format!("granted {q:?}"),
                    Some(other) => format!("refused {other:?}"),
                    None => "empty SUBACK".into(),
                });
            }
        }
        bail!("no SUBACK for {filter} within {WAIT:?}")
    }

    /// PUBLISH at QoS 1: `acked <reason>`.
    async fn publish(&mut self, topic: &str) -> anyhow::Result<String> {
        self.client
            .publish(
                topic,
                rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                false,
                b"probe".to_vec(),
            )
            .await?;
        while let Some(p) = self.next(WAIT).await? {
            if let p5::Packet::PubAck(a) = p {
                return Ok(format!("acked {:?}", a.reason));
            }
        }
        bail!("no PUBACK for {topic} within {WAIT:?}")
    }

    /// `received` when a message on `topic` arrives within a second.
    async fn received(&mut self, topic: &str) -> String {
        while let Ok(Some(p)) = self.next(Duration::from_secs(1)).await {
            if let p5::Packet::Publish(m) = p {
                if m.topic.as_ref() == topic.as_bytes() {
                    return "received".into();
                }
            }
        }
        "not received".into()
    }
}

/// The probes whose outcomes differ between `want` and `got`, and the required outcomes
/// `got` lacks.
pub fn differences(want: &Outcomes, got: &Outcomes) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in want {
        match got.get(k) {
            Some(g) if g == v => {}
            g => out.push(format!("{k}: source {v}, target {}", g.map_or("-", |s| s))),
        }
    }
    for (k, v) in REQUIRED {
        if got.get(*k).map(String::as_str) != Some(*v) {
            out.push(format!(
                "{k}: must be {v}, target {}",
                got.get(*k).map_or("-", |s| s)
            ));
        }
    }
    out
}
