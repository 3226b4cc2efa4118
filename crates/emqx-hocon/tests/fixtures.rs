//! The META.hocon and cluster.hocon files of backups written by real EMQX nodes: they parse,
//! hold the expected values, and print to text that reads back to the same tree.

use std::path::PathBuf;

use emqx_hocon::{parse, to_string, Object, Value};

const ARCHIVES: [&str; 5] = [
    "emqx-export-bad-upload",
    "emqx-export-ce-retained-msgs-test",
    "emqx-export-test-bootstrap-ce",
    "emqx-export-upload-ce",
    "emqx-export-upload-ee",
];

fn read(archive: &str, file: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        archive,
        file,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(archive: &str, file: &str) -> Object {
    parse(&read(archive, file)).unwrap_or_else(|e| panic!("{archive}/{file}: {e}"))
}

/// Follows a path like `authorization.sources[1].rules`.
fn at<'a>(root: &'a Object, path: &str) -> &'a Value {
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or_default();
    let mut current: Option<&Value> = None;
    for segment in std::iter::once(first).chain(segments) {
        let (key, index) = match segment.split_once('[') {
            Some((key, rest)) => (
                key,
                Some(rest.trim_end_matches(']').parse::<usize>().unwrap()),
            ),
            None => (segment, None),
        };
        let object = match current {
            None => root,
            Some(v) => v
                .as_object()
                .unwrap_or_else(|| panic!("{path}: not an object before {key}")),
        };
        let mut value = object
            .get(key)
            .unwrap_or_else(|| panic!("{path}: no {key}"));
        if let Some(i) = index {
            value = &value
                .as_array()
                .unwrap_or_else(|| panic!("{path}: {key} is not an array"))[i];
        }
        current = Some(value);
    }
    current.unwrap()
}

