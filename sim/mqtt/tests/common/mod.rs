//! Nodes with the REST API and both MQTT listeners on 127.0.0.1 (port 0) in temporary data
//! dirs, and MQTT 3.1.1 and 5 clients (`rumqttc`) that report what the broker answered.

#![allow(dead_code)]

use emqx_archive::Edition;
use emqx_sim_api::{ServeConfig, Server};
use emqx_sim_mqtt::{Mqtt, Transport};
use emqx_sim_store::{ExportOptions, ImportReport, Node, NodeInfo, Role};
use rumqttc::v5::mqttbytes::v5 as p5;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a test waits for any one answer.
pub const WAIT: Duration = Duration::from_secs(10);

/// A fixture archive written by real EMQX.
pub fn fixture(name: &str) -> PathBuf {
    emqx_backup_tests::plugins::workspace()
        .join("tests/fixtures/emqx-archives")
        .join(name)
}

/// A running node: REST API, MQTT over TCP and over TLS.
pub struct Sim {
    pub url: String,
    pub node: Arc<Node>,
    pub mqtt: SocketAddr,
    pub mqtts: SocketAddr,
    http: reqwest::Client,
    token: String,
    tasks: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Sim {
    pub async fn start() -> Sim {
        let plugins = tokio::task::spawn_blocking(emqx_backup_tests::plugins::build)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let info = NodeInfo {
            name: "emqx@127.0.0.1".into(),
            role: Role::Core,
            edition: Edition::Ce,
            version: "5.8.6".into(),
            data_dir: dir.path().join("data"),
        };
        let node = tokio::task::spawn_blocking(move || Node::open(info, Some(&plugins)))
            .await
            .unwrap()
            .expect("node opens");
        let node = Arc::new(node);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = Server::start(node.clone(), ServeConfig::new(&url), listener)
            .await
            .expect("server starts");
        let mut tasks = vec![tokio::spawn(async move {
            let _ = server.run(std::future::pending()).await;
        })];
        let broker = Mqtt::new(node.clone());
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mqtt, mqtts) = (tcp.local_addr().unwrap(), tls.local_addr().unwrap());
        tasks.push(tokio::spawn(broker.clone().serve(tcp, Transport::Tcp)));
        tasks.push(tokio::spawn(broker.serve(tls, Transport::Tls)));
        let http = reqwest::Client::new();
        let login = http
            .post(format!("{url}/api/v5/login"))
            .json(&json!({"username": "admin", "password": "public"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200, "login");
        let token = login.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        Sim {
            url,
            node,
            mqtt,
            mqtts,
            http,
            token,
            tasks,
            _dir: dir,
        }
    }

    /// An `/api/v5` call; asserts a 2xx answer and returns its JSON (`null` when empty).
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .http
            .request(m, format!("{}/api/v5{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Imports an archive as `emqx ctl data import` does and returns the plan it committed.
    pub async fn import(&self, archive: &Path) -> ImportReport {
        let node = self.node.clone();
        let archive = archive.to_owned();
        tokio::task::spawn_blocking(move || node.import(&archive, &mut |_| {}))
            .await
            .unwrap()
            .expect("import succeeds")
    }

    /// Exports everything into the node's backup dir.
    pub async fn export(&self) -> PathBuf {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || node.export(&ExportOptions::default(), &mut |_| {}))
            .await
            .unwrap()
            .expect("export succeeds")
    }

    /// Warnings of an import plan with `code`, with their counts.
    pub fn warnings(report: &ImportReport, code: &str) -> Vec<(Option<u64>, String)> {
        report
            .plans
            .iter()
            .flat_map(|p| &p.warnings)
            .filter(|w| w.code == code)
            .map(|w| (w.count, w.message.clone()))
            .collect()
    }
}

/// The password_based built-in database authenticator with `algorithm`.
pub fn password_db(algorithm: Value) -> Value {
    json!({"mechanism": "password_based", "backend": "built_in_database",
           "user_id_type": "username", "password_hash_algorithm": algorithm})
}

/// What a CONNECT got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connack {
    /// Accepted.
    Accepted,
    /// The CONNACK code of a refusal (3.1.1 return code, or MQTT 5 reason code).
    Refused(u8),
}

fn v3_code(c: rumqttc::ConnectReturnCode) -> u8 {
    c as u8
}

fn v5_code(c: p5::ConnectReturnCode) -> u8 {
    use p5::ConnectReturnCode as C;
    match c {
        C::Success => 0,
        C::UnspecifiedError => 0x80,
        C::UnsupportedProtocolVersion => 0x84,
        C::ClientIdentifierNotValid => 0x85,
        C::BadUserNamePassword => 0x86,
        C::NotAuthorized => 0x87,
        C::Banned => 0x8A,
        C::BadAuthenticationMethod => 0x8C,
        _ => 0xFF,
    }
}

/// A 3.1.1 client (`rumqttc`).
pub struct Client3 {
    pub client: rumqttc::AsyncClient,
    el: rumqttc::EventLoop,
}

/// A 5 client (`rumqttc::v5`).
pub struct Client5 {
    pub client: rumqttc::v5::AsyncClient,
    el: rumqttc::v5::EventLoop,
}

/// TLS to the node's `ssl:default` listener, trusting `ca_pem`.
pub fn tls_transport(ca_pem: &str) -> rumqttc::Transport {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(Arc::new(config)))
}

impl Client3 {
    /// Connects `id` with optional `(username, password)`.
    pub async fn connect(
        addr: SocketAddr,
        id: &str,
        login: Option<(&str, &str)>,
    ) -> Result<Client3, Connack> {
        Self::connect_with(addr, id, login, None).await
    }

