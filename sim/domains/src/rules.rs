//! Data integration: rules (`rule_engine.rules.<id>`, `emqx_rule_engine_api`), connectors
//! (`connectors.<type>.<name>`, `emqx_connector_api`), actions and sources
//! (`actions|sources.<type>.<name>`, `emqx_bridge_v2_api`). All live in config; nothing runs.

use crate::common::{
    blocking, check_write, deobfuscate, get_path, no_content, now_ms, object_body, ok,
    random_bytes, redact, reply, rfc3339_ms, set_path, write_no_content, ApiError, MaybeCaller,
    Pager, Query,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use emqx_sim_store::{Node, StoreError, Tx};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The rules' root.
pub const RULE_ROOT: &str = "rule_engine";

/// Body fields EMQX drops before storing a resource's config.
const RESOURCE_EXTRA: &[&str] = &[
    "id",
    "type",
    "name",
    "status",
    "status_reason",
    "node_status",
    "node",
];

/// Body fields EMQX drops before storing a rule's config.
const RULE_EXTRA: &[&str] = &[
    "id",
    "status",
    "node_status",
    "node_metrics",
    "metrics",
    "node",
];

type St = State<Arc<Node>>;
type Q = axum::extract::Query<Query>;

/// The routes of this domain.
pub fn routes() -> Router<Arc<Node>> {
    let mut r = Router::new()
        .route("/rules", get(list_rules).post(create_rule))
        .route(
            "/rules/{id}",
            get(read_rule).put(update_rule).delete(delete_rule),
        );
    for kind in [Kind::Connectors, Kind::Actions, Kind::Sources] {
        let root = kind.root();
        r = r
            .route(
                &format!("/{root}"),
                get(move |s: St| list_resources(s, kind))
                    .post(move |s: St, c: MaybeCaller, b: Bytes| create_resource(s, c, b, kind)),
            )
            .route(
                &format!("/{root}/{{id}}"),
                get(move |s: St, p: Path<String>| read_resource(s, p, kind))
                    .put(move |s: St, c: MaybeCaller, p: Path<String>, b: Bytes| {
                        update_resource(s, c, p, b, kind)
                    })
                    .delete(move |s: St, c: MaybeCaller, p: Path<String>, q: Q| {
                        delete_resource(s, c, p, q, kind)
                    }),
            )
            .route(
                &format!("/{root}/{{id}}/enable/{{enable}}"),
                put(move |s: St, c: MaybeCaller, p: Path<(String, String)>| {
                    enable_resource(s, c, p, kind)
                }),
            );
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Rules

fn rules(tx: &Tx<'_>) -> Result<Map<String, Value>, StoreError> {
    Ok(tx
        .config(RULE_ROOT)?
        .and_then(|r| r.get("rules").cloned())
        .and_then(|r| match r {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .unwrap_or_default())
}

fn save_rule(tx: &mut Tx<'_>, id: &str, conf: Option<Value>) -> Result<(), StoreError> {
    let mut root = tx
        .config(RULE_ROOT)?
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    match conf {
        Some(c) => set_path(&mut root, &["rules", id], c),
        None => {
            crate::common::remove_path(&mut root, &["rules", id]);
        }
    }
    tx.set_config(RULE_ROOT, &root)
}

/// The topics of a rule's `FROM` clause (quoted, comma separated, up to `WHERE`).
pub fn sql_from(sql: &str) -> Vec<String> {
    // Tokens outside quotes, keeping quoted strings whole.
    let mut tokens: Vec<(String, bool)> = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<(String, bool)>| {
        if !word.is_empty() {
            tokens.push((std::mem::take(word), false));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                flush(&mut word, &mut tokens);
                let mut s = String::new();
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    s.push(d);
                }
                tokens.push((s, true));
            }
            c if c.is_whitespace() || c == ',' => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    let Some(start) = tokens
        .iter()
        .position(|(t, quoted)| !quoted && t.eq_ignore_ascii_case("from"))
    else {
        return Vec::new();
    };
    tokens[start + 1..]
        .iter()
        .take_while(|(t, quoted)| *quoted || !t.eq_ignore_ascii_case("where"))
        .map(|(t, _)| t.clone())
        .collect()
}

/// `format_rule_info_resp/1`.
fn format_rule(id: &str, conf: &Value) -> Value {
    let sql = conf.get("sql").and_then(Value::as_str).unwrap_or_default();
    let created = get_path(conf, &["metadata", "created_at"])
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let modified = get_path(conf, &["metadata", "last_modified_at"])
        .and_then(Value::as_i64)
        .unwrap_or(created);
    json!({
        "id": id,
        "name": conf.get("name").cloned().unwrap_or(json!("")),
        "from": sql_from(sql),
        "actions": conf.get("actions").cloned().unwrap_or(json!([])),
        "sql": sql,
        "enable": conf.get("enable").cloned().unwrap_or(json!(true)),
        "created_at": rfc3339_ms(created),
        "last_modified_at": rfc3339_ms(modified),
        "description": conf.get("description").cloned().unwrap_or(json!("")),
    })
}

fn check_rule(conf: &Map<String, Value>) -> Result<(), ApiError> {
    let sql = match conf.get("sql") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sql: expected an SQL string, got {other}"
            )))
        }
        None => return Err(ApiError::bad_request("sql: required field missing")),
    };
    if sql_from(sql).is_empty() {
        return Err(ApiError::bad_request(format!(
            "sql: no FROM clause with a topic in {sql:?}"
        )));
    }
    match conf.get("actions") {
        None | Some(Value::Array(_)) => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "actions: expected an array, got {other}"
            )))
        }
    }
    crate::common::opt_bool(conf, "enable")?;
    Ok(())
}

