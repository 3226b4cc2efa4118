//! Merging cluster.hocon roots as EMQX's importers do (spec §3.11), with a plan of what
//! changes, one unit per authenticator, source, connector, listener or key.

use crate::model::{Options, ScopeKind, ScopePlan};
use serde_json::{Map, Value};

/// How EMQX merges one root of an imported cluster.hocon into the node's.
#[derive(Clone, Copy, Debug)]
pub enum RootMerge {
    /// No config handler: the backup's value replaces the node's.
    Replace,
    /// `maps:merge(Old, New)` on the first level.
    FirstLevel,
    /// A list merged by an id: the node's order kept, equal ids replaced, new ones appended.
    ListBy(fn(&Value) -> Option<String>),
    /// `{Type: {Name: Conf}}`: per type, old names ∪ new names, new wins.
    PerTypeByName,
    /// EMQX exports the root but its import never applies it (`dashboard`, `api_key`).
    NotImported,
    /// An object where one field merges with its own rule and the other keys come from the
    /// backup over the node's (authorization `sources`, rule_engine `rules`).
    Field(&'static str, &'static RootMerge),
}

/// A unit of change: its key in the plan and its value.
type Unit = (String, Value);

fn units(root: &str, rule: &RootMerge, value: &Value) -> Vec<Unit> {
    match (rule, value) {
        (RootMerge::FirstLevel, Value::Object(o)) => o
            .iter()
            .map(|(k, v)| (format!("{root}.{k}"), v.clone()))
            .collect(),
        (RootMerge::ListBy(id), Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let key = id(v).unwrap_or_else(|| format!("#{i}"));
                (format!("{root}[{key}]"), v.clone())
            })
            .collect(),
        (RootMerge::PerTypeByName, Value::Object(types)) => types
            .iter()
            .flat_map(|(t, names)| match names {
                Value::Object(names) => names
                    .iter()
                    .map(|(n, v)| (format!("{root}.{t}.{n}"), v.clone()))
                    .collect::<Vec<_>>(),
                other => vec![(format!("{root}.{t}"), other.clone())],
            })
            .collect(),
        (RootMerge::Field(field, inner), Value::Object(o)) => o
            .iter()
            .flat_map(|(k, v)| {
                if k == field {
                    units(&format!("{root}.{k}"), inner, v)
                } else {
                    vec![(format!("{root}.{k}"), v.clone())]
                }
            })
            .collect(),
        _ => vec![(root.to_owned(), value.clone())],
    }
}

