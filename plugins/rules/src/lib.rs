//! Data integration: the cluster.hocon roots `rule_engine`, `connectors`, `actions`,
//! `sources`, the 5.x `bridges` and `schema_registry`. No mnesia table.
//!
//! How EMQX's importers merge each root (spec §3.11), and the [`RootMerge`] rule used here:
//!
//! | root | EMQX importer | rule |
//! |---|---|---|
//! | `connectors` | `emqx_connector`: per type, node's names ∪ archive's, archive wins | `PerTypeByName` |
//! | `actions`, `sources` | `emqx_bridge_v2`: the same, per root | `PerTypeByName` |
//! | `bridges` (5.x) | `emqx_bridge`: per type merged by name; 5.4+ first converts them into connectors and actions | `PerTypeByName` |
//! | `rule_engine` | `emqx_rule_engine_config`: `rules` merged by id, other keys from the archive | `Field("rules", FirstLevel)` |
//! | `schema_registry` | `emqx_schema_registry_config`: deep merge of node and archive | `Field("schemas", FirstLevel)` (a schema the archive has replaces the node's whole) |
//!
//! `decode` adds one readable item per connector, action, source, bridge and rule (see
//! [`items`]); `encode` ignores items, the config is what round-trips. `merge` warns about
//! references that do not resolve after the import (`rules.missing_reference`) and about 5.x
//! bridges that EMQX converts next to the node's connectors and actions
//! (`rules.bridges_converted`). `check_config` flags types EMQX does not know, rules without
//! SQL, malformed action references and actions without a connector.

pub mod refs;
pub mod types;

use emqx_backup_plugin_sdk::domain::{
    decode_default, merge_default, Domain, MergeResult, SectionView,
};
use emqx_backup_plugin_sdk::model::Problem;
use emqx_backup_plugin_sdk::roots::RootMerge;
use emqx_backup_plugin_sdk::{export_domain, Manifest, Options, PluginError, Records, Warning};
use refs::{entries, rules};
use serde_json::{json, Map, Value};

/// The data-integration domain.
#[derive(Default)]
pub struct Rules;

const BY_KEY: RootMerge = RootMerge::FirstLevel;

/// The owned roots with EMQX's merge rule for each.
pub const ROOTS: [(&str, RootMerge); 6] = [
    ("rule_engine", RootMerge::Field("rules", &BY_KEY)),
    ("connectors", RootMerge::PerTypeByName),
    ("actions", RootMerge::PerTypeByName),
    ("sources", RootMerge::PerTypeByName),
    ("bridges", RootMerge::PerTypeByName),
    ("schema_registry", RootMerge::Field("schemas", &BY_KEY)),
];

/// The `{Type: {Name: Conf}}` roots and the kind of entry each holds.
pub const RESOURCE_ROOTS: [(&str, &str); 4] = [
    ("connectors", "connector"),
    ("actions", "action"),
    ("sources", "source"),
    ("bridges", "bridge"),
];

/// Code of the warning about references that do not resolve after the import.
pub const MISSING_REFERENCE: &str = "rules.missing_reference";
/// Code of the warning about 5.x bridges imported into a node that has connectors or actions.
pub const BRIDGES_CONVERTED: &str = "rules.bridges_converted";

/// A boolean setting, `default` when absent (HOCON may quote it).
fn flag(value: Option<&Value>, default: bool) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        _ => default,
    }
}

/// Readable records derived from the config: `{"kind":"connector","type":..,"name":..,
/// "enable":..}` per connector, action, source (those two with their `connector`) and bridge,
/// then `{"kind":"rule","id":..,"sql":..,"actions":[..],"enable":..}` per rule.
pub fn items(config: &Map<String, Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for (root, kind) in RESOURCE_ROOTS {
        for (t, n, conf) in entries(config, root) {
            let mut item = json!({"kind": kind, "type": t, "name": n,
                "enable": flag(conf.get("enable"), true)});
            if let Some(c) = conf.get("connector").and_then(Value::as_str) {
                item["connector"] = json!(c);
            }
            out.push(item);
        }
    }
    for (id, rule) in rules(config) {
        out.push(json!({
            "kind": "rule",
            "id": id,
            "sql": rule.get("sql").cloned().unwrap_or(Value::Null),
            "actions": rule.get("actions").cloned().unwrap_or_else(|| json!([])),
            "enable": flag(rule.get("enable"), true),
        }));
    }
    out
}

