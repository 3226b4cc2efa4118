use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_rules::{Rules, BRIDGES_CONVERTED, MISSING_REFERENCE};
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{section_for, view_of};
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
    Rules
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
        let checked = check_archive::<Rules>(&path).unwrap();
        items += checked.records.items.len();
        let errors = checked.errors();
        if path.ends_with("emqx-export-bad-upload.tar.gz") {
            assert!(
                errors.iter().any(|p| p.place == "bridges.unknown.test"),
                "{errors:?}"
            );
        } else {
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
    }
    assert!(items > 0);
}

#[test]
fn readable_items_of_the_bootstrap_archive() {
    let contents = fixture("emqx-export-test-bootstrap-ce.tar.gz");
    let section = section_for(&Rules.manifest(), &contents);
    let records = Rules
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    let items = &records.items;
    assert!(items
        .contains(&json!({"kind": "connector", "type": "mqtt", "name": "test", "enable": true})));
    assert!(items.contains(
        &json!({"kind": "action", "type": "mqtt", "name": "test", "enable": true, "connector": "test"})
    ));
    let rule = items
        .iter()
        .find(|i| i["kind"] == "rule" && i["id"] == "rule_6otf")
        .unwrap();
    assert_eq!(rule["actions"], json!(["webhook:test"]));
    assert_eq!(rule["enable"], json!(true));
    assert!(rule["sql"].as_str().unwrap().starts_with("SELECT"));
    assert_eq!(items.iter().filter(|i| i["kind"] == "rule").count(), 3);
}

#[test]
fn bridges_are_items_too() {
    let contents = fixture("emqx-export-upload-ce.tar.gz");
    let section = section_for(&Rules.manifest(), &contents);
    let records = Rules
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    assert_eq!(
        records.items,
        vec![json!({"kind": "bridge", "type": "webhook", "name": "test", "enable": true})]
    );
}

#[test]
fn connectors_merge_per_type_by_name() {
    let (result, config) = merged(
        json!({"connectors": {"http": {"a": {"url": "1"}, "b": {"url": "1"}}}}),
        json!({"connectors": {"http": {"b": {"url": "2"}}, "mqtt": {"c": {"server": "x"}}}}),
    );
    assert_eq!(
        config["connectors"],
        json!({"http": {"a": {"url": "1"}, "b": {"url": "2"}}, "mqtt": {"c": {"server": "x"}}})
    );
    let scope = &result.plan.scopes[0];
    assert_eq!(scope.name, "connectors");
    assert_eq!(scope.insert, vec!["connectors.mqtt.c"]);
    assert_eq!(scope.update, vec!["connectors.http.b"]);
    assert_eq!(scope.kept, 1);
}

#[test]
fn actions_sources_and_bridges_merge_per_type_by_name() {
    for root in ["actions", "sources", "bridges"] {
        let (_, config) = merged(
            json!({root: {"mqtt": {"a": {"x": 1}}}}),
            json!({root: {"mqtt": {"b": {"x": 2}}}}),
        );
        assert_eq!(
            config[root],
            json!({"mqtt": {"a": {"x": 1}, "b": {"x": 2}}}),
            "{root}"
        );
    }
}

#[test]
fn rules_merge_by_id_and_other_keys_come_from_the_archive() {
    let (result, config) = merged(
        json!({"rule_engine": {"ignore_sys_message": true, "jq_function_default_timeout": "10s",
            "rules": {"r1": {"sql": "SELECT 1"}, "r2": {"sql": "SELECT 2"}}}}),
        json!({"rule_engine": {"ignore_sys_message": false,
            "rules": {"r2": {"sql": "SELECT 22"}, "r3": {"sql": "SELECT 3"}}}}),
    );
    assert_eq!(
        config["rule_engine"],
        json!({"ignore_sys_message": false, "jq_function_default_timeout": "10s",
            "rules": {"r1": {"sql": "SELECT 1"}, "r2": {"sql": "SELECT 22"}, "r3": {"sql": "SELECT 3"}}})
    );
    let scope = &result.plan.scopes[0];
    assert_eq!(scope.insert, vec!["rule_engine.rules.r3"]);
    assert_eq!(
        scope.update,
        vec!["rule_engine.ignore_sys_message", "rule_engine.rules.r2"]
    );
}

#[test]
fn schemas_merge_by_name() {
    let (_, config) = merged(
        json!({"schema_registry": {"schemas": {"a": {"type": "avro", "source": "1"}}}}),
        json!({"schema_registry": {"schemas": {"b": {"type": "json", "source": "2"}}}}),
    );
    assert_eq!(
        config["schema_registry"]["schemas"],
        json!({"a": {"type": "avro", "source": "1"}, "b": {"type": "json", "source": "2"}})
    );
}

