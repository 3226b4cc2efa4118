use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_config::{
    Config, CLUSTER_WIDE, DURABLE_SESSIONS_ENABLE, LISTENER_BIND_CHANGED, LISTENER_DISABLED,
    NOT_REPLACED, ROOT_REPLACED,
};
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{config_for, section_for, view_of};
use emqx_backup_plugin_sdk::testing::{check_archive, check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{MergeResult, Options, Records, SectionOut};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn fixture(name: &str) -> Contents {
    let path = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap();
    Contents::read(&path, &Limits::default()).unwrap()
}

fn section(config: Value) -> SectionOut {
    SectionOut {
        entries: vec![],
        config: config.as_object().unwrap().clone(),
    }
}

fn merge(current: &SectionOut, incoming: &SectionOut) -> MergeResult {
    let options = Options {
        want_merged: true,
        ..Options::default()
    };
    Config
        .merge(&view_of(current), &view_of(incoming), &options)
        .unwrap()
}

fn merged(current: Value, incoming: Value) -> (MergeResult, Value) {
    let result = merge(&section(current), &section(incoming));
    let config = Value::Object(result.merged.clone().unwrap().config);
    (result, config)
}

fn warnings(result: &MergeResult, code: &str) -> Vec<String> {
    result
        .plan
        .warnings
        .iter()
        .filter(|w| w.code == code)
        .map(|w| w.message.clone())
        .collect()
}

#[test]
fn every_real_archive_decodes_and_round_trips() {
    let mut items = 0;
    for path in emqx_backup_tests::fixture_archives() {
        let checked = check_archive::<Config>(&path).unwrap();
        items += checked.records.items.len();
        let problems = &checked.problems;
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        // Importing an archive into itself changes nothing.
        let result = merge(&checked.section, &checked.section);
        assert_eq!(result.plan.totals().0 + result.plan.totals().1, 0);
        assert!(
            result.plan.warnings.is_empty(),
            "{:?}",
            result.plan.warnings
        );
    }
    assert!(items > 0);
}

#[test]
fn readable_items_of_the_bootstrap_archive() {
    let contents = fixture("emqx-export-test-bootstrap-ce.tar.gz");
    let section = section_for(&Config.manifest(), &contents);
    let records = Config
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    let items = &records.items;
    assert!(items.contains(
        &json!({"kind": "listener", "type": "ssl", "name": "default",
        "bind": "0.0.0.0:8883", "enable": true})
    ));
    assert!(items.contains(
        &json!({"kind": "listener", "type": "tcp", "name": "test_clean",
        "bind": "0.0.0.0:2221", "enable": true})
    ));
    assert_eq!(items.iter().filter(|i| i["kind"] == "listener").count(), 6);
    let coap = items
        .iter()
        .find(|i| i["kind"] == "gateway" && i["name"] == "coap")
        .unwrap();
    assert_eq!(coap["enable"], json!(true));
    assert_eq!(
        coap["listeners"],
        json!([{"type": "dtls", "name": "test", "bind": "0.0.0.0:1111"},
               {"type": "udp", "name": "default", "bind": "0.0.0.0:5683"}])
    );
    assert!(items
        .iter()
        .any(|i| i["kind"] == "gateway" && i["name"] == "exproto"));
}

#[test]
fn the_dotted_root_is_selected_under_its_dotted_name() {
    let config = json!({"cluster": {"name": "emqx", "links": [{"name": "b"}]}, "node": {}});
    let selected = config_for(&Config.manifest(), config.as_object().unwrap());
    assert_eq!(
        Value::Object(selected),
        json!({"cluster.links": [{"name": "b"}]})
    );
}

#[test]
fn listeners_merge_per_type_by_name() {
    let (result, config) = merged(
        json!({"listeners": {"tcp": {"default": {"bind": "0.0.0.0:1883"}, "x": {"bind": "1"}}}}),
        json!({"listeners": {"tcp": {"x": {"bind": "2"}}, "ssl": {"default": {"bind": "8883"}}}}),
    );
    assert_eq!(
        config["listeners"],
        json!({"tcp": {"default": {"bind": "0.0.0.0:1883"}, "x": {"bind": "2"}},
               "ssl": {"default": {"bind": "8883"}}})
    );
    let scope = &result.plan.scopes[0];
    assert_eq!(scope.insert, vec!["listeners.ssl.default"]);
    assert_eq!(scope.update, vec!["listeners.tcp.x"]);
    assert_eq!(scope.kept, 1);
}

#[test]
fn gateways_merge_by_name() {
    let (_, config) = merged(
        json!({"gateway": {"coap": {"enable": true, "a": 1}, "stomp": {"enable": true}}}),
        json!({"gateway": {"coap": {"enable": false}}}),
    );
    assert_eq!(
        config["gateway"],
        json!({"coap": {"enable": false}, "stomp": {"enable": true}})
    );
}

#[test]
fn keyed_lists_merge_by_their_key() {
    let (result, config) = merged(
        json!({"exhook": {"servers": [{"name": "a", "url": "1"}, {"name": "b", "url": "1"}]},
               "auto_subscribe": {"topics": [{"topic": "t/1", "qos": 0}]},
               "topic_metrics": [{"topic": "m/1"}]}),
        json!({"exhook": {"servers": [{"name": "b", "url": "2"}, {"name": "c", "url": "2"}]},
               "auto_subscribe": {"topics": [{"topic": "t/1", "qos": 1}, {"topic": "t/2", "qos": 0}]},
               "topic_metrics": [{"topic": "m/2"}, {"topic": "m/1"}]}),
    );
    assert_eq!(
        config["exhook"],
        json!({"servers": [{"name": "a", "url": "1"}, {"name": "b", "url": "2"}, {"name": "c", "url": "2"}]})
    );
    assert_eq!(
        config["auto_subscribe"],
        json!({"topics": [{"topic": "t/1", "qos": 1}, {"topic": "t/2", "qos": 0}]})
    );
    assert_eq!(
        config["topic_metrics"],
        json!([{"topic": "m/1"}, {"topic": "m/2"}])
    );
    let exhook = result
        .plan
        .scopes
        .iter()
        .find(|s| s.name == "exhook")
        .unwrap();
    assert_eq!(exhook.insert, vec!["exhook.servers[c]"]);
    assert_eq!(exhook.update, vec!["exhook.servers[b]"]);
}

#[test]
fn generic_roots_replace_or_merge_first_level() {
    let (result, config) = merged(
        json!({"mqtt": {"max_packet_size": "1MB", "max_inflight": 32},
               "retainer": {"enable": true, "max_payload_size": "1MB"},
               "rewrite": [{"action": "all", "source_topic": "a", "dest_topic": "b", "re": "^a$"}],
               "cluster.links": [{"name": "x", "server": "x:11883"}]}),
        json!({"mqtt": {"max_inflight": 64},
               "retainer": {"enable": false},
               "rewrite": [],
               "cluster.links": [{"name": "y", "server": "y:11883"}]}),
    );
    assert_eq!(config["mqtt"], json!({"max_inflight": 64}));
    assert_eq!(
        config["retainer"],
        json!({"enable": false, "max_payload_size": "1MB"})
    );
    assert_eq!(config["rewrite"], json!([]));
    assert_eq!(
        config["cluster.links"],
        json!([{"name": "y", "server": "y:11883"}])
    );
    let w = warnings(&result, ROOT_REPLACED);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w
        .iter()
        .any(|m| m.starts_with("mqtt:") && m.contains("mqtt.max_packet_size")));
    assert!(w
        .iter()
        .any(|m| m.starts_with("rewrite:") && m.contains("rewrite[0]")));
}