/// The warning about 5.x bridges going to a node that already has connectors or actions.
fn bridges_warning(current: &Map<String, Value>, incoming: &Map<String, Value>) -> Option<Warning> {
    let bridges: Vec<(&str, &str)> = entries(incoming, "bridges")
        .map(|(t, n, _)| (t, n))
        .collect();
    let node_connectors = entries(current, "connectors").count();
    let node_actions = entries(current, "actions").count() + entries(current, "sources").count();
    if bridges.is_empty() || node_connectors + node_actions == 0 {
        return None;
    }
    let mut clashes = Vec::new();
    for (t, n) in &bridges {
        let at = types::action_type(t);
        for root in ["connectors", "actions", "sources"] {
            if current
                .get(root)
                .and_then(|r| r.get(at))
                .and_then(|r| r.get(*n))
                .is_some()
            {
                clashes.push(format!("{root}.{at}.{n}"));
            }
        }
    }
    let listed: Vec<String> = bridges
        .iter()
        .map(|(t, n)| format!("bridges.{t}.{n}"))
        .collect();
    let mut message = format!(
        "the archive holds {} 5.x bridges ({}); EMQX converts each into a connector and an action (or source) of the same name on import, next to the node's {node_connectors} connectors and {node_actions} actions and sources",
        bridges.len(),
        listed.join(", ")
    );
    if !clashes.is_empty() {
        message.push_str(&format!(
            "; the converted entries replace the node's {}",
            clashes.join(", ")
        ));
    }
    Some(emqx_backup_plugin_sdk::domain::counted(
        BRIDGES_CONVERTED,
        bridges.len() as u64,
        message,
    ))
}

/// Problems of one `{Type: {Name: Conf}}` root.
fn check_resources(
    config: &Map<String, Value>,
    root: &str,
    kind: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(value) = config.get(root) else {
        return;
    };
    let Some(by_type) = value.as_object() else {
        problems.push(Problem::error(
            root,
            format!("{root} must be an object of {kind} types"),
        ));
        return;
    };
    for (t, names) in by_type {
        let Some(names) = names.as_object() else {
            problems.push(Problem::error(
                format!("{root}.{t}"),
                format!("must be an object of {kind}s by name"),
            ));
            continue;
        };
        for (n, conf) in names {
            let place = format!("{root}.{t}.{n}");
            if !types::is_known(t) {
                problems.push(Problem::error(
                    place.clone(),
                    format!("EMQX has no {kind} type \"{t}\""),
                ));
            }
            if !conf.is_object() {
                problems.push(Problem::error(place, format!("a {kind} must be an object")));
                continue;
            }
            if matches!(root, "actions" | "sources")
                && !conf.get("connector").is_some_and(Value::is_string)
            {
                problems.push(Problem::error(
                    place,
                    format!("the {kind} names no connector (EMQX requires \"connector\")"),
                ));
            }
        }
    }
}

/// Problems of `rule_engine.rules`.
fn check_rules(config: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let Some(engine) = config.get("rule_engine") else {
        return;
    };
    let Some(engine) = engine.as_object() else {
        problems.push(Problem::error(
            "rule_engine",
            "rule_engine must be an object",
        ));
        return;
    };
    let Some(rules) = engine.get("rules") else {
        return;
    };
    let Some(rules) = rules.as_object() else {
        problems.push(Problem::error(
            "rule_engine.rules",
            "rules must be an object of rules by id",
        ));
        return;
    };
    for (id, rule) in rules {
        let place = format!("rule_engine.rules.{id}");
        let Some(rule) = rule.as_object() else {
            problems.push(Problem::error(place, "a rule must be an object"));
            continue;
        };
        if !rule.get("sql").is_some_and(Value::is_string) {
            problems.push(Problem::error(place.clone(), "the rule has no sql"));
        }
        match rule.get("actions") {
            None => {}
            Some(Value::Array(actions)) => {
                for (i, action) in actions.iter().enumerate() {
                    let bad = match action {
                        Value::String(s) => refs::parse_ref(s)
                            .is_none()
                            .then(|| format!("\"{s}\" is not an action reference \"type:name\"")),
                        Value::Object(o) => (!o.get("function").is_some_and(Value::is_string))
                            .then(|| "a built-in action needs a \"function\"".to_owned()),
                        _ => Some("an action must be \"type:name\" or an object".to_owned()),
                    };
                    if let Some(why) = bad {
                        problems.push(Problem::error(format!("{place}.actions[{i}]"), why));
                    }
                }
            }
            Some(_) => problems.push(Problem::error(
                format!("{place}.actions"),
                "actions must be a list",
            )),
        }
    }
}

impl Domain for Rules {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "rules".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "data integration: rules, connectors, actions, sources, 5.x bridges, schema registry".into(),
            table_sets: vec![],
            tables: vec![],
            roots: ROOTS.iter().map(|(r, _)| (*r).to_owned()).collect(),
            reads_roots: vec![],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        ROOTS.to_vec()
    }

    fn decode(&self, section: &SectionView, _options: &Options) -> Result<Records, PluginError> {
        let mut records = decode_default(self, section)?;
        records.items = items(&records.config);
        Ok(records)
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let mut result = merge_default(self, current, incoming, options, &mut |_, _, _| {})?;
        let merged = result.merged_config.clone();
        for message in refs::missing(&incoming.config, &merged) {
            result
                .plan
                .warnings
                .push(Warning::new(MISSING_REFERENCE, message));
        }
        result
            .plan
            .warnings
            .extend(bridges_warning(&current.config, &incoming.config));
        Ok(result)
    }

    fn check_config(&self, config: &Map<String, Value>) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (root, kind) in RESOURCE_ROOTS {
            check_resources(config, root, kind, &mut problems);
        }
        check_rules(config, &mut problems);
        problems
    }
}

export_domain!(Rules);
