//! The `authorization` root: EMQX's merge rule, what its schema refuses, the file source's
//! inline rules as records, and the warnings of an import.

use crate::aclconf;
use crate::rules;
use emqx_backup_plugin_sdk::domain::counted;
use emqx_backup_plugin_sdk::roots::merged_value;
use emqx_backup_plugin_sdk::{Problem, RootMerge, Warning};
use serde_json::{json, Map, Value};

/// The root this domain owns.
pub const ROOT: &str = "authorization";

/// Config path of the file source's inline rules.
pub const FILE_RULES_PATH: &str = "authorization.sources[file].rules";

/// Source types EMQX 5.1–6.1 registers (`emqx_conf_schema_inject:authz_mods/0`).
pub const SOURCE_TYPES: [&str; 8] = [
    "built_in_database",
    "file",
    "http",
    "mysql",
    "postgresql",
    "mongodb",
    "redis",
    "ldap",
];

/// A source's id in a merge: its `type`.
pub fn source_type(source: &Value) -> Option<String> {
    source
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `sources` merged by `type`: the node's order kept, equal types replaced, new ones appended.
pub const SOURCES: RootMerge = RootMerge::ListBy(source_type);

/// `authorization`: `sources` merged by type, every other key taken from the backup.
pub const AUTHORIZATION: RootMerge = RootMerge::Field("sources", &SOURCES);

/// The root a node without any `authorization` config runs with (EMQX's schema defaults).
pub fn default_root() -> Value {
    json!({
        "no_match": "deny",
        "deny_action": "ignore",
        "sources": [{"type": "file", "enable": true, "path": "${EMQX_ETC_DIR}/acl.conf"}],
    })
}

fn sources(root: &Value) -> &[Value] {
    root.get("sources")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn source_of<'a>(root: &'a Value, ty: &str) -> Option<&'a Value> {
    sources(root)
        .iter()
        .find(|s| source_type(s).as_deref() == Some(ty))
}

fn enabled(source: &Value) -> bool {
    !matches!(source.get("enable"), Some(Value::Bool(false)))
        && source.get("enable").and_then(Value::as_str) != Some("false")
}

/// The inline rules text of the file source, when the root carries one.
pub fn file_rules_text(root: &Value) -> Option<&str> {
    source_of(root, "file")?.get("rules")?.as_str()
}

/// The file source's rules as records (`{"source": "file", "index": 0, "line": 27,
/// "permission": "allow", "who": .., "action": .., "topics": [..]}`); none when the text does not
/// parse.
pub fn file_rule_items(config: &Map<String, Value>) -> Vec<Value> {
    let Some(text) = config.get(ROOT).and_then(file_rules_text) else {
        return Vec::new();
    };
    aclconf::parse(text)
        .map(|terms| {
            terms
                .iter()
                .enumerate()
                .map(|(i, t)| rules::file_rule_to_json(i, t.line, &t.term))
                .collect()
        })
        .unwrap_or_default()
}

/// Every problem EMQX would find in an `acl.conf` text, each as `line N: ...`.
pub fn check_acl_text(text: &str) -> Vec<String> {
    match aclconf::parse(text) {
        Err(e) => vec![e.to_string()],
        Ok(terms) => terms
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                rules::check_file_rule(&t.term)
                    .err()
                    .map(|e| format!("line {}: rule {i}: {e}", t.line))
            })
            .collect(),
    }
}

fn check_enum(root: &Map<String, Value>, key: &str, allowed: &[&str], out: &mut Vec<Problem>) {
    let Some(v) = root.get(key) else {
        return;
    };
    if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
        out.push(Problem::error(
            format!("{ROOT}.{key}"),
            format!("{v} is not one of {}", allowed.join(", ")),
        ));
    }
}

