//! Broker configuration: the cluster.hocon roots `listeners` and `gateway`, the generic roots
//! EMQX's import applies with `emqx_conf:update/3` (`?CONF_KEYS`, spec §3.11), `cluster.links`
//! (a nested path, passed under that dotted key) and the importer roots no other plugin owns.
//! No mnesia table.
//!
//! A generic root is applied by `emqx_config_handler`: with no handler the archive's value
//! replaces the node's; with a handler lacking `pre_config_update`, `maps:merge(Old, New)`; a
//! handler's `pre_config_update` decides otherwise. The rule chosen per root (EMQX 5.x code
//! read; where 5.x and 6.x differ, 5.x):
//!
//! | root | EMQX handler | rule |
//! |---|---|---|
//! | `listeners` | importer `emqx_mgmt_listeners_conf`: per type, merged by name | `PerTypeByName` |
//! | `gateway` | importer `emqx_gateway_conf`: `maps:merge` by gateway name | `FirstLevel` |
//! | `delayed` | `emqx_delayed`, no `pre_config_update` | `FirstLevel` |
//! | `rewrite` | `emqx_rewrite`, no `pre_config_update`, but the value is a list | `Replace` |
//! | `retainer` | `emqx_retainer`, no `pre_config_update` | `FirstLevel` |
//! | `mqtt` | none | `Replace` |
//! | `alarm` | none | `Replace` |
//! | `sysmon` | `emqx_sys_mon`, no `pre_config_update` | `FirstLevel` |
//! | `sys_topics` | `emqx_sys`, no `pre_config_update` | `FirstLevel` |
//! | `limiter` | `emqx_limiter_manager` (5.x), no `pre_config_update` | `FirstLevel` |
//! | `log` | `emqx_config_logger`, no `pre_config_update` | `FirstLevel` |
//! | `persistent_session_store` | none | `Replace` |
//! | `durable_sessions` | `emqx_persistent_message`: `pre_config_update` returns `ok` (refuses an `enable` change) | `Replace` |
//! | `prometheus` | `emqx_prometheus_config`: `pre_config_update` returns the new conf | `Replace` |
//! | `crl_cache` | `emqx_crl_cache`, no `pre_config_update` | `FirstLevel` |
//! | `conn_congestion` | none | `Replace` |
//! | `force_shutdown` | none | `Replace` |
//! | `flapping_detect` | none | `Replace` |
//! | `broker` | none | `Replace` |
//! | `force_gc` | none | `Replace` |
//! | `zones` | `emqx_config_zones`: `pre_config_update` returns the new conf | `Replace` |
//! | `slow_subs` | `emqx_slow_subs`, no `pre_config_update` | `FirstLevel` |
//! | `cluster.links` | `emqx_cluster_link_config`: a whole list replaces the old one | `Replace` |
//! | `exhook` | importer `emqx_exhook_mgr`: `servers` merged by `name` | `Field("servers", ListBy(name))` |
//! | `auto_subscribe` | importer `emqx_auto_subscribe`: `topics` merged by `topic` | `Field("topics", ListBy(topic))` |
//! | `topic_metrics` | importer `emqx_modules_conf`: `{merge_topics, ..}` merges by `topic` | `ListBy(topic)` |
//! | `file_transfer` | importer `emqx_ft_conf`: `maps:merge(Old, New)` | `FirstLevel` |
//! | `license` | importer `emqx_license`: the archive's conf, its key checked | `Replace` |
//! | `multi_tenancy` | importer `emqx_mt_config`: first-level merge | `FirstLevel` |
//! | `ai` | importer `emqx_ai_completion_config`: `providers` and `completion_profiles` merged by name, other keys not applied | custom ([`merge::merge_ai`]) |
//! | `durable_queues` | importer `emqx_ds_shared_sub_config` (5.x): `maps:merge(Old, New)` | `FirstLevel` |
//! | `schema_validation` | importer: `validations` with new names appended, the rest deep-merged | custom ([`merge::merge_append_only`]) |
//! | `message_transformation` | importer: `transformations` likewise | custom ([`merge::merge_append_only`]) |
//!
//! The custom roots declare the nearest [`RootMerge`] (`Field(list, ListBy(name))`) and
//! `merge` replaces that root's plan and value with the importer's semantics.
//!
//! `decode` adds one readable item per listener and gateway ([`items`]). `merge` warns about
//! listeners whose bind changes (`config.listener_bind_changed`) or that the import disables
//! (`config.listener_disabled`), changes to `log` and `cluster.links` that apply cluster-wide
//! (`config.cluster_wide`), node settings a replaced root drops (`config.root_replaced`), a
//! `durable_sessions.enable` change EMQX refuses (`config.durable_sessions_enable`) and
//! validations or transformations EMQX keeps as the node has them (`config.not_replaced`).