fn rule_not_found() -> ApiError {
    ApiError::not_found("Rule Id Not Found")
}

async fn list_rules(State(node): State<Arc<Node>>, axum::extract::Query(q): Q) -> Response {
    blocking(node, move |node| {
        let pager = Pager::from_query(&q)?;
        let all = node.store.read(rules)?;
        let enable = match q.get("enable").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "enable: expected true or false, got {other:?}"
                )))
            }
        };
        let fuzzy = ["like_id", "like_from", "like_description"]
            .iter()
            .any(|k| q.contains_key(*k));
        let rows: Vec<Value> = all
            .iter()
            .map(|(id, conf)| format_rule(id, conf))
            .filter(|r| enable.is_none_or(|e| r["enable"] == json!(e)))
            .filter(|r| {
                q.get("like_id")
                    .is_none_or(|s| r["id"].as_str().unwrap_or_default().contains(s.as_str()))
            })
            .filter(|r| {
                q.get("like_description").is_none_or(|s| {
                    r["description"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(s.as_str())
                })
            })
            .filter(|r| {
                q.get("like_from").is_none_or(|s| {
                    r["from"].as_array().is_some_and(|f| {
                        f.iter()
                            .any(|t| t.as_str().is_some_and(|t| t.contains(s.as_str())))
                    })
                })
            })
            .filter(|r| {
                q.get("from").is_none_or(|s| {
                    r["from"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|t| t.as_str() == Some(s.as_str())))
                })
            })
            .filter(|r| {
                q.get("action").is_none_or(|s| {
                    r["actions"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|t| t.as_str() == Some(s.as_str())))
                })
            })
            .collect();
        ok(pager.query_result(rows, !fuzzy))
    })
    .await
}

fn new_rule_id() -> String {
    hex::encode(random_bytes(4))
}

async fn create_rule(State(node): State<Arc<Node>>, caller: MaybeCaller, body: Bytes) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let mut conf = object_body(&body)?;
        let id = match conf.get("id") {
            None | Some(Value::Null) => new_rule_id(),
            Some(Value::String(s)) if s.is_empty() => {
                return Err(ApiError::bad_request("empty rule id is not allowed"))
            }
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(ApiError::bad_request("rule id must be a string")),
        };
        for k in RULE_EXTRA {
            conf.remove(*k);
        }
        let now = now_ms();
        conf.insert(
            "metadata".into(),
            json!({ "created_at": now, "last_modified_at": now }),
        );
        check_rule(&conf)?;
        let conf = Value::Object(conf);
        node.store.write(|tx| {
            if rules(tx)?.contains_key(&id) {
                return Err(ApiError::bad_request("rule id already exists"));
            }
            save_rule(tx, &id, Some(conf.clone()))?;
            Ok(())
        })?;
        reply(StatusCode::CREATED, format_rule(&id, &conf))
    })
    .await
}