#[test]
fn a_rule_sending_to_a_missing_action_is_warned_about() {
    let (result, _) = merged(
        json!({"actions": {"http": {"on_node": {"connector": "c"}}},
               "connectors": {"http": {"c": {}}}}),
        json!({"rule_engine": {"rules": {
            "r1": {"sql": "SELECT * FROM \"t\"", "actions": ["http:on_node", "http:nowhere",
                {"function": "console"}]},
            "r2": {"sql": "SELECT * FROM \"t\"", "actions": ["webhook:on_node"]}}}}),
    );
    let w = warnings(&result, MISSING_REFERENCE);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("rule r1") && w[0].contains("http:nowhere"),
        "{}",
        w[0]
    );
}

#[test]
fn an_action_without_its_connector_is_warned_about() {
    let (result, _) = merged(
        json!({"connectors": {"http": {"c1": {}}}}),
        json!({"actions": {"http": {"a1": {"connector": "c1"}, "a2": {"connector": "c2"}},
               "kafka_producer": {"a3": {"connector": "c1"}}},
               "sources": {"mqtt": {"s1": {"connector": "m"}}},
               "connectors": {"mqtt": {"m": {}}}}),
    );
    let w = warnings(&result, MISSING_REFERENCE);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w
        .iter()
        .any(|m| m.contains("actions.http.a2") && m.contains("connector c2")));
    assert!(w.iter().any(|m| m.contains("actions.kafka_producer.a3")));
}

#[test]
fn a_rule_reading_from_a_missing_source_is_warned_about() {
    let (result, _) = merged(
        json!({}),
        json!({"sources": {"mqtt": {"in": {"connector": "m"}}}, "connectors": {"mqtt": {"m": {}}},
            "rule_engine": {"rules": {"r": {"sql": "SELECT * FROM \"$bridges/mqtt:in\", \"$bridges/mqtt:gone\""}}}}),
    );
    let w = warnings(&result, MISSING_REFERENCE);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("$bridges/mqtt:gone"));
}

#[test]
fn real_archives_into_an_empty_node() {
    let empty = SectionOut::default();
    let boot = section_for(
        &Rules.manifest(),
        &fixture("emqx-export-test-bootstrap-ce.tar.gz"),
    );
    let w = warnings(&merge(&empty, &boot), MISSING_REFERENCE);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w
        .iter()
        .any(|m| m.contains("rule_6otf") && m.contains("webhook:test")));
    assert!(w
        .iter()
        .any(|m| m.contains("rule_99o7") && m.contains("webhook:test_clean")));
    // `kafka:test` is the 5.x name of the kafka_producer action the archive holds.
    let ee = section_for(&Rules.manifest(), &fixture("emqx-export-upload-ee.tar.gz"));
    let result = merge(&empty, &ee);
    assert!(
        result.plan.warnings.is_empty(),
        "{:?}",
        result.plan.warnings
    );
}

#[test]
fn bridges_into_a_node_with_connectors_are_warned_about() {
    let upload = section_for(&Rules.manifest(), &fixture("emqx-export-upload-ce.tar.gz"));
    assert!(warnings(&merge(&SectionOut::default(), &upload), BRIDGES_CONVERTED).is_empty());
    let node = section(
        json!({"connectors": {"http": {"test": {"url": "http://a"}}},
        "actions": {"http": {"test": {"connector": "test"}}}}),
    );
    let result = merge(&node, &upload);
    let w = warnings(&result, BRIDGES_CONVERTED);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("bridges.webhook.test"), "{}", w[0]);
    assert!(
        w[0].contains("replace the node's connectors.http.test, actions.http.test"),
        "{}",
        w[0]
    );
    assert_eq!(result.plan.warnings[0].count, Some(1));
}

fn problems(config: Value) -> Vec<(String, String)> {
    Rules
        .check_config(config.as_object().unwrap())
        .into_iter()
        .map(|p| (p.place, p.message))
        .collect()
}

#[test]
fn config_checks_name_the_path() {
    let p = problems(json!({
        "connectors": {"nosuch": {"c": {}}, "http": {"ok": {}}},
        "actions": {"http": {"a": {"enable": true}}},
        "rule_engine": {"rules": {
            "r1": {"actions": []},
            "r2": {"sql": "SELECT 1", "actions": ["nocolon", {"args": {}}, "http:ok"]}}}
    }));
    let places: Vec<&str> = p.iter().map(|(place, _)| place.as_str()).collect();
    assert_eq!(
        places,
        vec![
            "connectors.nosuch.c",
            "actions.http.a",
            "rule_engine.rules.r1",
            "rule_engine.rules.r2.actions[0]",
            "rule_engine.rules.r2.actions[1]"
        ],
        "{p:?}"
    );
    assert!(p[0].1.contains("nosuch"));
    assert!(p[2].1.contains("no sql"));
}

