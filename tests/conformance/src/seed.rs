//! Data in every domain, seeded through EMQX's REST API, and the state read back for comparing.

use crate::api::Api;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const AUTHN: &str = "/authentication/password_based:built_in_database";

/// The dashboard user the seed creates, with its password (logging in proves the hash came along).
pub const DASHBOARD_USER: (&str, &str) = ("operator", "operator-pass1");

/// Seeds authn (authenticators and users), authz (source and rules), a ban, a dashboard user,
/// an API key, and a connector, an action and a rule.
pub fn all(api: &Api) -> anyhow::Result<()> {
    api.post("/authentication", json!({"mechanism": "password_based", "backend": "built_in_database",
        "user_id_type": "username", "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}))?;
    for (user, pass) in [("alice", "alice-pass"), ("bob", "bob-pass")] {
        api.post(
            &format!("{AUTHN}/users"),
            json!({"user_id": user, "password": pass}),
        )?;
    }
    api.post(
        "/authentication",
        json!({"mechanism": "scram", "backend": "built_in_database",
        "algorithm": "sha256", "iteration_count": 4096}),
    )?;
    api.post(
        "/authentication/scram:built_in_database/users",
        json!({"user_id": "scram-user", "password": "s3cret"}),
    )?;
    api.post(
        "/authorization/sources",
        json!({"type": "built_in_database", "enable": true}),
    )?;
    api.post(
        "/authorization/sources/built_in_database/rules/users",
        json!([{"username": "alice", "rules": [
        {"topic": "alice/#", "permission": "allow", "action": "all"},
        {"topic": "secret/#", "permission": "deny", "action": "subscribe"}]}]),
    )?;
    api.post("/banned", json!({"as": "clientid", "who": "mallory", "reason": "conformance", "until": "2099-01-01T00:00:00Z"}))?;
    api.post(
        "/users",
        json!({"username": DASHBOARD_USER.0, "password": DASHBOARD_USER.1, "description": "conformance"}),
    )?;
    api.post(
        "/api_key",
        json!({"name": "conformance", "desc": "seeded key", "enable": true}),
    )?;
    api.post(
        "/connectors",
        json!({"type": "http", "name": "hook", "url": "http://127.0.0.1:8080", "enable": true}),
    )?;
    api.post(
        "/actions",
        json!({"type": "http", "name": "hook", "connector": "hook",
        "parameters": {"method": "post", "path": "/"}}),
    )?;
    api.post(
        "/rules",
        json!({"id": "conformance_rule", "sql": "SELECT * FROM \"alice/#\"", "actions": ["http:hook"]}),
    )?;
    Ok(())
}

/// The items of a list reply: the array itself, or its `data` or `sources` field.
pub fn items(v: &Value) -> Vec<Value> {
    v.as_array()
        .or_else(|| v["data"].as_array())
        .or_else(|| v["sources"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// `fields` of every item, sorted, so two brokers' answers compare whatever volatile fields
/// (timestamps, metrics, status) they add.
fn pick(list: Vec<Value>, fields: &[&str]) -> Value {
    let mut out: Vec<Value> = list
        .iter()
        .map(|item| {
            let mut o = serde_json::Map::new();
            for f in fields {
                o.insert(
                    (*f).to_owned(),
                    item.get(*f).cloned().unwrap_or(Value::Null),
                );
            }
            Value::Object(o)
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    Value::Array(out)
}

/// The state of every seeded domain as the REST API shows it, by domain.
pub fn snapshot(api: &Api) -> anyhow::Result<BTreeMap<String, Value>> {
    let mut s = BTreeMap::new();
    let authenticators = items(&api.get("/authentication")?);
    s.insert(
        "authn.authenticators".into(),
        pick(authenticators.clone(), &["mechanism", "backend", "enable"]),
    );
    for a in &authenticators {
        let (Some(m), Some(b)) = (a["mechanism"].as_str(), a["backend"].as_str()) else {
            continue;
        };
        if b != "built_in_database" {
            continue;
        }
        let id = format!("{m}:{b}");
        let users = items(&api.get(&format!("/authentication/{id}/users?limit=1000"))?);
        s.insert(
            format!("authn.users.{id}"),
            pick(users, &["user_id", "is_superuser"]),
        );
    }
    s.insert(
        "authz.sources".into(),
        pick(
            items(&api.get("/authorization/sources")?),
            &["type", "enable"],
        ),
    );
    s.insert(
        "authz.rules.users".into(),
        pick(
            items(&api.get("/authorization/sources/built_in_database/rules/users?limit=1000")?),
            &["username", "rules"],
        ),
    );
    s.insert(
        "banned".into(),
        pick(
            items(&api.get("/banned?limit=1000")?),
            &["as", "who", "reason"],
        ),
    );
    s.insert(
        "dashboard.users".into(),
        pick(items(&api.get("/users")?), &["username", "description"]),
    );
    s.insert(
        "dashboard.api_keys".into(),
        pick(items(&api.get("/api_key")?), &["name", "desc", "enable"]),
    );
    s.insert(
        "rules.connectors".into(),
        pick(items(&api.get("/connectors")?), &["type", "name"]),
    );
    s.insert(
        "rules.actions".into(),
        pick(items(&api.get("/actions")?), &["type", "name", "connector"]),
    );
    s.insert(
        "rules.rules".into(),
        pick(
            items(&api.get("/rules?limit=1000")?),
            &["id", "sql", "actions"],
        ),
    );
    Ok(s)
}

/// The domains whose state differs between `a` and `b`, each with both values.
pub fn differences(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "{k}: {} != {}",
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null)
            )
        })
        .collect()
}
