//! The demo's data, seeded through EMQX's REST API: node A gets something in every domain,
//! node B a little of its own.

use super::node::SimNode;
use anyhow::Context;
use serde_json::{json, Value};
use std::path::Path;

/// The users of the password_based built-in database authenticator.
pub const PASSWORD_USERS: &str = "/authentication/password_based:built_in_database/users";
/// The users of the SCRAM built-in database authenticator.
pub const SCRAM_USERS: &str = "/authentication/scram:built_in_database/users";
/// The rules of the built-in database authorization source.
pub const ACL_RULES: &str = "/authorization/sources/built_in_database/rules";
/// The dashboard account node A gets, with its password.
pub const OPERATOR: (&str, &str) = ("operator", "operator-pass1");
/// The PSK identities node A loads from its init file.
pub const PSK_IDS: [&str; 2] = ["sensor-1", "sensor-2"];

/// TLS material for a listener: a CA and a server certificate it signed, with its key.
pub struct Tls {
    /// The CA certificate (PEM).
    pub ca: String,
    /// The server certificate (PEM).
    pub cert: String,
    /// The server's private key (PEM).
    pub key: String,
}

/// A demo CA and a `localhost` server certificate, valid 2025 to 2045.
pub fn tls() -> anyhow::Result<Tls> {
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "emqx-backup demo CA");
    ca.not_before = date_time_ymd(2025, 1, 1);
    ca.not_after = date_time_ymd(2045, 1, 1);
    let ca = ca.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec!["localhost".to_owned()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.not_before = date_time_ymd(2025, 1, 1);
    server.not_after = date_time_ymd(2045, 1, 1);
    let cert = server.signed_by(&key, &ca, &ca_key)?;
    Ok(Tls {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

fn bcrypt_authenticator() -> Value {
    json!({"mechanism": "password_based", "backend": "built_in_database",
        "user_id_type": "username",
        "password_hash_algorithm": {"name": "bcrypt", "salt_rounds": 10}})
}

/// Node A: data in every domain. Returns one line per domain saying what went in.
pub fn node_a(a: &SimNode, dir: &Path, tls: &Tls) -> anyhow::Result<Vec<String>> {
    a.post("/authentication", bcrypt_authenticator())?;
    a.post(
        PASSWORD_USERS,
        json!({"user_id": "alice", "password": "alice-pass"}),
    )?;
    a.post(
        PASSWORD_USERS,
        json!({"user_id": "bob", "password": "bob-pass", "is_superuser": true}),
    )?;
    a.post(
        "/authentication",
        json!({"mechanism": "scram", "backend": "built_in_database",
            "algorithm": "sha512", "iteration_count": 4096}),
    )?;
    a.post(
        SCRAM_USERS,
        json!({"user_id": "scram-user", "password": "s3cret"}),
    )?;

    a.post(
        "/authorization/sources",
        json!({"type": "built_in_database", "enable": true}),
    )?;
    a.post(
        &format!("{ACL_RULES}/users"),
        json!([{"username": "alice", "rules": [
            {"topic": "alice/#", "permission": "allow", "action": "all"},
            {"topic": "secret/#", "permission": "deny", "action": "subscribe"}]}]),
    )?;
    a.post(
        &format!("{ACL_RULES}/all"),
        json!({"rules": [{"topic": "public/#", "permission": "allow", "action": "subscribe"}]}),
    )?;

    for (kind, who) in [("clientid", "mallory"), ("username", "spam-bot")] {
        a.post(
            "/banned",
            json!({"as": kind, "who": who, "reason": "demo", "until": "2099-01-01T00:00:00Z"}),
        )?;
    }

    let psk_file = dir.join("psk.txt");
    let lines: String = PSK_IDS
        .iter()
        .enumerate()
        .map(|(i, id)| format!("{id}:demo-secret-{i}\n"))
        .collect();
    std::fs::write(&psk_file, lines).context("writing the PSK file")?;
    a.put(
        "/configs/psk_authentication",
        json!({"enable": true, "init_file": psk_file.display().to_string(), "separator": ":"}),
    )?;

    a.post(
        "/users",
        json!({"username": OPERATOR.0, "password": OPERATOR.1, "description": "demo operator"}),
    )?;
    a.post(
        "/api_key",
        json!({"name": "ci", "desc": "demo key", "enable": true}),
    )?;

    a.post(
        "/connectors",
        json!({"type": "http", "name": "hook", "url": "http://127.0.0.1:8080", "enable": true}),
    )?;
    a.post(
        "/actions",
        json!({"type": "http", "name": "hook", "connector": "hook",
            "parameters": {"method": "post", "path": "/"}}),
    )?;
    a.post(
        "/rules",
        json!({"id": "demo_rule", "sql": "SELECT * FROM \"alice/#\"", "actions": ["http:hook"]}),
    )?;

    let mut listeners = a
        .get("/configs/listeners")
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    listeners["ssl"]["default"] = json!({
        "bind": "0.0.0.0:8883",
        "enable": true,
        "ssl_options": {"cacertfile": tls.ca, "certfile": tls.cert, "keyfile": tls.key,
            "verify": "verify_peer", "fail_if_no_peer_cert": false}
    });
    a.put("/configs/listeners", listeners)?;

    Ok(vec![
        "authn      password users alice and bob (bcrypt, 10 rounds), SCRAM user scram-user (SHA-512, 4096 iterations)".into(),
        "authz      2 ACL rules for alice, 1 rule for all clients".into(),
        "banned     clientid mallory, username spam-bot".into(),
        format!("psk        {} identities loaded from {}", PSK_IDS.len(), psk_file.display()),
        format!("dashboard  account {} (EMQX's salted SHA-256), API key ci", OPERATOR.0),
        "rules      connector http:hook, action http:hook, rule demo_rule".into(),
        "listeners  ssl:default on 8883 with a CA, a server certificate and its key (inline PEM, written under certs/ by the node)".into(),
    ])
}

/// Node B: its own data, some of it overlapping A's. Returns what went in.
pub fn node_b(b: &SimNode) -> anyhow::Result<Vec<String>> {
    b.post("/authentication", bcrypt_authenticator())?;
    b.post(
        PASSWORD_USERS,
        json!({"user_id": "carol", "password": "carol-pass"}),
    )?;
    b.post(
        PASSWORD_USERS,
        json!({"user_id": "alice", "password": "old-pass"}),
    )?;
    b.post(
        "/banned",
        json!({"as": "clientid", "who": "spammer", "reason": "B's own", "until": "2099-01-01T00:00:00Z"}),
    )?;
    b.post(
        "/users",
        json!({"username": "auditor", "password": "auditor-pass1", "description": "B's own"}),
    )?;
    Ok(vec![
        "authn      users carol, and alice with another password".into(),
        "banned     clientid spammer".into(),
        "dashboard  account auditor".into(),
    ])
}