#[test]
fn ai_lists_merge_by_name_and_other_keys_stay() {
    let (result, config) = merged(
        json!({"ai": {"providers": [{"name": "p1", "k": 1}, {"name": "p2", "k": 1}],
                      "completion_profiles": [{"name": "c1"}]}}),
        json!({"ai": {"providers": [{"name": "p1", "k": 2}],
                      "completion_profiles": [{"name": "c2"}], "other": true}}),
    );
    assert_eq!(
        config["ai"],
        json!({"providers": [{"name": "p2", "k": 1}, {"name": "p1", "k": 2}],
               "completion_profiles": [{"name": "c1"}, {"name": "c2"}]})
    );
    let scope = result.plan.scopes.iter().find(|s| s.name == "ai").unwrap();
    assert_eq!(scope.update, vec!["ai.providers[p1]"]);
    assert_eq!(scope.insert, vec!["ai.completion_profiles[c2]"]);
    assert_eq!(scope.kept, 2);
}

#[test]
fn validations_are_appended_never_replaced() {
    let (result, config) = merged(
        json!({"schema_validation": {"validations": [{"name": "v1", "topics": ["a"]}]}}),
        json!({"schema_validation": {"validations": [{"name": "v1", "topics": ["b"]},
                                                      {"name": "v2", "topics": ["c"]}]},
               "message_transformation": {"transformations": [{"name": "t1"}]}}),
    );
    assert_eq!(
        config["schema_validation"],
        json!({"validations": [{"name": "v1", "topics": ["a"]}, {"name": "v2", "topics": ["c"]}]})
    );
    assert_eq!(
        config["message_transformation"],
        json!({"transformations": [{"name": "t1"}]})
    );
    let w = warnings(&result, NOT_REPLACED);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("schema_validation.validations[v1]"));
    let scope = result
        .plan
        .scopes
        .iter()
        .find(|s| s.name == "schema_validation")
        .unwrap();
    assert_eq!(scope.insert, vec!["schema_validation.validations[v2]"]);
    assert!(scope.update.is_empty());
}

