use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_certs::scan::{hex16, would_write, Opt};
use emqx_backup_plugin_certs::{findings, Certs};
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{section_for, view_of};
use emqx_backup_plugin_sdk::testing::{check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, SectionOut};
use proptest::prelude::*;
use rcgen::{date_time_ymd, CertificateParams, DistinguishedName, DnType, KeyPair};
use serde_json::{json, Map, Value};

/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;

fn at_now() -> Options {
    Options {
        now: Some(NOW),
        ..Options::default()
    }
}

fn fixture(name: &str) -> SectionOut {
    let path = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap();
    let contents = Contents::read(&path, &Limits::default()).unwrap();
    section_for(&Certs.manifest(), &contents)
}

fn section(config: Value) -> SectionOut {
    let Value::Object(config) = config else {
        panic!("config must be an object")
    };
    SectionOut {
        entries: vec![],
        config,
    }
}

fn item<'a>(records: &'a Records, path: &str) -> &'a Value {
    records
        .items
        .iter()
        .find(|i| i["path"] == path)
        .unwrap_or_else(|| panic!("no item at {path}"))
}

#[test]
fn every_real_archive_decodes() {
    let mut total = 0;
    for path in emqx_backup_tests::fixture_archives() {
        let contents = Contents::read(&path, &Limits::default()).unwrap();
        let section = section_for(&Certs.manifest(), &contents);
        let records = Certs.decode(&view_of(&section), &at_now()).unwrap();
        assert!(records.tables.is_empty() && records.config.is_empty());
        for item in &records.items {
            let text = item.to_string();
            assert!(!text.contains("-----BEGIN"), "PEM leaked into {text}");
            assert!(item.get("error").is_none(), "{}: {text}", path.display());
        }
        total += records.items.len();
        let problems = Certs.validate(&view_of(&section), &at_now());
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        let plan = Certs
            .merge(
                &view_of(&SectionOut::default()),
                &view_of(&section),
                &at_now(),
            )
            .unwrap()
            .plan;
        assert!(plan.scopes.is_empty());
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }
    assert_eq!(total, 51);
}

#[test]
fn bootstrap_fixture_items() {
    let section = fixture("emqx-export-test-bootstrap-ce.tar.gz");
    let records = Certs.decode(&view_of(&section), &at_now()).unwrap();
    assert_eq!(records.items.len(), 51);
    let count = |kind: &str, form: &str| {
        records
            .items
            .iter()
            .filter(|i| i["kind"] == kind && i["form"] == form)
            .count()
    };
    assert_eq!(count("cert", "inline"), 15);
    assert_eq!(count("key", "inline"), 15);
    assert_eq!(count("cacert", "inline"), 15);
    assert_eq!(
        count("cert", "file") + count("key", "file") + count("cacert", "file"),
        6
    );

    let cert = item(&records, "authentication[3].ssl.certfile");
    assert_eq!(cert["subject"], "C=CN, ST=hangzhou, O=EMQ, CN=Client");
    assert_eq!(cert["issuer"], "C=CN, ST=hangzhou, O=EMQ, CN=RootCA");
    assert_eq!(cert["not_before"], "2020-05-08T08:06:57Z");
    assert_eq!(cert["not_after"], "2030-05-06T08:06:57Z");
    assert_eq!(cert["key_type"], "rsa 2048");
    assert_eq!(cert["owner"], "authn/mqtt-global-password_based-mysql");
    let key = item(&records, "authentication[3].ssl.keyfile");
    assert_eq!(key["key_format"], "pkcs1");
    assert_eq!(key["public_key_sha256"], cert["public_key_sha256"]);

    let ca = item(&records, "authorization.sources[0].ssl.cacertfile");
    assert_eq!(ca["subject"], "C=CN, ST=hangzhou, O=EMQ, CN=RootCA");
    assert_eq!(ca["ca"], true);
    assert_eq!(ca["owner"], "authz/mysql");

    // The would-be file name is EMQX's: md5 over SubDir, name and the PEM exactly as in config.
    let pem = section.config["listeners"]["ssl"]["test"]["ssl_options"]["certfile"]
        .as_str()
        .unwrap();
    let ww = item(&records, "listeners.ssl.test.ssl_options.certfile");
    assert_eq!(
        ww["would_write"],
        format!(
            "certs/listeners/ssl/test/cert-{}",
            hex16("listeners/ssl/test", "cert", pem)
        )
    );
    assert_eq!(ww["subject"], "C=CN, ST=hangzhou, O=EMQ, CN=Server");

    let stock = item(&records, "listeners.ssl.default.ssl_options.certfile");
    assert_eq!(stock["form"], "file");
    assert_eq!(stock["file"], "${EMQX_ETC_DIR}/certs/cert.pem");
    assert!(stock.get("would_write").is_none());

    for (path, owner) in [
        ("connectors.mqtt.test.ssl.certfile", "connectors/mqtt/test"),
        ("exhook.servers[0].ssl.certfile", "exhook/test"),
        (
            "gateway.coap.authentication.ssl.certfile",
            "authn/coap-global-password_based-redis",
        ),
        (
            "gateway.coap.listeners.dtls.test.dtls_options.certfile",
            "coap",
        ),
        (
            "gateway.exproto.server.ssl_options.certfile",
            "exproto/server",
        ),
        (
            "listeners.tcp.test_clean.authentication[1].ssl.certfile",
            "authn/tcp-test_clean-password_based-mongodb",
        ),
    ] {
        assert_eq!(item(&records, path)["owner"], owner, "{path}");
    }
}