/// The value EMQX leaves after importing `incoming` over `current`.
pub fn merged_value(rule: &RootMerge, current: Option<&Value>, incoming: &Value) -> Value {
    let Some(current) = current else {
        return incoming.clone();
    };
    match (rule, current, incoming) {
        (RootMerge::FirstLevel, Value::Object(old), Value::Object(new)) => {
            let mut out = old.clone();
            for (k, v) in new {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
        (RootMerge::ListBy(id), Value::Array(old), Value::Array(new)) => {
            let mut out = old.clone();
            for item in new {
                let key = id(item);
                match key
                    .as_ref()
                    .and_then(|k| out.iter().position(|o| id(o).as_ref() == Some(k)))
                {
                    Some(pos) => out[pos] = item.clone(),
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        (RootMerge::PerTypeByName, Value::Object(old), Value::Object(new)) => {
            let mut out = old.clone();
            for (t, names) in new {
                match (out.get_mut(t), names) {
                    (Some(Value::Object(have)), Value::Object(names)) => {
                        for (n, v) in names {
                            have.insert(n.clone(), v.clone());
                        }
                    }
                    _ => {
                        out.insert(t.clone(), names.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (RootMerge::Field(field, inner), Value::Object(old), Value::Object(new)) => {
            let mut out = old.clone();
            for (k, v) in new {
                let value = if k == field {
                    merged_value(inner, old.get(k), v)
                } else {
                    v.clone()
                };
                out.insert(k.clone(), value);
            }
            Value::Object(out)
        }
        _ => incoming.clone(),
    }
}

/// Plans and performs the merge of one root; `None` from the incoming side changes nothing.
pub fn merge_root(
    root: &str,
    rule: &RootMerge,
    current: Option<&Value>,
    incoming: Option<&Value>,
    options: &Options,
) -> (ScopePlan, Option<Value>) {
    let mut plan = ScopePlan::new(ScopeKind::Root, root);
    if let RootMerge::NotImported = rule {
        plan.kept = u64::from(current.is_some());
        return (plan, current.cloned());
    }
    let old_units = current.map(|v| units(root, rule, v)).unwrap_or_default();
    let new_units = incoming.map(|v| units(root, rule, v)).unwrap_or_default();
    let mut kept_keys = options.list_kept.then(Vec::new);
    let mut unchanged_keys = options.list_unchanged.then(Vec::new);
    for (key, value) in &new_units {
        match old_units.iter().find(|(k, _)| k == key) {
            None => plan.insert.push(key.clone()),
            Some((_, old)) if old == value => {
                plan.unchanged += 1;
                if let Some(keys) = unchanged_keys.as_mut() {
                    keys.push(key.clone());
                }
            }
            Some(_) => plan.update.push(key.clone()),
        }
    }
    for (key, _) in &old_units {
        if !new_units.iter().any(|(k, _)| k == key) {
            plan.kept += 1;
            if let Some(keys) = kept_keys.as_mut() {
                keys.push(key.clone());
            }
        }
    }
    plan.kept_keys = kept_keys;
    plan.unchanged_keys = unchanged_keys;
    let merged = match incoming {
        Some(new) => Some(merged_value(rule, current, new)),
        None => current.cloned(),
    };
    (plan, merged)
}

/// Puts `value` at a dotted path of a config object (`cluster.links`), creating objects on
/// the way and replacing what is not an object.
pub fn put_path(config: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            config.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let slot = config
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                put_path(inner, rest, value);
            }
        }
    }
}

/// The value at a dotted path of a config object (`cluster.links`).
pub fn get_path<'a>(config: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = config.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn by_name(v: &Value) -> Option<String> {
        v.get("name").and_then(Value::as_str).map(str::to_owned)
    }

    #[test]
    fn list_merge_keeps_order_and_appends() {
        let rule = RootMerge::ListBy(by_name);
        let old = json!([{"name": "a", "x": 1}, {"name": "b", "x": 1}]);
        let new = json!([{"name": "c", "x": 1}, {"name": "a", "x": 2}]);
        let (plan, merged) = merge_root("r", &rule, Some(&old), Some(&new), &Options::default());
        assert_eq!(
            merged.unwrap(),
            json!([{"name": "a", "x": 2}, {"name": "b", "x": 1}, {"name": "c", "x": 1}])
        );
        assert_eq!(plan.insert, vec!["r[c]"]);
        assert_eq!(plan.update, vec!["r[a]"]);
        assert_eq!(plan.kept, 1);
    }

    #[test]
    fn field_rule_merges_one_field_and_takes_the_rest() {
        const SOURCES: RootMerge = RootMerge::ListBy(by_name);
        let rule = RootMerge::Field("sources", &SOURCES);
        let old = json!({"no_match": "deny", "sources": [{"name": "a"}]});
        let new = json!({"no_match": "allow", "sources": [{"name": "b"}]});
        let (plan, merged) =
            merge_root("authz", &rule, Some(&old), Some(&new), &Options::default());
        assert_eq!(
            merged.unwrap(),
            json!({"no_match": "allow", "sources": [{"name": "a"}, {"name": "b"}]})
        );
        assert_eq!(plan.update, vec!["authz.no_match"]);
        assert_eq!(plan.insert, vec!["authz.sources[b]"]);
    }

    #[test]
    fn per_type_by_name() {
        let old = json!({"http": {"a": 1, "b": 1}});
        let new = json!({"http": {"b": 2}, "mqtt": {"c": 1}});
        let merged = merged_value(&RootMerge::PerTypeByName, Some(&old), &new);
        assert_eq!(merged, json!({"http": {"a": 1, "b": 2}, "mqtt": {"c": 1}}));
    }
}
