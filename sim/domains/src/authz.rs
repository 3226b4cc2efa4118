//! Authorization: the sources of the `authorization` root (`emqx_authz_api_sources`) and the
//! rules of the built-in database source (`emqx_authz_api_mnesia`, table `emqx_acl`).
//!
//! Rows are `{emqx_acl, Who, Rules}` with `Who` = `0` (all), `{1, Username}` or
//! `{2, ClientId}`, one rule per topic: `{Permission, Action, Topic}` on nodes up to 5.8,
//! `{Permission, Who, Action, Topic}` from 5.9 (spec §3.5).

use crate::common::{
    blocking, check_regex, check_write, deobfuscate, erl_p, json_body, no_content, object_body, ok,
    opt_str, redact, text_of, write_no_content, ApiError, MaybeCaller, Pager, Query, Reply,
    Version,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use emqx_sim_store::{Node, StoreError, Tx};
use erlang_term::Term;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The config root.
pub const ROOT: &str = "authorization";
/// The built-in database's rule table.
pub const ACL_TABLE: &str = "emqx_acl";
/// The type of the built-in database source.
pub const BUILTIN: &str = "built_in_database";

const SOURCE_TYPES: &[&str] = &[
    "file",
    "built_in_database",
    "http",
    "redis",
    "mysql",
    "postgresql",
    "mongodb",
    "ldap",
    "client_info",
];

const RULES: &str = "/authorization/sources/built_in_database/rules";

type St = State<Arc<Node>>;
type Q = axum::extract::Query<Query>;
type Name = Path<String>;

/// The routes of this domain.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route(
            "/authorization/sources",
            get(list_sources).post(create_source),
        )
        .route(
            "/authorization/sources/{type}",
            get(read_source).put(update_source).delete(delete_source),
        )
        .route(RULES, axum::routing::delete(purge))
        .route(
            &format!("{RULES}/users"),
            get(|s: St, q: Q| list_rules(s, q, Kind::User))
                .post(|s: St, c: MaybeCaller, b: Bytes| post_rules(s, c, b, Kind::User)),
        )
        .route(
            &format!("{RULES}/users/{{name}}"),
            get(|s: St, p: Name| get_rules(s, p, Kind::User))
                .put(|s: St, c: MaybeCaller, p: Name, b: Bytes| put_rules(s, c, p, b, Kind::User))
                .delete(|s: St, c: MaybeCaller, p: Name| delete_rules(s, c, p, Kind::User)),
        )
        .route(
            &format!("{RULES}/clients"),
            get(|s: St, q: Q| list_rules(s, q, Kind::Client))
                .post(|s: St, c: MaybeCaller, b: Bytes| post_rules(s, c, b, Kind::Client)),
        )
        .route(
            &format!("{RULES}/clients/{{name}}"),
            get(|s: St, p: Name| get_rules(s, p, Kind::Client))
                .put(|s: St, c: MaybeCaller, p: Name, b: Bytes| put_rules(s, c, p, b, Kind::Client))
                .delete(|s: St, c: MaybeCaller, p: Name| delete_rules(s, c, p, Kind::Client)),
        )
        .route(
            &format!("{RULES}/all"),
            get(get_all).post(post_all).delete(delete_all),
        )
}

// ---------------------------------------------------------------------------------------------
// Sources