#[test]
fn hex16_matches_a_hand_computed_md5() {
    // md5("listeners/ssl/default" ++ "cert" ++ PEM) = 6c7c292c7a7fff175b0036d6699f5524
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    assert_eq!(
        hex16("listeners/ssl/default", "cert", pem),
        "6C7C292C7A7FFF17"
    );
    assert_eq!(
        would_write("listeners/ssl/default", Opt::Certfile, pem),
        "certs/listeners/ssl/default/cert-6C7C292C7A7FFF17"
    );
    // md5("authn/mqtt-global-password_based-mysql" ++ "key" ++ "abc") = 7c18cb502771d01c…
    assert_eq!(
        hex16("authn/mqtt-global-password_based-mysql", "key", "abc"),
        "7C18CB502771D01C"
    );
    assert_eq!(Opt::IssuerPem.file_name(), "ocsp_issuer_pem");
    assert_eq!(Opt::Cacertfile.file_name(), "cacert");
}

/// A self-signed certificate valid from 2020 until the given date, and its key.
fn cert(cn: &str, until: (i32, u8, u8)) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(until.0, until.1, until.2);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn codes(config: &Value) -> Vec<(String, String)> {
    let result = Certs
        .merge(
            &view_of(&SectionOut::default()),
            &view_of(&section(config.clone())),
            &at_now(),
        )
        .unwrap();
    assert!(result.plan.scopes.is_empty());
    assert_eq!(result.plan.totals(), (0, 0, 0));
    result
        .plan
        .warnings
        .into_iter()
        .map(|w| (w.code, w.message))
        .collect()
}