async fn read_rule(State(node): State<Arc<Node>>, Path(id): Path<String>) -> Response {
    blocking(node, move |node| {
        let all = node.store.read(rules)?;
        let conf = all.get(&id).ok_or_else(rule_not_found)?;
        ok(format_rule(&id, conf))
    })
    .await
}

async fn update_rule(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let mut conf = object_body(&body)?;
        for k in RULE_EXTRA {
            conf.remove(*k);
        }
        check_rule(&conf)?;
        let mut conf = Value::Object(conf);
        let now = now_ms();
        let conf = node.store.write(|tx| {
            // A rule that does not exist yet is created, as EMQX's config update does.
            let old = rules(tx)?.get(&id).cloned();
            set_path(&mut conf, &["metadata", "last_modified_at"], json!(now));
            if get_path(&conf, &["metadata", "created_at"]).is_none() {
                let created = old
                    .as_ref()
                    .and_then(|o| get_path(o, &["metadata", "created_at"]).cloned())
                    .unwrap_or(json!(now));
                set_path(&mut conf, &["metadata", "created_at"], created);
            }
            save_rule(tx, &id, Some(conf.clone()))?;
            Ok::<_, ApiError>(conf)
        })?;
        ok(format_rule(&id, &conf))
    })
    .await
}

async fn delete_rule(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
) -> Response {
    write_no_content(node, caller, move |tx| {
        if !rules(tx)?.contains_key(&id) {
            return Err(rule_not_found());
        }
        save_rule(tx, &id, None)?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Connectors, actions, sources

/// Which resource root an endpoint addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Connectors,
    Actions,
    Sources,
}

impl Kind {
    fn root(self) -> &'static str {
        match self {
            Kind::Connectors => "connectors",
            Kind::Actions => "actions",
            Kind::Sources => "sources",
        }
    }

    fn not_found(self, ty: &str, name: &str) -> ApiError {
        ApiError::not_found(match self {
            Kind::Connectors => format!(
                "Connector lookup failed: connector named '{name}' of type {ty} does not exist."
            ),
            _ => {
                format!("Bridge lookup failed: bridge named '{name}' of type {ty} does not exist.")
            }
        })
    }

    fn already_exists(self) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "ALREADY_EXISTS",
            match self {
                Kind::Connectors => "connector already exists",
                _ => "bridge already exists",
            },
        )
    }

    fn bad_id(self, reason: &str) -> ApiError {
        ApiError::not_found(match self {
            Kind::Connectors => format!("Invalid connector ID, {reason}"),
            _ => format!("Invalid bridge ID, {reason}"),
        })
    }
}

/// `emqx_resource:validate_name/2`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Name cannot be empty string".into());
    }
    if name.len() >= 255 {
        return Err("Name length must be less than 255".into());
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!(
            "Invalid name format. The name must begin with a letter or number (0-9, a-z, A-Z) and can only include underscores and hyphens as non-initial characters. Got: {name}"
        ));
    }
    Ok(())
}

fn check_type(ty: &str) -> Result<(), String> {
    if !ty.is_empty()
        && ty
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(())
    } else {
        Err(format!("unknown resource type: {ty}"))
    }
}

/// `type:name` of a resource id (a `connector:`/`action:`/`source:` prefix is dropped).
fn parse_id(kind: Kind, id: &str) -> Result<(String, String), ApiError> {
    let id = ["connector:", "action:", "source:", "bridge:"]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id);
    match id.split(':').collect::<Vec<_>>().as_slice() {
        [ty, name] => {
            check_type(ty).map_err(|e| kind.bad_id(&e))?;
            check_name(name).map_err(|e| kind.bad_id(&e))?;
            Ok(((*ty).to_owned(), (*name).to_owned()))
        }
        _ => Err(kind.bad_id(&format!(
            "should be of pattern {{type}}:{{name}}, but got: {id}"
        ))),
    }
}

fn resources(tx: &Tx<'_>, kind: Kind) -> Result<Value, StoreError> {
    Ok(tx
        .config(kind.root())?
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({})))
}

fn resource<'a>(root: &'a Value, ty: &str, name: &str) -> Option<&'a Value> {
    get_path(root, &[ty, name])
}