#[test]
fn the_bad_upload_fails_validation() {
    let section = section_for(&Rules.manifest(), &fixture("emqx-export-bad-upload.tar.gz"));
    let problems = Rules.validate(&view_of(&section), &Options::default());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].place, "bridges.unknown.test");
    assert_eq!(problems[0].severity, Severity::Error);
    assert!(problems[0].message.contains("\"unknown\""));
}

// ---- generated configs -------------------------------------------------------------

fn by_type_name(
    types: &'static [&'static str],
    conf: impl Strategy<Value = Value> + Clone,
) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(types),
        prop::collection::btree_map("[a-c]", conf, 1..3),
        0..3,
    )
    .prop_map(|m| json!(m))
}

fn config() -> impl Strategy<Value = Map<String, Value>> {
    let connector = (any::<bool>(), "[a-z]{1,4}")
        .prop_map(|(enable, server)| json!({"enable": enable, "server": server}));
    let action = ("[a-c]", any::<bool>(), "[a-z/#]{1,4}").prop_map(
        |(connector, enable, topic)| json!({"connector": connector, "enable": enable, "parameters": {"topic": topic}}),
    );
    let rule = (
        "[a-z]{1,3}",
        prop::collection::vec(
            prop_oneof![
                "(http|mqtt|webhook):[a-c]".prop_map(Value::from),
                Just(json!({"function": "console"})),
            ],
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(topic, actions, enable)| {
            json!({"sql": format!("SELECT * FROM \"{topic}\""), "actions": actions, "enable": enable})
        });
    (
        prop::option::of(by_type_name(&["http", "mqtt", "kafka_producer"], connector)),
        prop::option::of(by_type_name(&["http", "mqtt"], action.clone())),
        prop::option::of(by_type_name(&["mqtt"], action)),
        prop::option::of(by_type_name(
            &["webhook", "mqtt"],
            Just(json!({"url": "u"})),
        )),
        prop::option::of((
            any::<bool>(),
            prop::collection::btree_map("rule_[a-d]", rule, 0..4),
        )),
        prop::option::of(prop::collection::btree_map(
            "[a-c]",
            "[a-z]{1,3}".prop_map(|s| json!({"type": "json", "source": s})),
            0..3,
        )),
    )
        .prop_map(|(connectors, actions, sources, bridges, engine, schemas)| {
            let mut m = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            };
            put("connectors", connectors);
            put("actions", actions);
            put("sources", sources);
            put("bridges", bridges);
            put(
                "rule_engine",
                engine.map(|(ignore, rules)| json!({"ignore_sys_message": ignore, "rules": rules})),
            );
            put("schema_registry", schemas.map(|s| json!({"schemas": s})));
            m
        })
}

/// Every unit EMQX merges by key: `connectors.<t>.<n>`, `rule_engine.rules.<id>`, other
/// keys of `rule_engine` and `schema_registry`.
fn units(config: &Map<String, Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (root, value) in config {
        let field = match root.as_str() {
            "rule_engine" => "rules",
            "schema_registry" => "schemas",
            _ => "",
        };
        for (k, v) in value.as_object().unwrap() {
            match v.as_object() {
                Some(inner) if field.is_empty() || k == field => {
                    for (n, c) in inner {
                        out.insert(format!("{root}.{k}.{n}"), c.clone());
                    }
                }
                _ => {
                    out.insert(format!("{root}.{k}"), v.clone());
                }
            }
        }
    }
    out
}

fn records(config: Map<String, Value>) -> Records {
    Records {
        domain: "rules".into(),
        config,
        ..Records::default()
    }
}

proptest! {
    #[test]
    fn decode_encode_round_trip(config in config()) {
        let options = Options::default();
        let section = Rules.encode(&records(config), &options).unwrap();
        let decoded = Rules.decode(&view_of(&section), &options).unwrap();
        check_round_trip::<Rules>(&decoded).unwrap();
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in config(), b in config()) {
        let options = Options::default();
        let sa = Rules.encode(&records(a.clone()), &options).unwrap();
        let sb = Rules.encode(&records(b.clone()), &options).unwrap();
        check_merge_laws::<Rules>(&sa, &sb).unwrap();
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