#[test]
fn listener_moves_and_disables_are_warned_about() {
    let (result, _) = merged(
        json!({"listeners": {"tcp": {"default": {"bind": "0.0.0.0:1883", "enabled": true},
                                     "same": {"bind": 1884}},
                             "ws": {"default": {"bind": "0.0.0.0:8083"}}}}),
        json!({"listeners": {"tcp": {"default": {"bind": "0.0.0.0:11883", "enable": false},
                                     "same": {"bind": "0.0.0.0:1884"}},
                             "ws": {"default": {"bind": "0.0.0.0:8083", "enable": false}},
                             "ssl": {"new": {"bind": "8883", "enable": false}}}}),
    );
    let moved = warnings(&result, LISTENER_BIND_CHANGED);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(moved[0].contains("listeners.tcp.default") && moved[0].contains("0.0.0.0:11883"));
    let disabled = warnings(&result, LISTENER_DISABLED);
    assert_eq!(disabled.len(), 2, "{disabled:?}");
    assert!(disabled[0].contains("listeners.tcp.default"));
    assert!(disabled[1].contains("listeners.ws.default"));
}

#[test]
fn log_and_cluster_links_changes_are_cluster_wide() {
    let (result, _) = merged(
        json!({"log": {"console": {"level": "warning"}},
               "cluster.links": [{"name": "old", "server": "o:1"}]}),
        json!({"log": {"console": {"level": "debug"}},
               "cluster.links": [{"name": "new", "server": "n:1"}]}),
    );
    let w = warnings(&result, CLUSTER_WIDE);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("log:"));
    assert!(w[1].starts_with("cluster.links:") && w[1].contains("links old are removed"));
    // Unchanged: no warning.
    let (result, _) = merged(
        json!({"log": {"console": {"level": "warning"}}}),
        json!({"log": {"console": {"level": "warning"}}}),
    );
    assert!(warnings(&result, CLUSTER_WIDE).is_empty());
}

#[test]
fn a_durable_sessions_enable_change_is_warned_about() {
    let (result, _) = merged(
        json!({"durable_sessions": {"enable": false}}),
        json!({"durable_sessions": {"enable": true}}),
    );
    assert_eq!(warnings(&result, DURABLE_SESSIONS_ENABLE).len(), 1);
}

#[test]
fn config_checks_name_the_path() {
    let config = json!({
        "listeners": {"tcp": {"nobind": {"enable": true}, "ok": {"bind": "1883"}},
                      "udp": {"x": {"bind": "1"}}},
        "exhook": {"servers": [{"url": "http://x"}]},
        "auto_subscribe": {"topics": [{"topic": "t"}, {"qos": 1}]},
        "cluster.links": [{"server": "x:1"}]
    });
    let problems = Config.check_config(config.as_object().unwrap());
    let got: Vec<(&str, Severity)> = problems
        .iter()
        .map(|p| (p.place.as_str(), p.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("listeners.tcp.nobind", Severity::Warning),
            ("listeners.udp", Severity::Error),
            ("exhook.servers[0]", Severity::Error),
            ("auto_subscribe.topics[1]", Severity::Error),
            ("cluster.links[0]", Severity::Error),
        ],
        "{problems:?}"
    );
    assert!(problems[1].message.contains("\"udp\""));
}

// ---- generated configs -------------------------------------------------------------

fn listener() -> impl Strategy<Value = Value> {
    (1000u16..1010, any::<bool>(), 1u32..4).prop_map(|(port, enable, acceptors)| {
        json!({"bind": format!("0.0.0.0:{port}"), "enable": enable, "acceptors": acceptors})
    })
}

fn keyed_list(key: &'static str, names: &'static str) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(names, 0u8..3, 0..3).prop_map(move |m| {
        Value::Array(
            m.into_iter()
                .map(|(k, v)| json!({key: k, "v": v}))
                .collect(),
        )
    })
}