/// A resource as the API shows it: its config redacted, with `type`, `name` and a status.
fn format_resource(node: &Node, ty: &str, name: &str, conf: &Value) -> Value {
    let mut v = redact(conf);
    if !v.is_object() {
        v = json!({});
    }
    let enabled = conf.get("enable") != Some(&json!(false));
    let status = if enabled { "connected" } else { "stopped" };
    v["type"] = json!(ty);
    v["name"] = json!(name);
    v["enable"] = json!(enabled);
    v["status"] = json!(status);
    v["node_status"] = json!([{ "node": node.info.name, "status": status }]);
    v
}

fn stored_conf(mut body: Map<String, Value>) -> Map<String, Value> {
    for k in RESOURCE_EXTRA {
        body.remove(*k);
    }
    body
}

/// An action or source must name an existing connector.
fn check_connector(
    tx: &Tx<'_>,
    kind: Kind,
    ty: &str,
    name: &str,
    conf: &Value,
) -> Result<(), ApiError> {
    if kind == Kind::Connectors {
        return Ok(());
    }
    let connector = conf
        .get("connector")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("connector: required field missing"))?;
    let connectors = resources(tx, Kind::Connectors)?;
    let found = resource(&connectors, ty, connector).is_some()
        || connectors
            .as_object()
            .is_some_and(|o| o.values().any(|by_name| by_name.get(connector).is_some()));
    if found {
        Ok(())
    } else {
        Err(ApiError::bad_request(json!({
            "reason": "connector_not_found_or_wrong_type",
            "bridge_type": ty,
            "bridge_name": name,
            "connector_name": connector,
        })))
    }
}

async fn list_resources(State(node): State<Arc<Node>>, kind: Kind) -> Response {
    blocking(node, move |node| {
        let root = node.store.read(|tx| resources(tx, kind))?;
        let mut out = Vec::new();
        for (ty, by_name) in root.as_object().into_iter().flatten() {
            for (name, conf) in by_name.as_object().into_iter().flatten() {
                out.push(format_resource(node, ty, name, conf));
            }
        }
        ok(Value::Array(out))
    })
    .await
}

async fn create_resource(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    body: Bytes,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let body = object_body(&body)?;
        let field = |k: &str| -> Result<String, ApiError> {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ApiError::bad_request(format!("{k}: required field missing")))
        };
        let ty = field("type")?;
        let name = field("name")?;
        check_type(&ty).map_err(|e| ApiError::bad_request(format!("type: {e}")))?;
        check_name(&name).map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
        let conf = Value::Object(stored_conf(body));
        node.store.write(|tx| {
            let mut root = resources(tx, kind)?;
            if resource(&root, &ty, &name).is_some() {
                return Err(kind.already_exists());
            }
            check_connector(tx, kind, &ty, &name, &conf)?;
            set_path(&mut root, &[&ty, &name], conf.clone());
            tx.set_config(kind.root(), &root)?;
            Ok(())
        })?;
        reply(
            StatusCode::CREATED,
            format_resource(node, &ty, &name, &conf),
        )
    })
    .await
}

async fn read_resource(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        let (ty, name) = parse_id(kind, &id)?;
        let root = node.store.read(|tx| resources(tx, kind))?;
        let conf = resource(&root, &ty, &name).ok_or_else(|| kind.not_found(&ty, &name))?;
        ok(format_resource(node, &ty, &name, conf))
    })
    .await
}

async fn update_resource(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let (ty, name) = parse_id(kind, &id)?;
        let body = Value::Object(stored_conf(object_body(&body)?));
        let conf = node.store.write(|tx| {
            let mut root = resources(tx, kind)?;
            let old = resource(&root, &ty, &name).ok_or_else(|| kind.not_found(&ty, &name))?;
            let conf = deobfuscate(&body, old);
            check_connector(tx, kind, &ty, &name, &conf)?;
            set_path(&mut root, &[&ty, &name], conf.clone());
            tx.set_config(kind.root(), &root)?;
            Ok::<_, ApiError>(conf)
        })?;
        ok(format_resource(node, &ty, &name, &conf))
    })
    .await
}

/// The ids of rules that use an action (in `actions`) or a source (in `FROM`).
fn dependent_rules(
    tx: &Tx<'_>,
    kind: Kind,
    ty: &str,
    name: &str,
) -> Result<Vec<String>, StoreError> {
    let id = format!("{ty}:{name}");
    Ok(rules(tx)?
        .iter()
        .filter(|(_, conf)| match kind {
            Kind::Actions => conf
                .get("actions")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(&id))),
            Kind::Sources => {
                let sql = conf.get("sql").and_then(Value::as_str).unwrap_or_default();
                sql_from(sql)
                    .iter()
                    .any(|t| *t == format!("$bridges/{id}") || *t == format!("$sources/{id}"))
            }
            Kind::Connectors => false,
        })
        .map(|(rid, _)| rid.clone())
        .collect())
}