/// What EMQX's schema and config handler would refuse in the `authorization` root.
pub fn check(config: &Map<String, Value>) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(root) = config.get(ROOT) else {
        return out;
    };
    let Some(root) = root.as_object() else {
        out.push(Problem::error(ROOT, "must be an object"));
        return out;
    };
    check_enum(root, "no_match", &["allow", "deny"], &mut out);
    check_enum(root, "deny_action", &["ignore", "disconnect"], &mut out);
    let Some(list) = root.get("sources") else {
        return out;
    };
    let Some(list) = list.as_array() else {
        out.push(Problem::error(
            format!("{ROOT}.sources"),
            "must be an array",
        ));
        return out;
    };
    let mut seen: Vec<String> = Vec::new();
    for (i, source) in list.iter().enumerate() {
        let place = format!("{ROOT}.sources[#{i}]");
        let Some(o) = source.as_object() else {
            out.push(Problem::error(place, "a source must be an object"));
            continue;
        };
        let Some(ty) = o.get("type") else {
            out.push(Problem::error(
                format!("{place}.type"),
                "missing: EMQX refuses a source without a type (missing_type_field)",
            ));
            continue;
        };
        let Some(ty) = ty.as_str().filter(|t| SOURCE_TYPES.contains(t)) else {
            out.push(Problem::error(
                format!("{place}.type"),
                format!(
                    "unknown source type {ty} (unknown_authz_type); EMQX knows {}",
                    SOURCE_TYPES.join(", ")
                ),
            ));
            continue;
        };
        if seen.iter().any(|t| t == ty) {
            out.push(Problem::error(
                format!("{ROOT}.sources[{ty}]"),
                format!("a second {ty} source: EMQX refuses duplicated source types"),
            ));
            continue;
        }
        seen.push(ty.to_owned());
        if ty == "file" {
            match (o.get("rules"), o.get("path")) {
                (Some(Value::String(text)), _) => {
                    out.extend(
                        check_acl_text(text)
                            .into_iter()
                            .map(|m| Problem::error(FILE_RULES_PATH, m)),
                    );
                }
                (Some(_), _) => out.push(Problem::error(FILE_RULES_PATH, "must be a string")),
                (None, Some(Value::String(_))) => {}
                (None, Some(_)) => out.push(Problem::error(
                    format!("{ROOT}.sources[file].path"),
                    "must be a string",
                )),
                (None, None) => out.push(Problem::error(
                    format!("{ROOT}.sources[file]"),
                    "the file source has neither rules nor path",
                )),
            }
        }
    }
    out
}

fn rule_count(text: &str) -> Option<usize> {
    aclconf::parse(text).ok().map(|t| t.len())
}

fn count_text(n: Option<usize>) -> String {
    n.map_or_else(|| "unreadable".to_owned(), |n| n.to_string())
}

/// The warnings of importing `incoming` over `current` (EMQX's defaults when the node has no
/// `authorization` root), given how many ACL rows the archive carries.
pub fn merge_warnings(
    current: Option<&Value>,
    incoming: Option<&Value>,
    acl_rows: u64,
) -> Vec<Warning> {
    let default = default_root();
    let current = current.unwrap_or(&default);
    let merged = match incoming {
        Some(inc) => merged_value(&AUTHORIZATION, Some(current), inc),
        None => current.clone(),
    };
    let mut out = Vec::new();
    if acl_rows > 0 && !source_of(&merged, "built_in_database").is_some_and(enabled) {
        out.push(counted(
            "authz.acl_rules_unused",
            acl_rows,
            format!(
                "the archive carries {acl_rows} ACL rows (emqx_acl, emqx_acl_ns) but after the import {ROOT}.sources has no enabled built_in_database source: EMQX stores the rules and never consults them"
            ),
        ));
    }
    let no_match = |root: &Value| {
        root.get("no_match")
            .and_then(Value::as_str)
            .unwrap_or("deny")
            .to_owned()
    };
    if no_match(current) == "deny" && no_match(&merged) == "allow" {
        out.push(Warning::new(
            "authz.no_match_opened",
            format!(
                "{ROOT}.no_match changes from deny to allow: clients no source matches are then allowed to publish and subscribe to anything"
            ),
        ));
    }
    if let Some(after) = incoming.and_then(file_rules_text) {
        let before = source_of(current, "file");
        let before_text = before.and_then(|s| s.get("rules")).and_then(Value::as_str);
        if before_text != Some(after) {
            let after_n = rule_count(after);
            let message = match (before, before_text) {
                (None, _) => format!(
                    "{ROOT}.sources gains a file source with {} rules (written to data/authz/acl.conf)",
                    count_text(after_n)
                ),
                (Some(_), Some(b)) => format!(
                    "the file source's rules change from {} to {} rules (data/authz/acl.conf is rewritten)",
                    count_text(rule_count(b)),
                    count_text(after_n)
                ),
                (Some(s), None) => format!(
                    "the file source's rules, read from {}, are replaced by the archive's {} rules (written to data/authz/acl.conf)",
                    s.get("path").and_then(Value::as_str).unwrap_or("its path"),
                    count_text(after_n)
                ),
            };
            let mut w = Warning::new("authz.file_rules_changed", message);
            w.count = after_n.map(|n| n as u64);
            out.push(w);
        }
    }
    out
}