    /// Connects over `transport` (plain TCP when `None`).
    pub async fn connect_with(
        addr: SocketAddr,
        id: &str,
        login: Option<(&str, &str)>,
        transport: Option<rumqttc::Transport>,
    ) -> Result<Client3, Connack> {
        let mut o = rumqttc::MqttOptions::new(id, addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(30));
        if let Some((u, p)) = login {
            o.set_credentials(u, p);
        }
        if let Some(t) = transport {
            o.set_transport(t);
        }
        let (client, mut el) = rumqttc::AsyncClient::new(o, 16);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, el.poll()).await {
                Err(_) => panic!("{id}: no CONNACK within {WAIT:?}"),
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_)))) => {
                    return Ok(Client3 { client, el })
                }
                Ok(Ok(_)) => {}
                Ok(Err(rumqttc::ConnectionError::ConnectionRefused(code))) => {
                    return Err(Connack::Refused(v3_code(code)))
                }
                Ok(Err(e)) => panic!("{id}: connection failed: {e}"),
            }
        }
    }

    /// The next packet from the broker, `None` when none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Result<rumqttc::Packet, String>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.el.poll()).await {
                Err(_) => return None,
                Ok(Ok(rumqttc::Event::Incoming(p))) => return Some(Ok(p)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Some(Err(e.to_string())),
            }
        }
    }

    /// Subscribes to `filter` (QoS 1) and returns the SUBACK return code.
    pub async fn subscribe(&mut self, filter: &str) -> u8 {
        self.client
            .subscribe(filter, rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        loop {
            match self.next(WAIT).await {
                Some(Ok(rumqttc::Packet::SubAck(a))) => {
                    return match a.return_codes[0] {
                        rumqttc::SubscribeReasonCode::Success(q) => q as u8,
                        rumqttc::SubscribeReasonCode::Failure => 0x80,
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("subscribe {filter}: {other:?}"),
            }
        }
    }

    /// Publishes with QoS 1 and waits for the PUBACK (3.1.1 PUBACKs carry no reason).
    pub async fn publish(&mut self, topic: &str, payload: &str) {
        self.client
            .publish(
                topic,
                rumqttc::QoS::AtLeastOnce,
                false,
                payload.as_bytes().to_vec(),
            )
            .await
            .unwrap();
        loop {
            match self.next(WAIT).await {
                Some(Ok(rumqttc::Packet::PubAck(_))) => return,
                Some(Ok(_)) => {}
                other => panic!("publish {topic}: {other:?}"),
            }
        }
    }

    /// Every message received within `wait`, as `(topic, payload)`.
    pub async fn received(&mut self, wait: Duration) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while let Some(Ok(p)) = self.next(wait).await {
            if let rumqttc::Packet::Publish(p) = p {
                out.push((p.topic, String::from_utf8_lossy(&p.payload).into_owned()));
            }
        }
        out
    }

    /// Whether the broker closed the connection within `wait`.
    pub async fn closed(&mut self, wait: Duration) -> bool {
        loop {
            match self.next(wait).await {
                None => return false,
                Some(Err(_)) => return true,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// The SUBACK of a 5 client, as a reason code.
fn sub_code(c: p5::SubscribeReasonCode) -> u8 {
    use p5::SubscribeReasonCode as R;
    match c {
        R::Success(q) => q as u8,
        R::NotAuthorized => 0x87,
        R::TopicFilterInvalid => 0x8F,
        R::Unspecified => 0x80,
        _ => 0xFF,
    }
}

fn puback_code(r: p5::PubAckReason) -> u8 {
    use p5::PubAckReason as R;
    match r {
        R::Success => 0,
        R::NoMatchingSubscribers => 0x10,
        R::NotAuthorized => 0x87,
        _ => 0xFF,
    }
}

impl Client5 {
    /// Connects `id` with optional `(username, password)`.
    pub async fn connect(
        addr: SocketAddr,
        id: &str,
        login: Option<(&str, &str)>,
    ) -> Result<Client5, Connack> {
        Self::connect_with(addr, id, login, None).await
    }

    /// Connects over `transport` (plain TCP when `None`).
    pub async fn connect_with(
        addr: SocketAddr,
        id: &str,
        login: Option<(&str, &str)>,
        transport: Option<rumqttc::Transport>,
    ) -> Result<Client5, Connack> {
        let mut o = rumqttc::v5::MqttOptions::new(id, addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(30));
        if let Some((u, p)) = login {
            o.set_credentials(u, p);
        }
        if let Some(t) = transport {
            o.set_transport(t);
        }
        let (client, mut el) = rumqttc::v5::AsyncClient::new(o, 16);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, el.poll()).await {
                Err(_) => panic!("{id}: no CONNACK within {WAIT:?}"),
                Ok(Ok(rumqttc::v5::Event::Incoming(p5::Packet::ConnAck(_)))) => {
                    return Ok(Client5 { client, el })
                }
                Ok(Ok(_)) => {}
                Ok(Err(rumqttc::v5::ConnectionError::ConnectionRefused(code))) => {
                    return Err(Connack::Refused(v5_code(code)))
                }
                Ok(Err(e)) => panic!("{id}: connection failed: {e}"),
            }
        }
    }

    async fn next(
        &mut self,
        wait: Duration,
    ) -> Option<Result<p5::Packet, rumqttc::v5::ConnectionError>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.el.poll()).await {
                Err(_) => return None,
                Ok(Ok(rumqttc::v5::Event::Incoming(p))) => return Some(Ok(p)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Some(Err(e)),
            }
        }
    }

    /// Subscribes to `filter` (QoS 1) and returns the SUBACK reason code.
    pub async fn subscribe(&mut self, filter: &str) -> u8 {
        self.client
            .subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
            .await
            .unwrap();
        loop {
            match self.next(WAIT).await {
                Some(Ok(p5::Packet::SubAck(a))) => return sub_code(a.return_codes[0]),
                Some(Ok(_)) => {}
                other => panic!("subscribe {filter}: {other:?}"),
            }
        }
    }

    /// Publishes with QoS 1 and returns the PUBACK reason code.
    pub async fn publish(&mut self, topic: &str, payload: &str) -> u8 {
        self.client
            .publish(
                topic,
                rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                false,
                payload.as_bytes().to_vec(),
            )
            .await
            .unwrap();
        loop {
            match self.next(WAIT).await {
                Some(Ok(p5::Packet::PubAck(a))) => return puback_code(a.reason),
                Some(Ok(_)) => {}
                other => panic!("publish {topic}: {other:?}"),
            }
        }
    }

    /// Publishes with QoS 0 (no answer expected).
    pub async fn publish0(&mut self, topic: &str, payload: &str) {
        self.client
            .publish(
                topic,
                rumqttc::v5::mqttbytes::QoS::AtMostOnce,
                false,
                payload.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    }

    /// Every message received within `wait`, as `(topic, payload)`.
    pub async fn received(&mut self, wait: Duration) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while let Some(Ok(p)) = self.next(wait).await {
            if let p5::Packet::Publish(p) = p {
                out.push((
                    String::from_utf8_lossy(&p.topic).into_owned(),
                    String::from_utf8_lossy(&p.payload).into_owned(),
                ));
            }
        }
        out
    }

    /// The reason code of a DISCONNECT the broker sends within `wait`, if it sends one.
    pub async fn disconnected(&mut self, wait: Duration) -> Option<u8> {
        loop {
            match self.next(wait).await? {
                Ok(p5::Packet::Disconnect(d)) => return Some(d.reason_code as u8),
                Ok(_) => {}
                Err(rumqttc::v5::ConnectionError::MqttState(
                    rumqttc::v5::StateError::ServerDisconnect { reason_code, .. },
                )) => return Some(reason_code as u8),
                Err(_) => return None,
            }
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it:
/// `(ca_pem, cert_pem, key_pem)`.
pub fn test_certs() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "emqx-sim test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "emqx-sim");
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}