fn config() -> impl Strategy<Value = Map<String, Value>> {
    (
        prop::option::of(
            prop::collection::btree_map(
                prop::sample::select(&["tcp", "ssl", "ws", "wss", "quic"][..]),
                prop::collection::btree_map("[a-c]", listener(), 1..3),
                0..3,
            )
            .prop_map(|m| json!(m)),
        ),
        prop::option::of(
            prop::collection::btree_map(
                prop::sample::select(&["coap", "stomp", "mqttsn"][..]),
                any::<bool>().prop_map(|e| json!({"enable": e})),
                0..3,
            )
            .prop_map(|m| json!(m)),
        ),
        prop::option::of(keyed_list("name", "[a-c]").prop_map(|l| json!({"servers": l}))),
        prop::option::of(keyed_list("topic", "t/[a-c]").prop_map(|l| json!({"topics": l}))),
        prop::option::of(
            (0u8..3, any::<bool>()).prop_map(|(n, b)| json!({"max_inflight": n, "strict_mode": b})),
        ),
        prop::option::of(keyed_list("name", "[a-c]")),
        prop::option::of(
            (keyed_list("name", "[a-c]"), keyed_list("name", "[a-c]"))
                .prop_map(|(p, c)| json!({"providers": p, "completion_profiles": c})),
        ),
        prop::option::of(keyed_list("name", "[a-c]").prop_map(|l| json!({"validations": l}))),
    )
        .prop_map(
            |(listeners, gateway, exhook, auto_subscribe, mqtt, links, ai, validation)| {
                let mut m = Map::new();
                for (k, v) in [
                    ("listeners", listeners),
                    ("gateway", gateway),
                    ("exhook", exhook),
                    ("auto_subscribe", auto_subscribe),
                    ("mqtt", mqtt),
                    ("cluster.links", links),
                    ("ai", ai),
                    ("schema_validation", validation),
                ] {
                    if let Some(v) = v {
                        m.insert(k.to_owned(), v);
                    }
                }
                m
            },
        )
}

/// The units the importers merge by key (and so must neither lose nor alter).
fn units(config: &Map<String, Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let list = |out: &mut BTreeMap<String, Value>, path: &str, v: Option<&Value>, key: &str| {
        for item in v.and_then(Value::as_array).into_iter().flatten() {
            out.insert(format!("{path}[{}]", item[key]), item.clone());
        }
    };
    if let Some(types) = config.get("listeners").and_then(Value::as_object) {
        for (t, names) in types {
            for (n, v) in names.as_object().unwrap() {
                out.insert(format!("listeners.{t}.{n}"), v.clone());
            }
        }
    }
    if let Some(gws) = config.get("gateway").and_then(Value::as_object) {
        for (g, v) in gws {
            out.insert(format!("gateway.{g}"), v.clone());
        }
    }
    list(
        &mut out,
        "exhook.servers",
        config.get("exhook").and_then(|e| e.get("servers")),
        "name",
    );
    list(
        &mut out,
        "auto_subscribe.topics",
        config.get("auto_subscribe").and_then(|e| e.get("topics")),
        "topic",
    );
    for field in ["providers", "completion_profiles"] {
        list(
            &mut out,
            &format!("ai.{field}"),
            config.get("ai").and_then(|e| e.get(field)),
            "name",
        );
    }
    out
}

fn records(config: Map<String, Value>) -> Records {
    Records {
        domain: "config".into(),
        config,
        ..Records::default()
    }
}

proptest! {
    #[test]
    fn decode_encode_round_trip(config in config()) {
        let options = Options::default();
        let section = Config.encode(&records(config), &options).unwrap();
        let decoded = Config.decode(&view_of(&section), &options).unwrap();
        check_round_trip::<Config>(&decoded).unwrap();
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in config(), b in config()) {
        let options = Options::default();
        let sa = Config.encode(&records(a.clone()), &options).unwrap();
        let sb = Config.encode(&records(b.clone()), &options).unwrap();
        check_merge_laws::<Config>(&sa, &sb).unwrap();
        let once = units(&merge(&sa, &sb).merged.unwrap().config);
        let (ua, ub) = (units(&a), units(&b));
        for (k, v) in &ub {
            prop_assert_eq!(once.get(k), Some(v), "incoming {}", k);
        }
        for (k, v) in &ua {
            if !ub.contains_key(k) {
                prop_assert_eq!(once.get(k), Some(v), "current {}", k);
            }
        }
    }
}