fn str_at<'a>(root: &'a Object, path: &str) -> &'a str {
    at(root, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn assert_keys_sorted(text: &str) {
    // Each block of sibling fields is at one indentation; check them line by line per depth.
    let mut stack: Vec<Option<String>> = vec![None];
    let mut in_triple = false;
    for line in text.lines() {
        if in_triple {
            in_triple = !line.ends_with("~\"\"\"") && !line.contains("\"\"\"");
            continue;
        }
        if line.matches("\"\"\"").count() == 1 {
            in_triple = true;
        }
        let indent = line.len() - line.trim_start().len();
        let depth = indent / 2;
        stack.truncate(depth + 1);
        while stack.len() < depth + 1 {
            stack.push(None);
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with(['}', ']', '{']) {
            continue;
        }
        let key = match trimmed.find(" = ").or_else(|| trimmed.find(" {")) {
            Some(end) => trimmed[..end].trim_matches('"').to_owned(),
            None => continue,
        };
        if let Some(previous) = &stack[depth] {
            assert!(previous < &key, "{previous:?} printed before {key:?}");
        }
        stack[depth] = Some(key);
    }
}

#[test]
fn every_file_parses_and_round_trips() {
    for archive in ARCHIVES {
        for file in ["META.hocon", "cluster.hocon"] {
            let tree = load(archive, file);
            assert!(!tree.is_empty(), "{archive}/{file}");
            let printed = to_string(&tree);
            assert!(printed.ends_with('\n'));
            let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{archive}/{file}: {e}"));
            assert_eq!(reparsed, tree, "{archive}/{file}");
            assert_eq!(
                to_string(&reparsed),
                printed,
                "{archive}/{file}: not a fixed point"
            );
            assert_keys_sorted(&printed);
        }
    }
}

#[test]
fn root_keys_print_sorted() {
    let tree = load("emqx-export-upload-ee", "cluster.hocon");
    let printed = to_string(&tree);
    let top: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(|l| l.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(
        top,
        [
            "actions",
            "authentication",
            "authorization",
            "bridges",
            "connectors",
            "rule_engine"
        ]
    );
    // The tree itself keeps the source order.
    let tree = load("emqx-export-test-bootstrap-ce", "cluster.hocon");
    assert_eq!(
        tree.keys().take(4).collect::<Vec<_>>(),
        [
            "authentication",
            "authorization",
            "auto_subscribe",
            "actions"
        ]
    );
    assert!(to_string(&tree).starts_with("actions {\n"));
}

#[test]
fn meta_files() {
    for (archive, edition, version) in [
        ("emqx-export-bad-upload", "ce", "5.3.1"),
        ("emqx-export-ce-retained-msgs-test", "ce", "5.7.0-g830266b4"),
        (
            "emqx-export-test-bootstrap-ce",
            "ce",
            "5.1.0-alpha.3-ga9d63c69",
        ),
        ("emqx-export-upload-ce", "ce", "5.3.1"),
        ("emqx-export-upload-ee", "ee", "5.3.1"),
    ] {
        let meta = load(archive, "META.hocon");
        assert_eq!(str_at(&meta, "edition"), edition, "{archive}");
        assert_eq!(str_at(&meta, "version"), version, "{archive}");
        assert_eq!(meta.len(), 2);
    }
}

#[test]
fn upload_ce_values() {
    let t = load("emqx-export-upload-ce", "cluster.hocon");
    assert_eq!(
        t.keys().collect::<Vec<_>>(),
        ["authentication", "authorization", "bridges"]
    );
    assert_eq!(
        str_at(&t, "authentication[0].password_hash_algorithm.name"),
        "sha256"
    );
    assert_eq!(str_at(&t, "authentication[0].backend"), "built_in_database");
    assert_eq!(at(&t, "authorization.cache.enable"), &Value::Bool(true));
    assert_eq!(at(&t, "authorization.cache.max_size"), &Value::Int(32));
    assert_eq!(str_at(&t, "authorization.cache.ttl"), "1m");
    assert_eq!(
        str_at(&t, "authorization.sources[0].type"),
        "built_in_database"
    );
    let rules = str_at(&t, "authorization.sources[1].rules");
    assert!(rules.starts_with("%%---"), "{rules}");
    assert!(rules.contains("{allow, {username, {re, \"^dashboard$\"}}, subscribe, [\"$SYS/#\"]}."));
    assert!(rules.ends_with("{allow, all}.\n"));
    assert_eq!(rules.lines().count(), 32);
    assert_eq!(
        str_at(&t, "bridges.webhook.test.resource_opts.max_buffer_bytes"),
        "1GB"
    );
    assert_eq!(str_at(&t, "bridges.webhook.test.connect_timeout"), "15s");
    assert_eq!(
        str_at(&t, "bridges.webhook.test.headers.content-type"),
        "application/json"
    );
    assert_eq!(
        str_at(&t, "bridges.webhook.test.url"),
        "http://no.such.host"
    );
    assert_eq!(
        at(&t, "bridges.webhook.test.enable_pipelining"),
        &Value::Int(100)
    );
    assert_eq!(str_at(&t, "bridges.webhook.test.ssl.verify"), "verify_peer");
}

#[test]
fn upload_ee_values() {
    let t = load("emqx-export-upload-ee", "cluster.hocon");
    assert_eq!(
        str_at(
            &t,
            "actions.kafka_producer.test.kafka.buffer.per_partition_limit"
        ),
        "2GB"
    );
    assert_eq!(
        str_at(&t, "actions.kafka_producer.test.kafka.max_batch_bytes"),
        "896KB"
    );
    assert_eq!(
        str_at(&t, "actions.kafka_producer.test.kafka.message.key"),
        "${.clientid}"
    );
    assert_eq!(
        str_at(
            &t,
            "connectors.kafka_producer.connector_test.bootstrap_hosts"
        ),
        "no.such.host:9092"
    );
    assert_eq!(
        at(&t, "rule_engine.rules.rule_rk1g.actions"),
        &Value::Array(vec![Value::String("kafka:test".into())])
    );
    assert_eq!(str_at(&t, "rule_engine.rules.rule_rk1g.description"), "");
    assert_eq!(
        str_at(&t, "rule_engine.rules.rule_rk1g.sql"),
        "SELECT\n  *\nFROM\n  \"t/#\""
    );
    assert_eq!(
        at(&t, "rule_engine.rules.rule_rk1g.metadata.created_at"),
        &Value::Int(1700823461686)
    );
}

#[test]
fn bad_upload_is_valid_hocon() {
    let t = load("emqx-export-bad-upload", "cluster.hocon");
    assert_eq!(str_at(&t, "authentication[0].backend"), "no_such_backend");
    assert_eq!(str_at(&t, "authorization.deny_action"), "unknown_action");
    assert!(at(&t, "bridges.unknown.test").as_object().is_some());
}

#[test]
fn retained_msgs_values() {
    let t = load("emqx-export-ce-retained-msgs-test", "cluster.hocon");
    assert_eq!(str_at(&t, "retainer.backend.storage_type"), "disc");
    assert_eq!(at(&t, "retainer.enable"), &Value::Bool(true));
    assert_eq!(
        to_string(&t),
        "retainer {\n  backend {storage_type = disc}\n  enable = true\n}\n"
    );
}

#[test]
fn bootstrap_ce_values() {
    let t = load("emqx-export-test-bootstrap-ce", "cluster.hocon");
    assert_eq!(
        at(&t, "authentication[1].secret_base64_encoded"),
        &Value::Bool(false)
    );
    assert_eq!(str_at(&t, "authentication[1].algorithm"), "hmac-based");
    assert_eq!(
        at(&t, "authentication[1].verify_claims"),
        &Value::Object(Object::new())
    );
    let cacert = str_at(&t, "authentication[3].ssl.cacertfile");
    assert!(
        cacert.starts_with("-----BEGIN CERTIFICATE-----\nMIID"),
        "{cacert}"
    );
    assert!(cacert.ends_with("-----END CERTIFICATE-----\n"));
    let key = str_at(&t, "authentication[3].ssl.keyfile");
    assert!(key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert_eq!(
        str_at(&t, "authentication[3].query"),
        "SELECT password_hash, salt FROM mqtt_user where username = ${username} LIMIT 1"
    );
    assert_eq!(
        str_at(&t, "authorization.sources[6].headers.content-type"),
        "application/json"
    );
    assert_eq!(at(&t, "mqtt.keepalive_multiplier"), &Value::Float(1.5));
    assert_eq!(at(&t, "mqtt.mqueue_store_qos0"), &Value::Bool(true));
    assert_eq!(at(&t, "rewrite"), &Value::Array(vec![]));
    assert_eq!(at(&t, "prometheus.headers"), &Value::Object(Object::new()));
    assert_eq!(
        str_at(&t, "prometheus.job_name"),
        "${name}/instance/${name}~${host}"
    );
    assert_eq!(
        at(&t, "rule_engine.rules.rule_lw6g.actions"),
        &Value::Array(vec![])
    );
    assert_eq!(str_at(&t, "listeners.ssl.default.bind"), "0.0.0.0:8883");
    assert_eq!(
        at(&t, "listeners.ssl.default.max_connections"),
        &Value::Int(5000000)
    );

    let printed = to_string(&t);
    // Keys that need no quotes lose them; PEMs become indented triple-quoted strings.
    assert!(printed.contains("\n    secret_base64_encoded = false\n"));
    assert!(printed.contains("\n    headers {content-type = \"application/json\"}\n"));
    assert!(printed.contains("\n    rule_6otf {\n"));
    assert!(printed.contains(
        "\n      cacertfile = \"\"\"~\n        -----BEGIN CERTIFICATE-----\n        MIID"
    ));
    assert!(printed.contains("\n        -----END CERTIFICATE-----\n      ~\"\"\"\n"));
}

#[test]
#[should_panic(expected = "printed before")]
fn the_sorted_keys_check_catches_unsorted_text() {
    assert_keys_sorted("a {\n  y = 1\n  x = 2\n}\n");
}
