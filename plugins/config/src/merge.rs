//! Roots whose importer merges in a way no `RootMerge`
//! rule expresses: `ai` (two lists merged by name) and `schema_validation` /
//! `message_transformation` (a list where only new names are appended, the rest deep-merged).

use emqx_backup_plugin_sdk::model::{Options, ScopeKind, ScopePlan};
use emqx_backup_plugin_sdk::roots::{merge_root, RootMerge};
use serde_json::{Map, Value};

/// The `name` of a list element.
pub fn by_name(v: &Value) -> Option<String> {
    v.get("name").and_then(Value::as_str).map(str::to_owned)
}

/// The `topic` of a list element.
pub fn by_topic(v: &Value) -> Option<String> {
    v.get("topic").and_then(Value::as_str).map(str::to_owned)
}

/// `emqx_utils_maps:deep_merge(Old, New)`: objects merged key by key, recursively; anything
/// else from `new`.
pub fn deep_merge(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut out = o.clone();
            for (k, v) in n {
                let merged = match o.get(k) {
                    Some(ov) => deep_merge(ov, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => new.clone(),
    }
}

/// Adds one scope's counts and keys to another's.
fn absorb(into: &mut ScopePlan, from: ScopePlan) {
    into.insert.extend(from.insert);
    into.update.extend(from.update);
    into.unchanged += from.unchanged;
    into.kept += from.kept;
    if let Some(keys) = from.kept_keys {
        into.kept_keys.get_or_insert_with(Vec::new).extend(keys);
    }
    if let Some(keys) = from.unchanged_keys {
        into.unchanged_keys
            .get_or_insert_with(Vec::new)
            .extend(keys);
    }
}

fn empty_scope(root: &str, options: &Options) -> ScopePlan {
    let mut plan = ScopePlan::new(ScopeKind::Root, root);
    plan.kept_keys = options.list_kept.then(Vec::new);
    plan.unchanged_keys = options.list_unchanged.then(Vec::new);
    plan
}

fn unchanged(plan: &mut ScopePlan, key: String) {
    plan.unchanged += 1;
    if let Some(keys) = plan.unchanged_keys.as_mut() {
        keys.push(key);
    }
}

fn kept(plan: &mut ScopePlan, key: String) {
    plan.kept += 1;
    if let Some(keys) = plan.kept_keys.as_mut() {
        keys.push(key);
    }
}

/// `merge_by_names(Old, New)` of `emqx_ai_completion_config`: the node's elements whose name
/// the archive lacks, then all of the archive's.
fn merge_by_names(old: &[Value], new: &[Value]) -> Vec<Value> {
    let names: Vec<Option<String>> = new.iter().map(by_name).collect();
    old.iter()
        .filter(|o| !names.contains(&by_name(o)))
        .chain(new)
        .cloned()
        .collect()
}

/// The list fields of `ai` the importer applies; its other keys it leaves alone.
pub const AI_LISTS: [&str; 2] = ["providers", "completion_profiles"];

/// `emqx_ai_completion_config:import_config`: `providers` and `completion_profiles` each
/// merged by name (node's other names first, then the archive's); other keys not applied.
pub fn merge_ai(
    current: Option<&Value>,
    incoming: &Value,
    options: &Options,
) -> (ScopePlan, Value) {
    const LIST: RootMerge = RootMerge::ListBy(by_name);
    let mut plan = empty_scope("ai", options);
    let mut value = current
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    for field in AI_LISTS {
        let cur = current.and_then(|c| c.get(field));
        let Some(inc) = incoming.get(field) else {
            continue;
        };
        let (scope, _) = merge_root(&format!("ai.{field}"), &LIST, cur, Some(inc), options);
        absorb(&mut plan, scope);
        let merged = match (cur.and_then(Value::as_array), inc.as_array()) {
            (Some(old), Some(new)) => Value::Array(merge_by_names(old, new)),
            _ => inc.clone(),
        };
        if let Value::Object(o) = &mut value {
            o.insert(field.to_owned(), merged);
        }
    }
    (plan, value)
}

/// What [`merge_append_only`] leaves.
pub struct AppendOnly {
    /// The plan of the root.
    pub plan: ScopePlan,
    /// The merged value.
    pub value: Value,
    /// Names the archive has with other content than the node's, which EMQX leaves as the node
    /// has them.
    pub not_replaced: Vec<String>,
}

/// The `{merge, Conf}` update of `emqx_schema_validation_config` and
/// `emqx_message_transformation_config`: elements of `field` whose name the node lacks are
/// appended, the others stay as the node has them; every other key is deep-merged.
pub fn merge_append_only(
    root: &str,
    field: &str,
    current: Option<&Value>,
    incoming: &Value,
    options: &Options,
) -> AppendOnly {
    let mut plan = empty_scope(root, options);
    let mut not_replaced = Vec::new();
    let empty = Map::new();
    let cur = current.and_then(Value::as_object).unwrap_or(&empty);
    let inc = incoming.as_object().unwrap_or(&empty);
    let mut out = cur.clone();
    // The list.
    let old_list: &[Value] = cur
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let new_list: &[Value] = inc
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut list = old_list.to_vec();
    for item in new_list {
        let name = by_name(item).unwrap_or_default();
        let key = format!("{root}.{field}[{name}]");
        match old_list
            .iter()
            .find(|o| by_name(o).as_deref() == Some(&name))
        {
            None => {
                if !list.iter().any(|o| by_name(o).as_deref() == Some(&name)) {
                    plan.insert.push(key);
                    list.push(item.clone());
                }
            }
            Some(old) if old == item => unchanged(&mut plan, key),
            Some(_) => not_replaced.push(key),
        }
    }
    for old in old_list {
        let name = by_name(old).unwrap_or_default();
        if !new_list
            .iter()
            .any(|n| by_name(n).as_deref() == Some(&name))
        {
            kept(&mut plan, format!("{root}.{field}[{name}]"));
        }
    }
    if cur.contains_key(field) || inc.contains_key(field) {
        out.insert(field.to_owned(), Value::Array(list));
    }
    // The other keys.
    for (k, v) in inc.iter().filter(|(k, _)| *k != field) {
        let key = format!("{root}.{k}");
        match cur.get(k) {
            None => {
                plan.insert.push(key);
                out.insert(k.clone(), v.clone());
            }
            Some(old) => {
                let merged = deep_merge(old, v);
                if &merged == old {
                    unchanged(&mut plan, key);
                } else {
                    plan.update.push(key);
                }
                out.insert(k.clone(), merged);
            }
        }
    }
    for k in cur.keys().filter(|k| *k != field && !inc.contains_key(*k)) {
        kept(&mut plan, format!("{root}.{k}"));
    }
    AppendOnly {
        plan,
        value: Value::Object(out),
        not_replaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_merge_keeps_nested_keys() {
        let old = json!({"a": {"x": 1, "y": 1}, "b": 1});
        let new = json!({"a": {"y": 2}, "c": 3});
        assert_eq!(
            deep_merge(&old, &new),
            json!({"a": {"x": 1, "y": 2}, "b": 1, "c": 3})
        );
    }

    #[test]
    fn ai_lists_move_replaced_names_to_the_end() {
        let old = json!({"providers": [{"name": "a", "v": 1}, {"name": "b", "v": 1}], "x": 1});
        let new = json!({"providers": [{"name": "a", "v": 2}], "x": 2});
        let (plan, value) = merge_ai(Some(&old), &new, &Options::default());
        assert_eq!(
            value,
            json!({"providers": [{"name": "b", "v": 1}, {"name": "a", "v": 2}], "x": 1})
        );
        assert_eq!(plan.update, vec!["ai.providers[a]"]);
        assert_eq!(plan.kept, 1);
    }

    #[test]
    fn append_only_keeps_the_nodes_version() {
        let old = json!({"validations": [{"name": "a", "v": 1}], "opts": {"x": 1}});
        let new = json!({"validations": [{"name": "a", "v": 2}, {"name": "b", "v": 2}],
            "opts": {"y": 2}});
        let r = merge_append_only(
            "schema_validation",
            "validations",
            Some(&old),
            &new,
            &Options::default(),
        );
        assert_eq!(
            r.value,
            json!({"validations": [{"name": "a", "v": 1}, {"name": "b", "v": 2}],
                "opts": {"x": 1, "y": 2}})
        );
        assert_eq!(r.plan.insert, vec!["schema_validation.validations[b]"]);
        assert_eq!(r.plan.update, vec!["schema_validation.opts"]);
        assert_eq!(r.not_replaced, vec!["schema_validation.validations[a]"]);
    }
}
