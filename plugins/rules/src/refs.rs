//! References between data-integration entries: rules name actions (`"http:x"`, 5.x
//! `"webhook:x"`) and sources (`FROM "$bridges/mqtt:x"`), actions and sources name their
//! connector. Checked against a merged config, as EMQX resolves them after the import.

use crate::types::action_type;
use serde_json::{Map, Value};

/// `(type, name, conf)` of every entry of a `{Type: {Name: Conf}}` root.
pub fn entries<'a>(
    config: &'a Map<String, Value>,
    root: &str,
) -> impl Iterator<Item = (&'a str, &'a str, &'a Value)> {
    config
        .get(root)
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|types| types.iter())
        .filter_map(|(t, names)| Some((t.as_str(), names.as_object()?)))
        .flat_map(|(t, names)| names.iter().map(move |(n, v)| (t, n.as_str(), v)))
}

/// `(id, conf)` of every rule in `rule_engine.rules`.
pub fn rules(config: &Map<String, Value>) -> impl Iterator<Item = (&str, &Value)> {
    config
        .get("rule_engine")
        .and_then(|r| r.get("rules"))
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|rules| rules.iter().map(|(id, v)| (id.as_str(), v)))
}

/// `type` and `name` of a `"type:name"` reference.
pub fn parse_ref(text: &str) -> Option<(&str, &str)> {
    let (t, n) = text.split_once(':')?;
    (!t.is_empty() && !n.is_empty()).then_some((t, n))
}

/// The `$bridges/type:name` and `$sources/type:name` hook points a rule's SQL reads from.
pub fn sql_hookpoints(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in ["$bridges/", "$sources/"] {
        let mut rest = sql;
        while let Some(at) = rest.find(prefix) {
            let tail = &rest[at + prefix.len()..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_-.:".contains(c)))
                .unwrap_or(tail.len());
            out.push(format!("{prefix}{}", &tail[..end]));
            rest = &tail[end..];
        }
    }
    out
}

/// Whether `root` (`actions`, `sources`) or `bridges` holds `type:name`, the 5.x bridge type
/// names standing for the action types they became.
fn exists_in(config: &Map<String, Value>, root: &str, ty: &str, name: &str) -> bool {
    let want = action_type(ty);
    [root, "bridges"].iter().any(|r| {
        entries(config, r).any(|(t, n, _)| n == name && (t == ty || action_type(t) == want))
    })
}

/// Whether a rule's action reference resolves in `config`.
pub fn action_exists(config: &Map<String, Value>, ty: &str, name: &str) -> bool {
    exists_in(config, "actions", ty, name)
}

/// Whether a rule's `$bridges/` or `$sources/` hook point resolves in `config`.
pub fn source_exists(config: &Map<String, Value>, ty: &str, name: &str) -> bool {
    exists_in(config, "sources", ty, name)
}

/// Whether `connectors.<type>.<name>` exists (EMQX looks the connector up under the action's
/// own type name).
pub fn connector_exists(config: &Map<String, Value>, ty: &str, name: &str) -> bool {
    config
        .get("connectors")
        .and_then(|c| c.get(ty))
        .and_then(|c| c.get(name))
        .is_some()
}

/// Every reference of the incoming config's rules, actions and sources that `merged` lacks, as
/// `(what refers, what is missing)` sentences.
pub fn missing(incoming: &Map<String, Value>, merged: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (id, rule) in rules(incoming) {
        let actions = rule.get("actions").and_then(Value::as_array);
        for action in actions.into_iter().flatten() {
            let Some((t, n)) = action.as_str().and_then(parse_ref) else {
                continue;
            };
            if !action_exists(merged, t, n) {
                out.push(format!(
                    "rule {id} (rule_engine.rules.{id}) sends to action {t}:{n}, which neither the archive nor the node has (actions.{}.{n}): EMQX imports the rule, logs action_references_nonexistent_bridges and the action does nothing",
                    action_type(t)
                ));
            }
        }
        let sql = rule.get("sql").and_then(Value::as_str).unwrap_or_default();
        for hook in sql_hookpoints(sql) {
            let Some((t, n)) = hook.split_once('/').and_then(|(_, r)| parse_ref(r)) else {
                continue;
            };
            if !source_exists(merged, t, n) {
                out.push(format!(
                    "rule {id} (rule_engine.rules.{id}) reads from \"{hook}\", a source neither the archive nor the node has (sources.{}.{n}): the rule never fires",
                    action_type(t)
                ));
            }
        }
    }
    for (root, kind) in [("actions", "action"), ("sources", "source")] {
        for (t, n, conf) in entries(incoming, root) {
            let Some(c) = conf.get("connector").and_then(Value::as_str) else {
                continue;
            };
            if !connector_exists(merged, t, c) {
                out.push(format!(
                    "{kind} {root}.{t}.{n} uses connector {c}, which neither the archive nor the node has (connectors.{t}.{c}): EMQX reports connector_not_found_or_wrong_type and the {kind} cannot run"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hookpoints_in_sql() {
        let sql = "SELECT * FROM \"$bridges/mqtt:in\", \"t/#\", \"$sources/kafka_consumer:k-1\"";
        assert_eq!(
            sql_hookpoints(sql),
            vec!["$bridges/mqtt:in", "$sources/kafka_consumer:k-1"]
        );
    }

    #[test]
    fn bridge_types_resolve_to_actions() {
        let config =
            json!({"actions": {"kafka_producer": {"k": {}}}, "bridges": {"webhook": {"w": {}}}});
        let config = config.as_object().unwrap();
        assert!(action_exists(config, "kafka", "k"));
        assert!(action_exists(config, "kafka_producer", "k"));
        assert!(action_exists(config, "http", "w"));
        assert!(action_exists(config, "webhook", "w"));
        assert!(!action_exists(config, "http", "k"));
    }
}