pub mod merge;

use emqx_backup_plugin_sdk::domain::{
    decode_default, merge_default, Domain, MergeResult, SectionView,
};
use emqx_backup_plugin_sdk::model::Problem;
use emqx_backup_plugin_sdk::roots::RootMerge;
use emqx_backup_plugin_sdk::{export_domain, Manifest, Options, PluginError, Records, Warning};
use merge::{by_name, by_topic};
use serde_json::{json, Map, Value};

/// The broker-configuration domain.
#[derive(Default)]
pub struct Config;

const SERVERS: RootMerge = RootMerge::ListBy(by_name);
const TOPICS: RootMerge = RootMerge::ListBy(by_topic);
const BY_NAME: RootMerge = RootMerge::ListBy(by_name);

/// The owned roots with the merge rule for each (see the crate docs for why).
pub const ROOTS: [(&str, RootMerge); 33] = [
    ("listeners", RootMerge::PerTypeByName),
    ("gateway", RootMerge::FirstLevel),
    ("delayed", RootMerge::FirstLevel),
    ("rewrite", RootMerge::Replace),
    ("retainer", RootMerge::FirstLevel),
    ("mqtt", RootMerge::Replace),
    ("alarm", RootMerge::Replace),
    ("sysmon", RootMerge::FirstLevel),
    ("sys_topics", RootMerge::FirstLevel),
    ("limiter", RootMerge::FirstLevel),
    ("log", RootMerge::FirstLevel),
    ("persistent_session_store", RootMerge::Replace),
    ("durable_sessions", RootMerge::Replace),
    ("prometheus", RootMerge::Replace),
    ("crl_cache", RootMerge::FirstLevel),
    ("conn_congestion", RootMerge::Replace),
    ("force_shutdown", RootMerge::Replace),
    ("flapping_detect", RootMerge::Replace),
    ("broker", RootMerge::Replace),
    ("force_gc", RootMerge::Replace),
    ("zones", RootMerge::Replace),
    ("slow_subs", RootMerge::FirstLevel),
    ("cluster.links", RootMerge::Replace),
    ("exhook", RootMerge::Field("servers", &SERVERS)),
    ("auto_subscribe", RootMerge::Field("topics", &TOPICS)),
    ("topic_metrics", RootMerge::ListBy(by_topic)),
    ("file_transfer", RootMerge::FirstLevel),
    ("license", RootMerge::Replace),
    ("multi_tenancy", RootMerge::FirstLevel),
    ("ai", RootMerge::Field("providers", &BY_NAME)),
    ("durable_queues", RootMerge::FirstLevel),
    (
        "schema_validation",
        RootMerge::Field("validations", &BY_NAME),
    ),
    (
        "message_transformation",
        RootMerge::Field("transformations", &BY_NAME),
    ),
];

/// The append-only roots and their list field.
const APPEND_ONLY: [(&str, &str); 2] = [
    ("schema_validation", "validations"),
    ("message_transformation", "transformations"),
];

/// Listener types EMQX knows.
pub const LISTENER_TYPES: [&str; 5] = ["tcp", "ssl", "ws", "wss", "quic"];

/// Code of the warning about a listener whose bind address the import changes.
pub const LISTENER_BIND_CHANGED: &str = "config.listener_bind_changed";
/// Code of the warning about a listener the import disables.
pub const LISTENER_DISABLED: &str = "config.listener_disabled";
/// Code of the warning about `log` and `cluster.links` changes, which every node applies.
pub const CLUSTER_WIDE: &str = "config.cluster_wide";
/// Code of the warning about node settings a replaced root drops.
pub const ROOT_REPLACED: &str = "config.root_replaced";
/// Code of the warning about a `durable_sessions.enable` change, which EMQX refuses.
pub const DURABLE_SESSIONS_ENABLE: &str = "config.durable_sessions_enable";
/// Code of the warning about validations or transformations EMQX keeps as the node has them.
pub const NOT_REPLACED: &str = "config.not_replaced";