/// The raw sources of the `authorization` root.
pub fn sources(tx: &Tx<'_>) -> Result<Vec<Value>, StoreError> {
    Ok(tx
        .config(ROOT)?
        .and_then(|r| r.get("sources").cloned())
        .and_then(|s| match s {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .unwrap_or_default())
}

fn save_sources(tx: &mut Tx<'_>, list: Vec<Value>) -> Result<(), StoreError> {
    let mut root = match tx.config(ROOT)? {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    root.insert("sources".into(), Value::Array(list));
    tx.set_config(ROOT, &Value::Object(root))
}

fn source_type(s: &Value) -> Option<&str> {
    s.get("type").and_then(Value::as_str)
}

/// A source as the API shows it: defaults filled in, secrets redacted, and a file source's
/// `path` replaced by the file's `rules` text (`emqx_authz_file:read_files/1`).
fn shown(node: &Node, s: &Value) -> Value {
    let mut o = s.as_object().cloned().unwrap_or_default();
    if source_type(s) == Some("file") && !o.contains_key("rules") {
        let text = o
            .get("path")
            .and_then(Value::as_str)
            .and_then(|p| std::fs::read_to_string(crate::common::resolve_file(node, p)).ok());
        if let Some(text) = text {
            o.remove("path");
            o.insert("rules".into(), json!(text));
        }
    }
    o.entry("enable").or_insert(json!(true));
    if source_type(s) == Some(BUILTIN) {
        o.entry("max_rules").or_insert(json!(100));
    }
    redact(&Value::Object(o))
}

fn not_found_source(ty: &str) -> ApiError {
    ApiError::not_found(format!("Not found: {ty}"))
}

fn check_source(s: &Map<String, Value>) -> Result<String, ApiError> {
    let ty =
        opt_str(s, "type")?.ok_or_else(|| ApiError::bad_request("type: required field missing"))?;
    if !SOURCE_TYPES.contains(&ty) {
        return Err(ApiError::bad_request(format!(
            "type: unknown authorization source type {ty:?}"
        )));
    }
    if ty == BUILTIN {
        if let Some(m) = s.get("max_rules") {
            if m.as_u64().is_none() {
                return Err(ApiError::bad_request(format!(
                    "max_rules: expected a non-negative integer, got {m}"
                )));
            }
        }
    }
    if ty == "file" && !s.contains_key("rules") && !s.contains_key("path") {
        return Err(ApiError::bad_request(
            "rules: a file source needs its rules (the acl.conf text)",
        ));
    }
    crate::common::opt_bool(s, "enable")?;
    Ok(ty.to_owned())
}

fn duplicated(ty: &str) -> ApiError {
    ApiError::bad_request(erl_p(&Term::tuple(vec![
        Term::atom("duplicated_authz_source_type"),
        Term::atom(ty),
    ])))
}

async fn list_sources(State(node): State<Arc<Node>>) -> Response {
    blocking(node, |node| {
        let list = node.store.read(sources)?;
        ok(json!({ "sources": list.iter().map(|s| shown(node, s)).collect::<Vec<_>>() }))
    })
    .await
}

async fn create_source(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let s = object_body(&body)?;
        let ty = check_source(&s)?;
        node.store.write(|tx| {
            let mut list = sources(tx)?;
            if list.iter().any(|x| source_type(x) == Some(&ty)) {
                return Err(duplicated(&ty));
            }
            list.insert(0, Value::Object(s));
            save_sources(tx, list)?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn read_source(State(node): State<Arc<Node>>, Path(ty): Path<String>) -> Response {
    blocking(node, move |node| {
        let list = node.store.read(sources)?;
        let s = list
            .iter()
            .find(|s| source_type(s) == Some(&ty))
            .ok_or_else(|| not_found_source(&ty))?;
        ok(shown(node, s))
    })
    .await
}

async fn update_source(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(ty): Path<String>,
    body: Bytes,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let mut new = object_body(&body)?;
        node.store.write(|tx| {
            let mut list = sources(tx)?;
            let at = list
                .iter()
                .position(|s| source_type(s) == Some(&ty))
                .ok_or_else(|| not_found_source(&ty))?;
            match new.get("type").and_then(Value::as_str) {
                None => {
                    new.insert("type".into(), json!(ty));
                }
                Some(t) if t != ty => return Err(ApiError::bad_request("Type mismatch")),
                Some(_) => {}
            }
            let merged = deobfuscate(&Value::Object(new.clone()), &list[at]);
            check_source(merged.as_object().expect("an object"))?;
            list[at] = merged;
            save_sources(tx, list)?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn delete_source(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(ty): Path<String>,
) -> Response {
    write_no_content(node, caller, move |tx| {
        let mut list = sources(tx)?;
        let at = list
            .iter()
            .position(|s| source_type(s) == Some(&ty))
            .ok_or_else(|| not_found_source(&ty))?;
        list.remove(at);
        save_sources(tx, list)?;
        if ty == BUILTIN {
            // emqx_authz_mnesia:destroy/1 clears the table.
            tx.clear(ACL_TABLE)?;
        }
        Ok::<_, ApiError>(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Rules: JSON to stored terms and back

fn rule_error(at: &str, msg: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("{at}: {msg}"))
}

fn qos_atom(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().filter(|q| (0..=2).contains(q)),
        Value::String(s) => s.trim().parse::<i64>().ok().filter(|q| (0..=2).contains(q)),
        _ => None,
    }
}

/// `validate_rule_qos/1`.
fn parse_qos(v: Option<&Value>, at: &str) -> Result<Term, ApiError> {
    let bad = || rule_error(&format!("{at}.qos"), "expected 0, 1, 2 or a list of them");
    let qos: Vec<i64> = match v {
        None | Some(Value::Null) => vec![0, 1, 2],
        Some(Value::Number(_)) => vec![qos_atom(v.expect("some")).ok_or_else(bad)?],
        Some(Value::String(s)) => s
            .split(',')
            .map(|q| qos_atom(&json!(q)).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        Some(Value::Array(items)) => items
            .iter()
            .map(|q| qos_atom(q).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad()),
    };
    Ok(Term::List(qos.into_iter().map(Term::Int).collect()))
}

/// `validate_rule_retain/1`.
fn parse_retain(v: Option<&Value>, at: &str) -> Result<Term, ApiError> {
    Ok(match v {
        None | Some(Value::Null) => Term::atom("all"),
        Some(Value::Bool(b)) => Term::boolean(*b),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Term::boolean(false),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Term::boolean(true),
        Some(Value::String(s)) => match s.as_str() {
            "all" => Term::atom("all"),
            "true" | "1" => Term::boolean(true),
            "false" | "0" => Term::boolean(false),
            _ => {
                return Err(rule_error(
                    &format!("{at}.retain"),
                    "expected true, false or \"all\"",
                ))
            }
        },
        Some(_) => {
            return Err(rule_error(
                &format!("{at}.retain"),
                "expected true, false or \"all\"",
            ))
        }
    })
}

fn parse_topic(v: &Value, at: &str) -> Result<Term, ApiError> {
    let s = v
        .as_str()
        .ok_or_else(|| rule_error(at, "expected a topic string"))?;
    Ok(match s.strip_prefix("eq ") {
        Some(t) => Term::tuple(vec![Term::atom("eq"), Term::binary(t)]),
        None => Term::binary(s),
    })
}

/// The extra conditions of a ≥ 5.9 rule (`validate_rule_who/1`): the fields in key order,
/// collected in reverse; none → `all`, one → itself, more → `{'and', List}`.
fn parse_who(o: &Map<String, Value>, at: &str) -> Result<Term, ApiError> {
    let mut keys: Vec<&String> = o.keys().collect();
    keys.sort();
    let mut who = Vec::new();
    for k in keys {
        let v = &o[k.as_str()];
        let field = format!("{at}.{k}");
        let text = || -> Result<String, ApiError> {
            v.as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| rule_error(&field, "expected a non-empty string"))
        };
        let re = || -> Result<Term, ApiError> {
            let p = text()?;
            check_regex(&p).map_err(|e| rule_error(&field, format!("invalid regex: {e}")))?;
            Ok(Term::tuple(vec![Term::atom("re"), Term::binary(&p)]))
        };
        let cond = match k.as_str() {
            "username_re" => Term::tuple(vec![Term::atom("username"), re()?]),
            "clientid_re" => Term::tuple(vec![Term::atom("clientid"), re()?]),
            "zone" => Term::tuple(vec![Term::atom("zone"), Term::binary(text()?)]),
            "zone_re" => Term::tuple(vec![Term::atom("zone"), re()?]),
            "listener" => Term::tuple(vec![Term::atom("listener"), Term::binary(text()?)]),
            "listener_re" => Term::tuple(vec![Term::atom("listener"), re()?]),
            "ipaddr" => Term::tuple(vec![Term::atom("ipaddr"), Term::charlist(&text()?)]),
            _ => continue,
        };
        who.push(cond);
    }
    who.reverse();
    Ok(match who.len() {
        0 => Term::atom("all"),
        1 => who.pop().expect("one"),
        _ => Term::tuple(vec![Term::atom("and"), Term::List(who)]),
    })
}

/// One API rule as the stored terms (one per topic), as `emqx_authz_rule_raw:parse_rule/1`
/// and `emqx_authz_mnesia:normalize_rules/1` of the node's version.
pub fn parse_rule(rule: &Value, at: &str, v: Version) -> Result<Vec<Term>, ApiError> {
    let o = rule
        .as_object()
        .ok_or_else(|| rule_error(at, "a rule must be an object"))?;
    let permission = match o.get("permission").and_then(Value::as_str) {
        Some(p @ ("allow" | "deny")) => Term::atom(p),
        Some(p) => {
            return Err(rule_error(
                &format!("{at}.permission"),
                format!("invalid permission {p:?}"),
            ))
        }
        None => {
            return Err(rule_error(
                &format!("{at}.permission"),
                "required field missing",
            ))
        }
    };
    let action = match o.get("action").and_then(Value::as_str) {
        Some("publish" | "pub") => "publish",
        Some("subscribe" | "sub") => "subscribe",
        Some("all") => "all",
        Some(a) => {
            return Err(rule_error(
                &format!("{at}.action"),
                format!("invalid action {a:?}"),
            ))
        }
        None => {
            return Err(rule_error(
                &format!("{at}.action"),
                "required field missing",
            ))
        }
    };
    let topics: Vec<Term> = match (o.get("topic"), o.get("topics")) {
        (Some(t), _) => vec![parse_topic(t, &format!("{at}.topic"))?],
        (None, Some(Value::Array(ts))) => ts
            .iter()
            .enumerate()
            .map(|(i, t)| parse_topic(t, &format!("{at}.topics[{i}]")))
            .collect::<Result<_, _>>()?,
        _ => return Err(rule_error(&format!("{at}.topic"), "required field missing")),
    };
    let qos = Term::tuple(vec![Term::atom("qos"), parse_qos(o.get("qos"), at)?]);
    let retain = || -> Result<Term, ApiError> {
        Ok(Term::tuple(vec![
            Term::atom("retain"),
            parse_retain(o.get("retain"), at)?,
        ]))
    };
    let opts = match action {
        "subscribe" => vec![qos],
        _ => vec![qos, retain()?],
    };
    let action = Term::tuple(vec![Term::atom(action), Term::List(opts)]);
    let who = if era_4_tuple(v) {
        Some(parse_who(o, at)?)
    } else {
        None
    };
    Ok(topics
        .into_iter()
        .map(|topic| {
            let mut items = vec![permission.clone()];
            items.extend(who.clone());
            items.push(action.clone());
            items.push(topic);
            Term::tuple(items)
        })
        .collect())
}

/// Whether the node stores 4-tuple rules (EMQX 5.9 and later).
pub fn era_4_tuple(v: Version) -> bool {
    v.at_least(5, 9, 0)
}

/// The stored terms of an API `rules` array.
pub fn parse_rules(rules: &Value, at: &str, v: Version) -> Result<Vec<Term>, ApiError> {
    let items = rules
        .as_array()
        .ok_or_else(|| rule_error(at, "expected an array of rules"))?;
    let mut out = Vec::new();
    for (i, r) in items.iter().enumerate() {
        out.extend(parse_rule(r, &format!("{at}[{i}]"), v)?);
    }
    Ok(out)
}

fn format_topic(t: &Term) -> Option<Value> {
    match t {
        Term::Binary(_) => text_of(t).map(Value::String),
        Term::Tuple(items) if items.len() == 2 && items[0].as_atom() == Some("eq") => {
            Some(json!(format!("eq {}", text_of(&items[1])?)))
        }
        Term::List(items) => items
            .iter()
            .map(format_topic)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        _ => None,
    }
}

fn format_opt(opts: &[Term], key: &str) -> Option<Value> {
    let v = opts.iter().find_map(|o| match o.as_tuple() {
        Some([k, v]) if k.as_atom() == Some(key) => Some(v),
        _ => None,
    });
    Some(match (key, v) {
        ("qos", None) => json!([0, 1, 2]),
        ("qos", Some(Term::List(qs))) => Value::Array(
            qs.iter()
                .map(|q| q.as_i64().map(Value::from))
                .collect::<Option<_>>()?,
        ),
        ("qos", Some(Term::Int(q))) => json!(q),
        ("retain", None) => json!("all"),
        ("retain", Some(t)) => match t.as_atom()? {
            "true" => json!(true),
            "false" => json!(false),
            other => json!(other),
        },
        _ => return None,
    })
}

fn format_who(t: &Term, out: &mut Map<String, Value>) -> Option<()> {
    if t.as_atom() == Some("all") {
        return Some(());
    }
    let [kind, v] = t.as_tuple()? else {
        return None;
    };
    let re = |v: &Term| match v.as_tuple() {
        Some([re, p]) if re.as_atom() == Some("re") => text_of(p),
        _ => None,
    };
    match kind.as_atom()? {
        "and" => {
            for w in v.as_list()? {
                format_who(w, out)?;
            }
        }
        "ipaddr" => {
            out.insert("ipaddr".into(), json!(v.as_charlist()?));
        }
        k @ ("username" | "clientid") => {
            out.insert(format!("{k}_re"), json!(re(v)?));
        }
        k @ ("zone" | "listener") => match re(v) {
            Some(p) => {
                out.insert(format!("{k}_re"), json!(p));
            }
            None => {
                out.insert(k.into(), json!(text_of(v)?));
            }
        },
        _ => return None,
    }
    Some(())
}

fn format_rule_checked(rule: &Term) -> Option<Value> {
    let (p, who, action, topic) = match rule.as_tuple()? {
        [p, a, t] => (p, None, a, t),
        [p, w, a, t] => (p, Some(w), a, t),
        _ => return None,
    };
    let mut o = Map::new();
    o.insert("topic".into(), format_topic(topic)?);
    o.insert("permission".into(), json!(p.as_atom()?));
    match action {
        Term::Atom(a) => {
            o.insert("action".into(), json!(a.as_str()));
        }
        Term::Tuple(items) if items.len() == 2 => {
            o.insert("action".into(), json!(items[0].as_atom()?));
            let opts = items[1].as_list()?;
            o.insert("qos".into(), format_opt(opts, "qos")?);
            o.insert("retain".into(), format_opt(opts, "retain")?);
        }
        _ => return None,
    }
    if let Some(w) = who {
        format_who(w, &mut o)?;
    }
    Some(Value::Object(o))
}

/// A stored rule as `emqx_authz_rule_raw:format_rule/1` shows it (a rule of an unknown shape
/// as `{"term": "<Erlang text>"}`).
pub fn format_rule(rule: &Term) -> Value {
    format_rule_checked(rule).unwrap_or_else(|| json!({ "term": erl_p(rule) }))
}

fn format_rules(rules: &Term) -> Value {
    Value::Array(
        rules
            .as_list()
            .unwrap_or_default()
            .iter()
            .map(format_rule)
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Rules endpoints

/// Whose rules an endpoint addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Client,
}

impl Kind {
    fn label(self) -> i64 {
        match self {
            Kind::User => 1,
            Kind::Client => 2,
        }
    }

    fn field(self) -> &'static str {
        match self {
            Kind::User => "username",
            Kind::Client => "clientid",
        }
    }

    fn who(self, name: &str) -> Term {
        Term::tuple(vec![Term::Int(self.label()), Term::binary(name)])
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Client => "Client",
        }
    }

    fn not_found(self) -> ApiError {
        ApiError::not_found(match self {
            Kind::User => "Username Not Found",
            Kind::Client => "ClientID Not Found",
        })
    }
}

fn record(who: Term, rules: Vec<Term>) -> Term {
    Term::tuple(vec![Term::atom(ACL_TABLE), who, Term::List(rules)])
}

/// The built-in database source, or 404 `Not found: built_in_database` as EMQX's
/// `is_configured_authz_source` filter answers.
fn builtin_source(tx: &Tx<'_>) -> Result<Result<Value, ApiError>, StoreError> {
    Ok(sources(tx)?
        .into_iter()
        .find(|s| source_type(s) == Some(BUILTIN))
        .ok_or_else(|| not_found_source(BUILTIN)))
}

fn max_rules(source: &Value) -> usize {
    source
        .get("max_rules")
        .and_then(Value::as_u64)
        .map_or(100, |m| m as usize)
}

fn rules_len(rules: &Value) -> usize {
    rules.as_array().map_or(0, Vec::len)
}

async fn list_rules(
    State(node): State<Arc<Node>>,
    axum::extract::Query(q): axum::extract::Query<Query>,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        let pager = Pager::from_query(&q)?;
        let like = q.get(&format!("like_{}", kind.field())).cloned();
        let rows = node.store.read(|tx| {
            if let Err(e) = builtin_source(tx)? {
                return Ok(Err(e));
            }
            Ok(Ok(tx.scan(ACL_TABLE)?))
        })??;
        let data: Vec<Value> = rows
            .iter()
            .filter_map(|r| {
                let [_, who, rules] = r.as_tuple()? else {
                    return None;
                };
                let [label, name] = who.as_tuple()? else {
                    return None;
                };
                if label.as_i64() != Some(kind.label()) {
                    return None;
                }
                let name = text_of(name)?;
                if like.as_ref().is_some_and(|l| !name.contains(l.as_str())) {
                    return None;
                }
                Some(json!({ kind.field(): name, "rules": format_rules(rules) }))
            })
            .collect();
        ok(pager.query_result(data, like.is_none()))
    })
    .await
}

async fn post_rules(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    body: Bytes,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let items = match json_body(&body)? {
            Value::Array(items) => items,
            _ => return Err(ApiError::bad_request("request body must be an array")),
        };
        let v = Version::of(node);
        let field = kind.field();
        let mut entries = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("[{i}]");
            let o = item
                .as_object()
                .ok_or_else(|| rule_error(&at, "expected an object"))?;
            let name = opt_str(o, field)?
                .ok_or_else(|| rule_error(&format!("{at}.{field}"), "required field missing"))?
                .to_owned();
            let rules = o
                .get("rules")
                .ok_or_else(|| rule_error(&format!("{at}.rules"), "required field missing"))?;
            entries.push((
                name,
                rules.clone(),
                parse_rules(rules, &format!("{at}.rules"), v)?,
            ));
        }
        node.store.write(|tx| {
            let max = max_rules(&builtin_source(tx)??);
            for (name, raw, _) in &entries {
                if tx.get(ACL_TABLE, &kind.who(name))?.is_some() {
                    return Err(ApiError::conflict(format!(
                        "{} '{name}' already exist",
                        kind.noun()
                    )));
                }
                if rules_len(raw) > max {
                    return Err(ApiError::bad_request(format!(
                        "The rules length of {} '{name}' exceeds the maximum limit.",
                        kind.noun()
                    )));
                }
            }
            for (name, _, rules) in entries {
                tx.put(ACL_TABLE, &record(kind.who(&name), rules))?;
            }
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn get_rules(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        let row = node.store.read(|tx| {
            if let Err(e) = builtin_source(tx)? {
                return Ok(Err(e));
            }
            Ok(Ok(tx.get(ACL_TABLE, &kind.who(&name))?))
        })??;
        let row = row.ok_or_else(|| ApiError::not_found("Not Found"))?;
        let rules = row
            .as_tuple()
            .and_then(|t| t.get(2))
            .cloned()
            .unwrap_or(Term::List(vec![]));
        ok(json!({ kind.field(): name, "rules": format_rules(&rules) }))
    })
    .await
}

async fn put_rules(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(name): Path<String>,
    body: Bytes,
    kind: Kind,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let field = kind.field();
        match opt_str(&o, field)? {
            Some(n) if n == name => {}
            Some(n) => {
                return Err(ApiError::bad_request(format!(
                    "{field}: {n:?} in the body differs from {name:?} in the path"
                )))
            }
            None => return Err(rule_error(field, "required field missing")),
        }
        let raw = o
            .get("rules")
            .ok_or_else(|| rule_error("rules", "required field missing"))?;
        let rules = parse_rules(raw, "rules", Version::of(node))?;
        node.store.write(|tx| {
            let max = max_rules(&builtin_source(tx)??);
            if rules_len(raw) > max {
                return Err(ApiError::bad_request(
                    "The rules length exceeds the maximum limit.",
                ));
            }
            tx.put(ACL_TABLE, &record(kind.who(&name), rules))?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn delete_rules(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path(name): Path<String>,
    kind: Kind,
) -> Response {
    write_no_content(node, caller, move |tx| {
        builtin_source(tx)??;
        if !tx.delete(ACL_TABLE, &kind.who(&name))? {
            return Err(kind.not_found());
        }
        Ok(())
    })
    .await
}

async fn get_all(State(node): State<Arc<Node>>) -> Response {
    blocking(node, |node| {
        let row = node.store.read(|tx| {
            if let Err(e) = builtin_source(tx)? {
                return Ok(Err(e));
            }
            Ok(Ok(tx.get(ACL_TABLE, &Term::Int(0))?))
        })??;
        let rules = row
            .as_ref()
            .and_then(|r| r.as_tuple())
            .and_then(|t| t.get(2))
            .map_or(json!([]), format_rules);
        ok(json!({ "rules": rules }))
    })
    .await
}

async fn post_all(State(node): State<Arc<Node>>, caller: MaybeCaller, body: Bytes) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let raw = o
            .get("rules")
            .ok_or_else(|| rule_error("rules", "required field missing"))?;
        let rules = parse_rules(raw, "rules", Version::of(node))?;
        node.store.write(|tx| {
            let max = max_rules(&builtin_source(tx)??);
            if rules_len(raw) > max {
                return Err(ApiError::bad_request(
                    "The length of rules exceeds the maximum limit.",
                ));
            }
            tx.put(ACL_TABLE, &record(Term::Int(0), rules))?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

async fn delete_all(State(node): State<Arc<Node>>, caller: MaybeCaller) -> Response {
    write_no_content(node, caller, move |tx| {
        builtin_source(tx)??;
        // EMQX stores an empty rule list for `all` rather than deleting the row.
        tx.put(ACL_TABLE, &record(Term::Int(0), Vec::new()))?;
        Ok::<_, ApiError>(())
    })
    .await
}

async fn purge(State(node): State<Arc<Node>>, caller: MaybeCaller) -> Response {
    blocking(node, move |node| -> Reply {
        check_write(&caller)?;
        node.store.write(|tx| {
            let source = sources(tx)?
                .into_iter()
                .find(|s| source_type(s) == Some(BUILTIN));
            match source {
                None => Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "BAD_REQUEST",
                    "'built_in_database' type source is not found.",
                )),
                Some(s) if s.get("enable") != Some(&json!(false)) => Err(ApiError::bad_request(
                    "'built_in_database' type source must be disabled before purge.",
                )),
                Some(_) => {
                    tx.clear(ACL_TABLE)?;
                    Ok(())
                }
            }
        })?;
        no_content()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Term {
        Term::binary(s)
    }

    #[test]
    fn rules_of_5_8_are_3_tuples() {
        let v = Version(5, 8, 6);
        let got = parse_rule(
            &json!({"permission": "allow", "action": "all", "topic": "t/1"}),
            "r",
            v,
        )
        .unwrap();
        let want = Term::tuple(vec![
            Term::atom("allow"),
            Term::tuple(vec![
                Term::atom("all"),
                Term::List(vec![
                    Term::tuple(vec![
                        Term::atom("qos"),
                        Term::List(vec![Term::Int(0), Term::Int(1), Term::Int(2)]),
                    ]),
                    Term::tuple(vec![Term::atom("retain"), Term::atom("all")]),
                ]),
            ]),
            b("t/1"),
        ]);
        assert_eq!(got, vec![want]);
        let sub = parse_rule(
            &json!({"permission": "deny", "action": "subscribe", "topic": "eq t/#", "qos": [1]}),
            "r",
            v,
        )
        .unwrap();
        assert_eq!(
            sub[0],
            Term::tuple(vec![
                Term::atom("deny"),
                Term::tuple(vec![
                    Term::atom("subscribe"),
                    Term::List(vec![Term::tuple(vec![
                        Term::atom("qos"),
                        Term::List(vec![Term::Int(1)])
                    ])]),
                ]),
                Term::tuple(vec![Term::atom("eq"), b("t/#")]),
            ])
        );
    }

    #[test]
    fn rules_of_5_9_are_4_tuples_with_who() {
        let v = Version(5, 9, 0);
        let r = parse_rule(
            &json!({"permission": "allow", "action": "publish", "topic": "t", "retain": true,
                    "clientid_re": "^c", "zone": "z1"}),
            "r",
            v,
        )
        .unwrap();
        let items = r[0].as_tuple().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(
            items[1],
            Term::tuple(vec![
                Term::atom("and"),
                Term::List(vec![
                    Term::tuple(vec![Term::atom("zone"), b("z1")]),
                    Term::tuple(vec![
                        Term::atom("clientid"),
                        Term::tuple(vec![Term::atom("re"), b("^c")])
                    ]),
                ])
            ])
        );
        let plain = parse_rule(
            &json!({"permission": "allow", "action": "all", "topic": "t"}),
            "r",
            v,
        )
        .unwrap();
        assert_eq!(plain[0].as_tuple().unwrap()[1], Term::atom("all"));
        let ip = parse_rule(
            &json!({"permission": "allow", "action": "all", "topic": "t", "ipaddr": "10.0.0.0/8"}),
            "r",
            v,
        )
        .unwrap();
        assert_eq!(
            ip[0].as_tuple().unwrap()[1],
            Term::tuple(vec![Term::atom("ipaddr"), Term::charlist("10.0.0.0/8")])
        );
    }

    #[test]
    fn rules_read_back() {
        for v in [Version(5, 8, 0), Version(5, 10, 0)] {
            let input = json!({"permission": "deny", "action": "publish", "topic": "eq a/b",
                               "qos": [0, 2], "retain": false});
            let stored = parse_rule(&input, "r", v).unwrap();
            assert_eq!(format_rule(&stored[0]), input);
        }
        let sub = parse_rule(
            &json!({"permission": "allow", "action": "sub", "topic": "x"}),
            "r",
            Version(5, 8, 0),
        )
        .unwrap();
        assert_eq!(
            format_rule(&sub[0]),
            json!({"permission": "allow", "action": "subscribe", "topic": "x", "qos": [0,1,2], "retain": "all"})
        );
        let who = parse_rule(
            &json!({"permission": "allow", "action": "all", "topic": "t", "username_re": "^u", "listener": "tcp:default"}),
            "r",
            Version(5, 9, 0),
        )
        .unwrap();
        let shown = format_rule(&who[0]);
        assert_eq!(shown["username_re"], json!("^u"));
        assert_eq!(shown["listener"], json!("tcp:default"));
    }

    #[test]
    fn bad_rules_name_the_field() {
        let e = parse_rule(
            &json!({"permission": "maybe", "action": "all", "topic": "t"}),
            "rules[0]",
            Version(5, 8, 0),
        )
        .unwrap_err();
        assert!(e.body["message"]
            .as_str()
            .unwrap()
            .starts_with("rules[0].permission"));
        let e = parse_rule(
            &json!({"permission": "allow", "action": "all", "topic": "t", "qos": 3}),
            "rules[0]",
            Version(5, 8, 0),
        )
        .unwrap_err();
        assert!(e.body["message"]
            .as_str()
            .unwrap()
            .starts_with("rules[0].qos"));
        let topics = parse_rule(
            &json!({"permission": "allow", "action": "all", "topics": ["a", "b"]}),
            "r",
            Version(5, 8, 0),
        )
        .unwrap();
        assert_eq!(topics.len(), 2);
    }
}