/// The actions and sources that use a connector.
fn dependent_channels(tx: &Tx<'_>, connector: &str) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for kind in [Kind::Actions, Kind::Sources] {
        let root = resources(tx, kind)?;
        for (ty, by_name) in root.as_object().into_iter().flatten() {
            for (name, conf) in by_name.as_object().into_iter().flatten() {
                if conf.get("connector").and_then(Value::as_str) == Some(connector) {
                    out.push(format!("{}:{ty}:{name}", kind.root().trim_end_matches('s')));
                }
            }
        }
    }
    Ok(out)
}

async fn delete_resource(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(id): Path<String>,
    axum::extract::Query(q): Q,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let (ty, name) = parse_id(kind, &id)?;
        let also_rules = q.get("also_delete_dep_actions").map(String::as_str) == Some("true");
        node.store.write(|tx| {
            let mut root = resources(tx, kind)?;
            if resource(&root, &ty, &name).is_none() {
                return Err(kind.not_found(&ty, &name));
            }
            if kind == Kind::Connectors {
                let channels = dependent_channels(tx, &name)?;
                if !channels.is_empty() {
                    return Err(ApiError::bad_request(format!(
                        "Cannot delete connector while there are active channels defined for this connector: {}",
                        channels.join(", ")
                    )));
                }
            } else {
                let deps = dependent_rules(tx, kind, &ty, &name)?;
                if !deps.is_empty() {
                    if !also_rules || kind == Kind::Sources {
                        let mut body = json!({
                            "code": "BAD_REQUEST",
                            "message": format!(
                                "Cannot delete {} while active rules are depending on it",
                                kind.root().trim_end_matches('s')
                            ),
                        });
                        body["rules"] = json!(deps);
                        return Err(ApiError::with_body(StatusCode::BAD_REQUEST, body));
                    }
                    let action_id = format!("{ty}:{name}");
                    let all = rules(tx)?;
                    for rid in deps {
                        let mut conf = all[&rid].clone();
                        if let Some(actions) = conf.get_mut("actions").and_then(Value::as_array_mut) {
                            actions.retain(|a| a.as_str() != Some(&action_id));
                        }
                        save_rule(tx, &rid, Some(conf))?;
                    }
                }
            }
            crate::common::remove_path(&mut root, &[&ty, &name]);
            if root.get(&ty).and_then(Value::as_object).is_some_and(Map::is_empty) {
                crate::common::remove_path(&mut root, &[&ty]);
            }
            tx.set_config(kind.root(), &root)?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn enable_resource(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path((id, enable)): Path<(String, String)>,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let (ty, name) = parse_id(kind, &id)?;
        let enable = match enable.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(ApiError::bad_request(format!(
                    "enable: expected true or false, got {other:?}"
                )))
            }
        };
        node.store.write(|tx| {
            let mut root = resources(tx, kind)?;
            if resource(&root, &ty, &name).is_none() {
                return Err(kind.not_found(&ty, &name));
            }
            set_path(&mut root, &[&ty, &name, "enable"], json!(enable));
            tx.set_config(kind.root(), &root)?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_clauses() {
        assert_eq!(
            sql_from("SELECT * FROM \"t/#\", 't/2' WHERE x = 'FROM'"),
            vec!["t/#", "t/2"]
        );
        assert_eq!(
            sql_from("select a from \"$events/client_connected\""),
            vec!["$events/client_connected"]
        );
        assert!(sql_from("SELECT 1").is_empty());
    }

    #[test]
    fn ids_and_names() {
        assert_eq!(
            parse_id(Kind::Connectors, "http:my_conn").unwrap(),
            ("http".into(), "my_conn".into())
        );
        assert_eq!(
            parse_id(Kind::Connectors, "connector:http:c1").unwrap(),
            ("http".into(), "c1".into())
        );
        let e = parse_id(Kind::Actions, "nocolon").unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert!(e.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid bridge ID, should be of pattern"));
        assert!(check_name("-bad").is_err());
        assert!(check_name("ok_1-2").is_ok());
    }
}