#[test]
fn generated_certificates_are_warned_about() {
    let (valid, valid_key) = cert("valid", (2030, 1, 1));
    let (expired, expired_key) = cert("expired", (2025, 6, 1));
    let (expiring, expiring_key) = cert("expiring", (2026, 1, 15));
    let (_, other_key) = cert("other", (2030, 1, 1));
    let config = json!({
        "listeners": {"ssl": {
            "good": {"ssl_options": {"certfile": valid, "keyfile": valid_key}},
            "old": {"ssl_options": {"certfile": expired, "keyfile": expired_key}},
            "soon": {"ssl_options": {"certfile": expiring, "keyfile": expiring_key}},
            "wrong": {"ssl_options": {"certfile": valid, "keyfile": other_key}},
        }}
    });
    let warnings = codes(&config);
    let find = |code: &str| -> Vec<&String> {
        warnings
            .iter()
            .filter(|(c, _)| c == code)
            .map(|(_, m)| m)
            .collect()
    };
    let expired_w = find("certs.expired");
    assert_eq!(expired_w.len(), 1, "{warnings:?}");
    assert!(expired_w[0].starts_with("listeners.ssl.old.ssl_options.certfile: "));
    assert!(expired_w[0].contains("2025-06-01"), "{}", expired_w[0]);
    let expiring_w = find("certs.expiring");
    assert_eq!(expiring_w.len(), 1, "{warnings:?}");
    assert!(expiring_w[0].starts_with("listeners.ssl.soon.ssl_options.certfile: "));
    assert!(expiring_w[0].contains("2026-01-15"));
    let mismatch = find("certs.key_mismatch");
    assert_eq!(mismatch.len(), 1, "{warnings:?}");
    assert!(mismatch[0].starts_with("listeners.ssl.wrong.ssl_options.keyfile: "));
    assert_eq!(warnings.len(), 3, "{warnings:?}");

    // Items describe generated EC keys too, and the good pair's fingerprints agree.
    let records = Certs
        .decode(&view_of(&section(config.clone())), &at_now())
        .unwrap();
    let c = item(&records, "listeners.ssl.good.ssl_options.certfile");
    let k = item(&records, "listeners.ssl.good.ssl_options.keyfile");
    assert_eq!(c["subject"], "CN=valid");
    assert_eq!(c["key_type"], "ec p256");
    assert_eq!(k["key_type"], "ec p256");
    assert_eq!(k["key_format"], "pkcs8");
    assert_eq!(c["public_key_sha256"], k["public_key_sha256"]);
    assert!(k["would_write"]
        .as_str()
        .unwrap()
        .starts_with("certs/listeners/ssl/good/key-"));

    // validate: expiry is a warning, never an error.
    let problems = Certs.validate(&view_of(&section(config)), &at_now());
    assert!(problems.iter().all(|p| p.severity == Severity::Warning));
    assert!(problems
        .iter()
        .any(|p| p.place == "listeners.ssl.old.ssl_options.certfile"));
}

#[test]
fn bad_pem_and_encrypted_keys_are_errors() {
    let (valid, _) = cert("valid", (2030, 1, 1));
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAECAwQF\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let config = json!({
        "authentication": [{
            "mechanism": "password_based", "backend": "mysql",
            "ssl": {"enable": true, "certfile": "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"}
        }],
        "connectors": {"kafka_producer": {"k": {"ssl": {"certfile": valid, "keyfile": encrypted}}}},
        "bridges": {"mqtt": {"b": {"ssl": {"certfile": valid, "keyfile": encrypted, "password": "secret"}}}},
        "exhook": {"servers": [{"name": "x", "ssl": {"enable": false, "certfile": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}}]},
    });
    let problems = Certs.validate(&view_of(&section(config.clone())), &at_now());
    let errors: Vec<_> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 2, "{problems:?}");
    assert_eq!(errors[0].place, "authentication[0].ssl.certfile");
    assert!(errors[0]
        .message
        .starts_with("authentication[0].ssl.certfile: "));
    assert_eq!(errors[1].place, "connectors.kafka_producer.k.ssl.keyfile");
    assert!(errors[1].message.contains("encrypted"));
    // The disabled exhook block is reported, but as a warning.
    assert!(problems
        .iter()
        .any(|p| p.place == "exhook.servers[0].ssl.certfile" && p.severity == Severity::Warning));

    let warnings = codes(&config);
    assert!(warnings
        .iter()
        .any(|(c, m)| c == "certs.bad_pem" && m.starts_with("authentication[0].ssl.certfile")));
    assert!(warnings
        .iter()
        .any(|(c, m)| c == "certs.key_password_missing"
            && m.starts_with("connectors.kafka_producer.k.ssl.keyfile")));

    let records = Certs.decode(&view_of(&section(config)), &at_now()).unwrap();
    let bad = item(&records, "authentication[0].ssl.certfile");
    assert!(bad.get("error").is_some());
    assert!(bad.get("would_write").is_none());
    let key = item(&records, "bridges.mqtt.b.ssl.keyfile");
    assert_eq!(key["encrypted"], true);
    assert_eq!(key["password_set"], true);
    assert!(!key.to_string().contains("secret"));
    assert_eq!(
        item(&records, "exhook.servers[0].ssl.certfile")["enabled"],
        false
    );
}

#[test]
fn files_outside_the_data_dir_are_warned_about() {
    let config = json!({
        "listeners": {"ssl": {"default": {"ssl_options": {
            "cacertfile": "${EMQX_ETC_DIR}/certs/cacert.pem",
            "certfile": "/etc/ssl/mine.pem",
            "keyfile": "data/certs/listeners/ssl/default/key-0011223344556677",
        }}}}
    });
    let warnings = codes(&config);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().any(|(c, m)| c == "certs.external_file"
        && m.starts_with("listeners.ssl.default.ssl_options.certfile")));
    assert!(warnings.iter().any(|(c, m)| c == "certs.missing_data_file"
        && m.starts_with("listeners.ssl.default.ssl_options.keyfile")));
}

