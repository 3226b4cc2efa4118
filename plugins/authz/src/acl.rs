//! The rows of `emqx_acl` (`{emqx_acl, Who, Rules}`) and `emqx_acl_ns`
//! (`{emqx_acl_ns, {Ns, Who}, Rules, Extra}`, 6.x) in JSON:
//! `{"who": {"username": "u1"}, "rules": [...]}` and
//! `{"namespace": "ns1", "who": "all", "rules": [...], "extra": {"map": []}}`.
//! `who` is `"all"` (key `0`), `{"username": ..}` (`{1, U}`) or `{"clientid": ..}` (`{2, C}`).

use crate::rules;
use emqx_backup_plugin_sdk::table::{from_raw_record, readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::{term_json, Term};
use serde_json::{json, Map, Value};

/// `emqx_acl`, the global ACL table.
pub const ACL: &str = "emqx_acl";
/// `emqx_acl_ns`, the namespaced ACL table of 6.x.
pub const ACL_NS: &str = "emqx_acl_ns";

/// The JSON form of a row key's `who`: `0`, `{1, Username}` or `{2, ClientId}`.
pub fn who_to_json(who: &Term) -> Option<Value> {
    if who.as_i64() == Some(0) {
        return Some(json!("all"));
    }
    let [label, name] = who.as_tuple()? else {
        return None;
    };
    let name = std::str::from_utf8(name.as_binary()?).ok()?;
    match label.as_i64()? {
        1 => Some(json!({ "username": name })),
        2 => Some(json!({ "clientid": name })),
        _ => None,
    }
}

/// The `who` term of a JSON form.
pub fn who_from_json(v: &Value) -> Result<Term, String> {
    if v.as_str() == Some("all") {
        return Ok(Term::Int(0));
    }
    let o = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or("\"who\" must be \"all\", {\"username\": ..} or {\"clientid\": ..}")?;
    let (kind, name) = o.iter().next().expect("one key");
    let label = match kind.as_str() {
        "username" => 1,
        "clientid" => 2,
        other => return Err(format!("unknown \"who\" kind {other:?}")),
    };
    let name = name
        .as_str()
        .ok_or_else(|| format!("\"who.{kind}\" must be a string"))?;
    Ok(Term::tuple(vec![Term::Int(label), Term::binary(name)]))
}

fn who_text(who: &Term) -> Option<String> {
    match who_to_json(who)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o
            .iter()
            .next()
            .map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default())),
        _ => None,
    }
}

/// One of the two ACL tables.
pub struct AclTable(pub &'static str);

impl AclTable {
    fn namespaced(&self) -> bool {
        self.0 == ACL_NS
    }
}

fn rules_to_json(rules: &Term) -> Option<Value> {
    Some(Value::Array(
        rules
            .as_list()?
            .iter()
            .map(rules::stored_rule_to_json)
            .collect(),
    ))
}

fn rules_from_json(v: &Value) -> Result<Term, String> {
    let items = v.as_array().ok_or("\"rules\" must be an array")?;
    items
        .iter()
        .enumerate()
        .map(|(i, r)| rules::stored_rule_from_json(r).map_err(|e| format!("rules[{i}]: {e}")))
        .collect::<Result<_, _>>()
        .map(Term::List)
}

fn readable(table: &AclTable, record: &Term) -> Option<Value> {
    let items = record.as_tuple()?;
    if items.first()?.as_atom() != Some(table.0) {
        return None;
    }
    match (table.namespaced(), items) {
        (false, [_, who, rules]) => Some(json!({
            "who": who_to_json(who)?,
            "rules": rules_to_json(rules)?,
        })),
        (true, [_, key, rules, extra]) => {
            let [ns, who] = key.as_tuple()? else {
                return None;
            };
            Some(json!({
                "namespace": std::str::from_utf8(ns.as_binary()?).ok()?,
                "who": who_to_json(who)?,
                "rules": rules_to_json(rules)?,
                "extra": term_json::to_json(extra),
            }))
        }
        _ => None,
    }
}

impl TableFormat for AclTable {
    fn table(&self) -> &'static str {
        self.0
    }

    fn record_to_json(&self, record: &Term) -> Value {
        readable_or_raw(self, record, readable(self, record))
    }

    fn record_from_json(&self, value: &Value) -> Result<Term, String> {
        if let Some(raw) = from_raw_record(value) {
            return raw;
        }
        let o: &Map<String, Value> = value.as_object().ok_or("an ACL row must be an object")?;
        let known: &[&str] = if self.namespaced() {
            &["namespace", "who", "rules", "extra"]
        } else {
            &["who", "rules"]
        };
        if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("unknown field {k:?} in a {} row", self.0));
        }
        let field = |k: &str| o.get(k).ok_or_else(|| format!("missing \"{k}\""));
        let who = who_from_json(field("who")?)?;
        let rules = rules_from_json(field("rules")?)?;
        if !self.namespaced() {
            return Ok(Term::tuple(vec![Term::atom(self.0), who, rules]));
        }
        let ns = field("namespace")?
            .as_str()
            .ok_or("\"namespace\" must be a string")?;
        let extra = match o.get("extra") {
            Some(e) => term_json::from_json(e).map_err(|e| format!("\"extra\": {e}"))?,
            None => Term::Map(Vec::new()),
        };
        Ok(Term::tuple(vec![
            Term::atom(self.0),
            Term::tuple(vec![Term::binary(ns), who]),
            rules,
            extra,
        ]))
    }

    fn key_text(&self, key: &Term) -> String {
        let text = if self.namespaced() {
            match key.as_tuple() {
                Some([ns, who]) => ns
                    .as_binary()
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .zip(who_text(who))
                    .map(|(ns, who)| format!("{ns}/{who}")),
                _ => None,
            }
        } else {
            who_text(key)
        };
        text.unwrap_or_else(|| key.to_string())
    }

    fn check_record(&self, record: &Term) -> Option<String> {
        let items = record.as_tuple()?;
        let key = items.get(1)?;
        let who = if self.namespaced() {
            match key.as_tuple() {
                Some([ns, who]) if ns.as_binary().is_some() => who,
                _ => return Some("the key is not {Namespace, Who}: EMQX never looks it up".into()),
            }
        } else {
            key
        };
        if who_to_json(who).is_none() {
            return Some(format!(
                "who {who} is not 0, {{1, Username}} or {{2, ClientId}}: EMQX never looks it up"
            ));
        }
        if items.get(2).is_some_and(|r| r.as_list().is_none()) {
            return Some("rules is not a list: EMQX ignores the row".into());
        }
        None
    }
}

