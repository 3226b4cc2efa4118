//! Restored data enforced over MQTT, checked with `rumqttc` clients of both protocol versions:
//! the real EMQX archive's users, bans and ACLs; users of every hash algorithm seeded through
//! the REST API, exported and restored into a second node; the users an import locks out by
//! changing the salt position; TLS with the listener certificates an import restored; and the
//! `emqx-sim start` binary's listener.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const CE: &str = "emqx-export-upload-ce.tar.gz";
const USER: (&str, &str) = ("authn-user-1", "authn-user-1");
/// How long to wait for a message that must not come.
const QUIET: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_archive_is_enforced() {
    let s = Sim::start().await;
    s.import(&fixture(CE)).await;

    // Authentication: the archive's sha256/suffix user.
    assert!(Client3::connect(s.mqtt, "c3", Some(USER)).await.is_ok());
    assert!(Client5::connect(s.mqtt, "c5", Some(USER)).await.is_ok());
    let wrong = Some((USER.0, "wrong"));
    assert_eq!(
        Client3::connect(s.mqtt, "c3", wrong).await.err(),
        Some(Connack::Refused(4))
    );
    assert_eq!(
        Client5::connect(s.mqtt, "c5", wrong).await.err(),
        Some(Connack::Refused(0x86))
    );
    let stranger = Some(("nobody", "x"));
    assert_eq!(
        Client3::connect(s.mqtt, "c3", stranger).await.err(),
        Some(Connack::Refused(5))
    );
    assert_eq!(
        Client5::connect(s.mqtt, "c5", stranger).await.err(),
        Some(Connack::Refused(0x87))
    );

    // Bans: the archive's ended in 2023 and 2024, so those clients are let in.
    let bans = s.node.store.read(|tx| tx.scan("emqx_banned")).unwrap();
    assert_eq!(bans.len(), 3);
    let now = chrono_now();
    for b in &bans {
        let until = b.as_tuple().unwrap()[5].as_i64().unwrap();
        assert!((1_700_000_000..now).contains(&until), "{b}");
    }
    for id in ["banned-1", "banned-2", "banned-3"] {
        assert!(
            Client5::connect(s.mqtt, id, Some(USER)).await.is_ok(),
            "{id}"
        );
        assert!(
            Client3::connect(s.mqtt, id, Some(USER)).await.is_ok(),
            "{id}"
        );
    }
    // Bans seeded with a future `until` are refused: 0x8A (MQTT 5), 5 (3.1.1).
    s.api(
        "POST",
        "/banned",
        Some(json!({"as": "clientid", "who": "banned-future", "until": "2099-01-01T00:00:00Z"})),
    )
    .await;
    s.api(
        "POST",
        "/banned",
        Some(json!({"as": "clientid_re", "who": "^evil-", "until": "2099-01-01T00:00:00Z"})),
    )
    .await;
    for id in ["banned-future", "evil-1"] {
        assert_eq!(
            Client5::connect(s.mqtt, id, Some(USER)).await.err(),
            Some(Connack::Refused(0x8A)),
            "{id}"
        );
        assert_eq!(
            Client3::connect(s.mqtt, id, Some(USER)).await.err(),
            Some(Connack::Refused(5)),
            "{id}"
        );
    }
    assert!(
        Client5::connect(s.mqtt, "good-evil-1", Some(USER))
            .await
            .is_ok(),
        "regex is not anchored at the end"
    );

    // Authorization: the built-in database allows authn-user-1 `authn-user-1-allowed` and
    // denies `authn-user-1-denied`; the file source then lets 127.0.0.1 do everything.
    let mut watcher = Client5::connect(s.mqtt, "watcher", Some(USER))
        .await
        .unwrap();
    assert_eq!(watcher.subscribe("#").await, 1);
    assert_eq!(watcher.subscribe("authn-user-1-denied").await, 0x87);
    let mut p5 = Client5::connect(s.mqtt, "pub5", Some(USER)).await.unwrap();
    assert_eq!(p5.publish("authn-user-1-denied", "no").await, 0x87);
    assert_eq!(p5.publish("authn-user-1-allowed", "yes5").await, 0);
    let mut p3 = Client3::connect(s.mqtt, "pub3", Some(USER)).await.unwrap();
    assert_eq!(p3.subscribe("authn-user-1-denied").await, 0x80);
    p3.publish("authn-user-1-denied", "no").await;
    p3.publish("authn-user-1-allowed", "yes3").await;
    let got = watcher.received(QUIET).await;
    assert_eq!(
        got,
        [
            ("authn-user-1-allowed".to_owned(), "yes5".to_owned()),
            ("authn-user-1-allowed".to_owned(), "yes3".to_owned())
        ]
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Every hash algorithm and salt position. Users of plain and of `disable` have an empty salt
/// and so verify under any position of the same hash, in EMQX too: consecutive entries
/// differ in the hash so that the previous user is locked out.
fn algorithms() -> Vec<Value> {
    vec![
        json!({"name": "plain", "salt_position": "disable"}),
        json!({"name": "md5", "salt_position": "prefix"}),
        json!({"name": "plain", "salt_position": "suffix"}),
        json!({"name": "md5", "salt_position": "suffix"}),
        json!({"name": "sha", "salt_position": "disable"}),
        json!({"name": "sha256", "salt_position": "prefix"}),
        json!({"name": "sha", "salt_position": "suffix"}),
        json!({"name": "sha512", "salt_position": "disable"}),
        json!({"name": "sha256", "salt_position": "suffix"}),
        json!({"name": "sha512", "salt_position": "prefix"}),
        json!({"name": "pbkdf2", "mac_fun": "sha256", "iterations": 1000, "dk_length": 32}),
        json!({"name": "pbkdf2", "mac_fun": "sha512", "iterations": 10}),
        json!({"name": "bcrypt", "salt_rounds": 5}),
    ]
}

const AUTHN: &str = "/authentication/password_based:built_in_database";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_seeded_data_restored_into_a_second_node() {
    let a = Sim::start().await;
    let b = Sim::start().await;
    a.api(
        "POST",
        "/authentication",
        Some(password_db(json!({"name": "sha256"}))),
    )
    .await;
    a.api(
        "PUT",
        "/configs/authorization",
        Some(json!({"no_match": "deny", "deny_action": "ignore",
                    "sources": [{"type": "built_in_database", "enable": true}]})),
    )
    .await;
    let rules = "/authorization/sources/built_in_database/rules";
    a.api(
        "POST",
        &format!("{rules}/all"),
        Some(json!({"rules": [
            {"topic": "own/${username}/#", "permission": "allow", "action": "all"},
            {"topic": "public/#", "permission": "allow", "action": "subscribe"},
        ]})),
    )
    .await;

    // One user per algorithm: seeded on a, exported, restored into b, checked on b.
    let mut previous: Option<(String, String)> = None;
    for (i, alg) in algorithms().into_iter().enumerate() {
        a.api("PUT", AUTHN, Some(password_db(alg.clone()))).await;
        let (user, pw) = (format!("user-{i}"), format!("pw-{i}"));
        a.api(
            "POST",
            &format!("{AUTHN}/users"),
            Some(json!({"user_id": user, "password": pw})),
        )
        .await;
        let archive = a.export().await;
        b.import(&archive).await;
        assert!(
            Client5::connect(b.mqtt, "c", Some((&user, &pw)))
                .await
                .is_ok(),
            "{alg}"
        );
        assert!(
            Client3::connect(b.mqtt, "c", Some((&user, &pw)))
                .await
                .is_ok(),
            "{alg}"
        );
        assert_eq!(
            Client5::connect(b.mqtt, "c", Some((&user, "not-it")))
                .await
                .err(),
            Some(Connack::Refused(0x86)),
            "{alg}"
        );
        if let Some((u, p)) = &previous {
            // Hashed under the previous algorithm, which no longer applies.
            assert_eq!(
                Client5::connect(b.mqtt, "c", Some((u, p))).await.err(),
                Some(Connack::Refused(0x86)),
                "{u} under {alg}"
            );
        }
        previous = Some((user, pw));
    }
    let (user, pw) = previous.unwrap();
    a.api(
        "POST",
        &format!("{AUTHN}/users"),
        Some(json!({"user_id": "root", "password": "root-pw", "is_superuser": true})),
    )
    .await;
    b.import(&a.export().await).await;

    // The rules came along: ${username} rendered, no_match = deny, superusers skip them.
    let mut c = Client5::connect(b.mqtt, "c", Some((&user, &pw)))
        .await
        .unwrap();
    assert_eq!(
        c.publish(&format!("own/{user}/x"), "mine").await,
        0x10,
        "allowed, no subscriber"
    );
    assert_eq!(c.publish("own/someone-else/x", "theirs").await, 0x87);
    assert_eq!(
        c.publish("public/x", "p").await,
        0x87,
        "public/# is subscribe only"
    );
    assert_eq!(c.subscribe("public/#").await, 1);
    assert_eq!(c.subscribe("secret/#").await, 0x87);
    let mut root = Client5::connect(b.mqtt, "root", Some(("root", "root-pw")))
        .await
        .unwrap();
    assert_eq!(root.publish("public/news", "hello").await, 0);
    assert_eq!(
        c.received(QUIET).await,
        [("public/news".to_owned(), "hello".to_owned())]
    );

    // deny_action = disconnect: a denied publish closes the connection, with DISCONNECT 0x87
    // to an MQTT 5 client.
    b.api(
        "PUT",
        "/configs/authorization",
        Some(json!({"no_match": "deny", "deny_action": "disconnect",
                    "sources": [{"type": "built_in_database", "enable": true}]})),
    )
    .await;
    c.publish0("secret/x", "no").await;
    assert_eq!(c.disconnected(WAIT).await, Some(0x87));
    let mut c3 = Client3::connect(b.mqtt, "c3", Some((&user, &pw)))
        .await
        .unwrap();
    c3.client
        .publish("secret/x", rumqttc::QoS::AtMostOnce, false, b"no".to_vec())
        .await
        .unwrap();
    assert!(c3.closed(WAIT).await, "3.1.1 clients are just disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_salt_position_change_locks_out_the_users_the_plan_warned_about() {
    let s = Sim::start().await;
    s.api(
        "POST",
        "/authentication",
        Some(password_db(
            json!({"name": "sha256", "salt_position": "prefix"}),
        )),
    )
    .await;
    for (u, p) in [
        ("old-1", "pw-1"),
        ("old-2", "pw-2"),
        ("authn-user-1", "local-pw"),
    ] {
        s.api(
            "POST",
            &format!("{AUTHN}/users"),
            Some(json!({"user_id": u, "password": p})),
        )
        .await;
        assert!(
            Client5::connect(s.mqtt, "c", Some((u, p))).await.is_ok(),
            "{u} before"
        );
    }
    let report = s.import(&fixture(CE)).await;
    let warned = Sim::warnings(&report, "authn.hash_algorithm_changed");
    assert_eq!(warned.len(), 1, "{:?}", report.plans);
    assert_eq!(
        warned[0].0,
        Some(2),
        "old-1 and old-2 are kept, authn-user-1 is replaced"
    );
    assert!(
        warned[0].1.contains("sha256/prefix -> sha256/suffix"),
        "{}",
        warned[0].1
    );
    for (u, p) in [("old-1", "pw-1"), ("old-2", "pw-2")] {
        assert_eq!(
            Client5::connect(s.mqtt, "c", Some((u, p))).await.err(),
            Some(Connack::Refused(0x86)),
            "{u} after"
        );
        assert_eq!(
            Client3::connect(s.mqtt, "c", Some((u, p))).await.err(),
            Some(Connack::Refused(4)),
            "{u} after"
        );
    }
    assert!(Client5::connect(s.mqtt, "c", Some(USER)).await.is_ok());
    assert_eq!(
        Client5::connect(s.mqtt, "c", Some(("authn-user-1", "local-pw")))
            .await
            .err(),
        Some(Connack::Refused(0x86)),
        "the archive's row replaced the node's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_serves_the_certificates_an_import_restored() {
    let (ca, cert, key) = test_certs();
    let a = Sim::start().await;
    let b = Sim::start().await;
    a.api(
        "PUT",
        "/configs/listeners",
        Some(
            json!({"ssl": {"default": {"bind": "0.0.0.0:8883", "enable": true,
            "ssl_options": {"certfile": cert, "keyfile": key, "cacertfile": ca}}}}),
        ),
    )
    .await;
    a.api(
        "POST",
        "/authentication",
        Some(password_db(json!({"name": "sha512"}))),
    )
    .await;
    a.api(
        "POST",
        &format!("{AUTHN}/users"),
        Some(json!({"user_id": "tls-user", "password": "tls-pw"})),
    )
    .await;
    b.import(&a.export().await).await;

    let listeners = b
        .node
        .store
        .read(|tx| tx.config("listeners"))
        .unwrap()
        .unwrap();
    let certfile = listeners["ssl"]["default"]["ssl_options"]["certfile"]
        .as_str()
        .unwrap()
        .to_owned();
    let data_dir = b.node.info.data_dir.to_string_lossy().into_owned();
    assert!(
        certfile.starts_with(&format!("{data_dir}/certs/")),
        "{certfile}"
    );
    assert_eq!(std::fs::read_to_string(&certfile).unwrap(), cert);

    let login = Some(("tls-user", "tls-pw"));
    let tls = || Some(tls_transport(&ca));
    let mut c5 = Client5::connect_with(b.mqtts, "t5", login, tls())
        .await
        .unwrap();
    assert_eq!(c5.subscribe("t/#").await, 1);
    let mut c3 = Client3::connect_with(b.mqtts, "t3", login, tls())
        .await
        .unwrap();
    c3.publish("t/1", "over tls").await;
    assert_eq!(
        c5.received(QUIET).await,
        [("t/1".to_owned(), "over tls".to_owned())]
    );
    assert_eq!(
        Client5::connect_with(b.mqtts, "t", Some(("tls-user", "no")), tls())
            .await
            .err(),
        Some(Connack::Refused(0x86))
    );
}

#[test]
fn emqx_sim_start_serves_mqtt_and_names_its_port() {
    use std::process::{Command, Stdio};
    let bin = emqx_backup_tests::plugins::build()
        .join(format!("emqx-sim{}", std::env::consts::EXE_SUFFIX));
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut child = Command::new(&bin)
        .arg("start")
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--plugin-dir")
        .arg(emqx_backup_tests::plugins::build())
        .args(["--listen", "127.0.0.1:0", "--mqtt-bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("emqx-sim starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let node: Value = loop {
        if let Some(v) = std::fs::read(data_dir.join("node.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            break v;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("emqx-sim exited early: {status}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no node.json after 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let addr: std::net::SocketAddr = node["mqtt"]
        .as_str()
        .expect("node.json names mqtt")
        .parse()
        .unwrap();
    assert_ne!(addr.port(), 0);
    assert!(
        node["mqtts"].is_null(),
        "no TLS listener without --mqtts-bind"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(async {
        // A fresh node has no authenticator: everyone is let in, and no_match allows.
        let mut c = Client5::connect(addr, "anyone", None).await.unwrap();
        assert_eq!(c.subscribe("hello/#").await, 1);
        assert_eq!(c.publish("hello/world", "hi").await, 0);
        c.received(QUIET).await
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, [("hello/world".to_owned(), "hi".to_owned())]);
}