/// A boolean setting, `default` when absent (HOCON may quote it).
fn flag(value: Option<&Value>, default: bool) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        _ => default,
    }
}

/// Whether a listener is enabled (`enable`, 5.0/5.1 `enabled`, default true).
fn listener_enabled(conf: &Value) -> bool {
    flag(conf.get("enable").or_else(|| conf.get("enabled")), true)
}

/// A listener's bind as text: a bare port is `0.0.0.0:<port>`, as EMQX binds it.
pub fn bind_text(conf: &Value) -> Option<String> {
    let text = match conf.get("bind")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(if text.parse::<u16>().is_ok() {
        format!("0.0.0.0:{text}")
    } else {
        text
    })
}

/// `(type, name, conf)` of every listener of a `{Type: {Name: Conf}}` value.
fn listeners(value: Option<&Value>) -> impl Iterator<Item = (&str, &str, &Value)> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|types| types.iter())
        .filter_map(|(t, names)| Some((t.as_str(), names.as_object()?)))
        .flat_map(|(t, names)| names.iter().map(move |(n, v)| (t, n.as_str(), v)))
}

/// Readable records derived from the config: `{"kind":"listener","type":..,"name":..,
/// "bind":..,"enable":..}` per listener, then `{"kind":"gateway","name":..,"enable":..,
/// "listeners":[{"type":..,"name":..,"bind":..}]}` per gateway.
pub fn items(config: &Map<String, Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for (t, n, conf) in listeners(config.get("listeners")) {
        out.push(
            json!({"kind": "listener", "type": t, "name": n, "bind": bind_text(conf),
            "enable": listener_enabled(conf)}),
        );
    }
    let gateways = config.get("gateway").and_then(Value::as_object);
    for (name, gw) in gateways.into_iter().flatten() {
        let gw_listeners: Vec<Value> = listeners(gw.get("listeners"))
            .map(|(t, n, conf)| json!({"type": t, "name": n, "bind": bind_text(conf)}))
            .collect();
        out.push(
            json!({"kind": "gateway", "name": name, "enable": flag(gw.get("enable"), true),
            "listeners": gw_listeners}),
        );
    }
    out
}

/// Warnings about listeners the import moves or disables.
fn listener_warnings(current: &Map<String, Value>, incoming: &Map<String, Value>) -> Vec<Warning> {
    let mut out = Vec::new();
    let node = current.get("listeners");
    for (t, n, inc) in listeners(incoming.get("listeners")) {
        let Some(cur) = node.and_then(|l| l.get(t)).and_then(|l| l.get(n)) else {
            continue;
        };
        let place = format!("listeners.{t}.{n}");
        let (old, new) = (bind_text(cur), bind_text(inc));
        if old != new {
            let text = |b: &Option<String>| {
                b.clone()
                    .unwrap_or_else(|| "the bind emqx.conf or the type's default gives".into())
            };
            out.push(Warning::new(
                LISTENER_BIND_CHANGED,
                format!(
                    "{place}: the import moves the listener from {} to {}; clients, load balancers and firewalls using the old address lose it",
                    text(&old),
                    text(&new)
                ),
            ));
        }
        if listener_enabled(cur) && !listener_enabled(inc) {
            out.push(Warning::new(
                LISTENER_DISABLED,
                format!("{place}: enabled on the node, disabled in the archive: the import stops the listener and disconnects its clients"),
            ));
        }
    }
    out
}