/// Problems EMQX would hit authorizing with a row's rules (it imports them regardless).
pub fn rule_problems(record: &Term) -> Vec<String> {
    let Some(rules) = record
        .as_tuple()
        .and_then(|t| t.get(2))
        .and_then(Term::as_list)
    else {
        return Vec::new();
    };
    rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            rules::check_stored_rule(r)
                .err()
                .map(|e| format!("rule {i}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(u: &str) -> Term {
        Term::tuple(vec![Term::Int(1), Term::binary(u)])
    }

    #[test]
    fn key_texts() {
        assert_eq!(AclTable(ACL).key_text(&Term::Int(0)), "all");
        assert_eq!(AclTable(ACL).key_text(&user("u1")), "username:u1");
        let ns_key = Term::tuple(vec![Term::binary("ns1"), user("u1")]);
        assert_eq!(AclTable(ACL_NS).key_text(&ns_key), "ns1/username:u1");
        assert_eq!(AclTable(ACL).key_text(&Term::Int(7)), "7");
    }

    #[test]
    fn namespaced_rows_read_back() {
        let row = Term::tuple(vec![
            Term::atom(ACL_NS),
            Term::tuple(vec![Term::binary("ns1"), Term::Int(0)]),
            Term::List(vec![]),
            Term::Map(vec![]),
        ]);
        let v = AclTable(ACL_NS).record_to_json(&row);
        assert_eq!(
            v,
            json!({"namespace": "ns1", "who": "all", "rules": [], "extra": {"map": []}})
        );
    }

    #[test]
    fn rows_emqx_cannot_use() {
        let t = AclTable(ACL);
        let bad_key = Term::tuple(vec![Term::atom(ACL), Term::Int(3), Term::List(vec![])]);
        assert!(t
            .check_record(&bad_key)
            .unwrap()
            .contains("never looks it up"));
        let bad_rules = Term::tuple(vec![Term::atom(ACL), user("u"), Term::atom("x")]);
        assert!(t.check_record(&bad_rules).unwrap().contains("not a list"));
        let bad_rule = Term::tuple(vec![
            Term::atom(ACL),
            user("u"),
            Term::List(vec![Term::tuple(vec![
                Term::atom("allow"),
                Term::atom("read"),
                Term::binary("t"),
            ])]),
        ]);
        assert!(t.check_record(&bad_rule).is_none());
        assert_eq!(
            rule_problems(&bad_rule),
            vec!["rule 0: invalid action read"]
        );
        assert!(t.record_to_json(&bad_rule)["rules"][0]
            .get("term")
            .is_some());
    }
}