#[test]
fn merge_also_looks_at_the_node_after_import() {
    let (expired, expired_key) = cert("expired", (2025, 6, 1));
    let current = section(json!({
        "exhook": {"servers": [{"name": "h", "ssl": {"certfile": expired, "keyfile": expired_key}}]},
        "listeners": {"ssl": {"default": {"ssl_options": {"certfile": expired, "keyfile": expired_key}}}}
    }));
    // The incoming listeners root replaces the node's; exhook stays as the node has it.
    let incoming = section(json!({"listeners": {}}));
    let result = Certs
        .merge(
            &view_of(&current),
            &view_of(&incoming),
            &Options {
                want_merged: true,
                ..at_now()
            },
        )
        .unwrap();
    let w = &result.plan.warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].code, "certs.expired");
    assert!(w[0].message.contains("exhook.servers[0].ssl.certfile"));
    assert_eq!(result.merged, Some(SectionOut::default()));
}

#[test]
fn encode_takes_only_empty_records() {
    check_round_trip::<Certs>(&Records {
        domain: "certs".into(),
        ..Records::default()
    })
    .unwrap();
    let section = fixture("emqx-export-test-bootstrap-ce.tar.gz");
    let records = Certs.decode(&view_of(&section), &at_now()).unwrap();
    let err = Certs.encode(&records, &at_now()).unwrap_err();
    assert!(
        err.0.starts_with("authentication[3].ssl.cacertfile: "),
        "{err}"
    );
    let mut with_root = Records::default();
    with_root.config.insert("listeners".into(), json!({}));
    assert!(Certs.encode(&with_root, &at_now()).is_err());
}

#[test]
fn findings_are_stable_for_the_fixture() {
    let section = fixture("emqx-export-test-bootstrap-ce.tar.gz");
    // Ten years on, every inline certificate of the fixture has expired.
    let later = findings(&section.config, NOW + 5 * 365 * 86_400);
    assert_eq!(
        later.iter().filter(|f| f.code == "certs.expired").count(),
        30
    );
    assert!(later.iter().all(|f| f.code == "certs.expired"));
}

fn tls_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("keyfile".to_owned()),
        Just("certfile".to_owned()),
        Just("cacertfile".to_owned()),
        Just("ocsp".to_owned()),
        Just("issuer_pem".to_owned()),
        Just("sp_public_key".to_owned()),
        Just("sp_private_key".to_owned()),
        Just("password".to_owned()),
        Just("enable".to_owned()),
        Just("ssl".to_owned()),
        Just("listeners".to_owned()),
        Just("authentication".to_owned()),
        Just("mechanism".to_owned()),
        Just("name".to_owned()),
        "[a-z_]{1,6}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(json!(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        )),
        Just(json!(
            "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n"
        )),
        Just(json!(
            "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n"
        )),
        Just(json!(
            "-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n-----END EC PRIVATE KEY-----\n"
        )),
        Just(json!("-----BEGIN CERTIFICATE-----\nMIIB")),
        Just(json!("${EMQX_ETC_DIR}/certs/cert.pem")),
        Just(json!("data/certs/x")),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((tls_key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn config() -> impl Strategy<Value = SectionOut> {
    prop::collection::vec((tls_key(), tree()), 0..5)
        .prop_map(|kv| section(Value::Object(kv.into_iter().collect())))
}

proptest! {
    #[test]
    fn decode_never_panics(s in config()) {
        let records = Certs.decode(&view_of(&s), &at_now()).unwrap();
        for item in &records.items {
            prop_assert!(item["path"].is_string());
        }
        let _ = Certs.validate(&view_of(&s), &at_now());
    }

    #[test]
    fn merge_laws_hold(a in config(), b in config()) {
        check_merge_laws::<Certs>(&a, &b).unwrap();
        let plan = Certs.merge(&view_of(&a), &view_of(&b), &at_now()).unwrap().plan;
        prop_assert!(plan.scopes.is_empty());
    }
}