/// Warnings about `log` and `cluster.links` changes, which apply to every node.
fn cluster_wide_warnings(
    current: &Map<String, Value>,
    incoming: &Map<String, Value>,
    changed: &dyn Fn(&str) -> bool,
) -> Vec<Warning> {
    let mut out = Vec::new();
    if incoming.contains_key("log") && changed("log") {
        out.push(Warning::new(
            CLUSTER_WIDE,
            "log: the import changes the log settings of every node in the cluster (handlers, levels, file paths), not only of this one",
        ));
    }
    if let Some(inc) = incoming.get("cluster.links") {
        if changed("cluster.links") {
            let new_names: Vec<Option<String>> = inc
                .as_array()
                .map(|a| a.iter().map(by_name).collect())
                .unwrap_or_default();
            let dropped: Vec<String> = current
                .get("cluster.links")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|l| !new_names.contains(&by_name(l)))
                .map(|l| by_name(l).unwrap_or_else(|| "?".into()))
                .collect();
            let mut message = String::from("cluster.links: the import replaces the links of the whole cluster with the archive's list; every node starts linking to the archive's peers");
            if !dropped.is_empty() {
                message.push_str(&format!(
                    ", and the node's links {} are removed",
                    dropped.join(", ")
                ));
            }
            out.push(Warning::new(CLUSTER_WIDE, message));
        }
    }
    out
}

/// Warnings about what the node sets in a replaced root and the archive does not.
fn replaced_warnings(current: &Map<String, Value>, incoming: &Map<String, Value>) -> Vec<Warning> {
    let mut out = Vec::new();
    for (root, rule) in ROOTS {
        if !matches!(rule, RootMerge::Replace) || root == "cluster.links" {
            continue;
        }
        let (Some(cur), Some(inc)) = (current.get(root), incoming.get(root)) else {
            continue;
        };
        let lost: Vec<String> = match (cur, inc) {
            (Value::Object(c), Value::Object(i)) => c
                .keys()
                .filter(|k| !i.contains_key(*k))
                .map(|k| format!("{root}.{k}"))
                .collect(),
            (Value::Array(c), Value::Array(i)) => c
                .iter()
                .enumerate()
                .filter(|(_, v)| !i.contains(v))
                .map(|(n, _)| format!("{root}[{n}]"))
                .collect(),
            _ => vec![],
        };
        if !lost.is_empty() {
            out.push(emqx_backup_plugin_sdk::domain::counted(
                ROOT_REPLACED,
                lost.len() as u64,
                format!(
                    "{root}: EMQX replaces the node's {root} with the archive's; what only the node sets ({}) falls back to emqx.conf or the defaults",
                    lost.join(", ")
                ),
            ));
        }
    }
    out
}

/// The warning about a `durable_sessions.enable` change.
fn durable_sessions_warning(
    current: &Map<String, Value>,
    incoming: &Map<String, Value>,
) -> Option<Warning> {
    let old = current.get("durable_sessions")?.get("enable")?;
    let new = incoming.get("durable_sessions")?.get("enable")?;
    (old != new).then(|| {
        Warning::new(
            DURABLE_SESSIONS_ENABLE,
            format!("durable_sessions.enable: the archive sets {new}, the node has {old}; EMQX refuses to change it on a running cluster (\"Hot update of durable_sessions.enable parameter is currently not supported\"), so the durable_sessions root fails to import"),
        )
    })
}

/// Problems of the `listeners` root.
fn check_listeners(config: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let Some(value) = config.get("listeners") else {
        return;
    };
    let Some(by_type) = value.as_object() else {
        problems.push(Problem::error(
            "listeners",
            "listeners must be an object of listener types",
        ));
        return;
    };
    for (t, names) in by_type {
        if !LISTENER_TYPES.contains(&t.as_str()) {
            problems.push(Problem::error(
                format!("listeners.{t}"),
                format!(
                    "EMQX has no listener type \"{t}\" (it knows {})",
                    LISTENER_TYPES.join(", ")
                ),
            ));
            continue;
        }
        let Some(names) = names.as_object() else {
            problems.push(Problem::error(
                format!("listeners.{t}"),
                "must be an object of listeners by name",
            ));
            continue;
        };
        for (n, conf) in names {
            let place = format!("listeners.{t}.{n}");
            if !conf.is_object() {
                problems.push(Problem::error(place, "a listener must be an object"));
            } else if conf.get("bind").is_none() {
                problems.push(Problem::warning(
                    place,
                    "the listener has no bind: the node's emqx.conf or the type's default port applies, which may clash with another listener",
                ));
            } else if bind_text(conf).is_none() {
                problems.push(Problem::error(
                    format!("{place}.bind"),
                    "bind must be \"ip:port\" or a port",
                ));
            }
        }
    }
}

/// Problems of a list whose elements the importer keys by `key`.
fn check_keyed_list(
    config: &Map<String, Value>,
    root: &str,
    field: Option<&str>,
    key: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(root_value) = config.get(root) else {
        return;
    };
    let (path, list) = match field {
        Some(f) => (format!("{root}.{f}"), root_value.get(f)),
        None => (root.to_owned(), Some(root_value)),
    };
    let Some(list) = list else {
        return;
    };
    let Some(list) = list.as_array() else {
        problems.push(Problem::error(path, "must be a list"));
        return;
    };
    for (i, item) in list.iter().enumerate() {
        if !item.get(key).is_some_and(Value::is_string) {
            problems.push(Problem::error(
                format!("{path}[{i}]"),
                format!("the element has no \"{key}\", which EMQX's import merges by"),
            ));
        }
    }
}

impl Domain for Config {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "config".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "broker configuration: listeners, gateways and the other roots EMQX's import applies".into(),
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
        let (cur, inc) = (&current.config, &incoming.config);
        let mut warnings = Vec::new();
        // Roots no RootMerge rule expresses.
        let mut replace = |root: &str, plan, value: Option<Value>| {
            if let Some(scope) = result.plan.scopes.iter_mut().find(|s| s.name == root) {
                *scope = plan;
            }
            if let Some(m) = result.merged.as_mut() {
                match value {
                    Some(v) => m.config.insert(root.to_owned(), v),
                    None => m.config.remove(root),
                };
            }
        };
        if let Some(new) = inc.get("ai") {
            let (plan, value) = merge::merge_ai(cur.get("ai"), new, options);
            let keep = cur.contains_key("ai") || value.as_object().is_some_and(|o| !o.is_empty());
            replace("ai", plan, keep.then_some(value));
        }
        for (root, field) in APPEND_ONLY {
            if let Some(new) = inc.get(root) {
                let r = merge::merge_append_only(root, field, cur.get(root), new, options);
                if !r.not_replaced.is_empty() {
                    warnings.push(emqx_backup_plugin_sdk::domain::counted(
                        NOT_REPLACED,
                        r.not_replaced.len() as u64,
                        format!(
                            "{}: the node has these names with other content; EMQX's import only appends new names, so the node's versions stay",
                            r.not_replaced.join(", ")
                        ),
                    ));
                }
                replace(root, r.plan, Some(r.value));
            }
        }
        let scopes = result.plan.scopes.clone();
        let changed = |root: &str| {
            scopes
                .iter()
                .any(|s| s.name == root && !(s.insert.is_empty() && s.update.is_empty()))
        };
        warnings.extend(listener_warnings(cur, inc));
        warnings.extend(cluster_wide_warnings(cur, inc, &changed));
        warnings.extend(replaced_warnings(cur, inc));
        warnings.extend(durable_sessions_warning(cur, inc));
        result.plan.warnings.extend(warnings);
        Ok(result)
    }

    fn check_config(&self, config: &Map<String, Value>) -> Vec<Problem> {
        let mut problems = Vec::new();
        check_listeners(config, &mut problems);
        if let Some(gw) = config.get("gateway") {
            if !gw.is_object() {
                problems.push(Problem::error(
                    "gateway",
                    "gateway must be an object of gateways by name",
                ));
            }
        }
        let keyed: [(&str, Option<&str>, &str); 8] = [
            ("exhook", Some("servers"), "name"),
            ("auto_subscribe", Some("topics"), "topic"),
            ("topic_metrics", None, "topic"),
            ("ai", Some("providers"), "name"),
            ("ai", Some("completion_profiles"), "name"),
            ("schema_validation", Some("validations"), "name"),
            ("message_transformation", Some("transformations"), "name"),
            ("cluster.links", None, "name"),
        ];
        for (root, field, key) in keyed {
            check_keyed_list(config, root, field, key, &mut problems);
        }
        problems
    }
}

export_domain!(Config);
