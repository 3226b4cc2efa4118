//! ACL rules in JSON, and the checks EMQX's `emqx_authz_rule:compile` makes of them.
//!
//! A stored rule (`emqx_acl` rows) reads
//! `{"permission": "allow", "who": ..., "action": "publish", "qos": [0,1,2], "retain": "all",
//! "topic": "t/1"}`: `who` is present only for the 4-tuples of EMQX ≥ 5.9 (`{P, Who, Action,
//! Topic}`), absent for the 3-tuples of ≤ 5.8; `qos`/`retain` only when the action carries
//! options (`{publish, [{qos, [0,1,2]}, {retain, all}]}`); a topic is a string or
//! `{"eq": "t/#"}`. A rule of any other shape is `{"term": ...}` (lossless).
//!
//! A condition (`who`) reads `"all"`, `{"username": "u"}`, `{"username": {"re": "^u"}}` (likewise
//! `user`, `clientid`, `client`, `zone`, `listener`), `{"ipaddr": "10.0.0.0/8"}`,
//! `{"ipaddrs": [..]}`, `{"client_attr": {"name": .., "value": ..}}`,
//! `{"security_profile": "hardened"}`, `{"and": [..]}`, `{"or": [..]}`.

use emqx_backup_plugin_sdk::term_json;
use emqx_backup_plugin_sdk::Term;
use serde_json::{json, Map, Value};

/// Condition kinds whose value is text or `{re, Pattern}`.
const VALUE_KINDS: [&str; 6] = ["username", "user", "clientid", "client", "zone", "listener"];

/// Text of a binary (UTF-8) or an Erlang string (charlist).
pub fn text(t: &Term) -> Option<String> {
    match t {
        Term::Binary(b) => std::str::from_utf8(b).ok().map(str::to_owned),
        Term::List(_) => t.as_charlist(),
        _ => None,
    }
}

/// Text of a binary, an Erlang string or an atom (what EMQX's `bin/1` accepts).
fn text_like(t: &Term) -> Option<String> {
    t.as_atom().map(str::to_owned).or_else(|| text(t))
}

fn value_or_re(v: &Term) -> Option<Value> {
    match v.as_tuple() {
        Some([re, pattern]) if re.as_atom() == Some("re") => Some(json!({ "re": text(pattern)? })),
        _ => text_like(v).map(Value::String),
    }
}

/// The JSON form of a condition, when it has a known shape.
pub fn cond_to_json(t: &Term) -> Option<Value> {
    if t.as_atom() == Some("all") {
        return Some(json!("all"));
    }
    match t.as_tuple()? {
        [kind, v] => {
            let kind = kind.as_atom()?;
            Some(match kind {
                k if VALUE_KINDS.contains(&k) => json!({ k: value_or_re(v)? }),
                "ipaddr" => json!({ kind: text(v)? }),
                "ipaddrs" => {
                    let all: Option<Vec<String>> = v.as_list()?.iter().map(text).collect();
                    json!({ kind: all? })
                }
                "and" | "or" => {
                    let all: Option<Vec<Value>> = v.as_list()?.iter().map(cond_to_json).collect();
                    json!({ kind: all? })
                }
                "security_profile" => json!({ kind: v.as_atom()? }),
                _ => return None,
            })
        }
        [kind, name, value] if kind.as_atom() == Some("client_attr") => Some(json!({
            "client_attr": { "name": text(name)?, "value": value_or_re(value)? }
        })),
        _ => None,
    }
}

fn re_or_binary(v: &Value, at: &str) -> Result<Term, String> {
    match v {
        Value::String(s) => Ok(Term::binary(s)),
        Value::Object(o) if o.len() == 1 && o.contains_key("re") => {
            let p = o["re"]
                .as_str()
                .ok_or_else(|| format!("{at}.re must be a string"))?;
            Ok(Term::tuple(vec![Term::atom("re"), Term::binary(p)]))
        }
        _ => Err(format!("{at} must be a string or {{\"re\": pattern}}")),
    }
}

/// The condition term a JSON form stands for, typed as EMQX stores it in `emqx_acl`: text as
/// binaries, `ipaddr` as an Erlang string.
pub fn cond_from_json(v: &Value) -> Result<Term, String> {
    if v.as_str() == Some("all") {
        return Ok(Term::atom("all"));
    }
    let o = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| format!("a condition must be \"all\" or a one-key object, not {v}"))?;
    let (kind, value) = o.iter().next().expect("one key");
    let at = format!("who.{kind}");
    let text = |v: &Value| -> Result<String, String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{at} must hold strings"))
    };
    let list = |v: &Value| -> Result<Vec<Value>, String> {
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("{at} must be an array"))
    };
    let inner = match kind.as_str() {
        k if VALUE_KINDS.contains(&k) => re_or_binary(value, &at)?,
        "ipaddr" => Term::charlist(&text(value)?),
        "ipaddrs" => Term::List(
            list(value)?
                .iter()
                .map(|s| text(s).map(|s| Term::charlist(&s)))
                .collect::<Result<_, _>>()?,
        ),
        "and" | "or" => Term::List(
            list(value)?
                .iter()
                .map(cond_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "security_profile" => Term::atom(&text(value)?),
        "client_attr" => {
            let o = value
                .as_object()
                .ok_or_else(|| format!("{at} must be {{\"name\", \"value\"}}"))?;
            let name = o
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{at}.name must be a string"))?;
            let value = o
                .get("value")
                .ok_or_else(|| format!("{at}.value is missing"))?;
            return Ok(Term::tuple(vec![
                Term::atom(kind),
                Term::binary(name),
                re_or_binary(value, &format!("{at}.value"))?,
            ]));
        }
        other => return Err(format!("unknown condition kind {other:?}")),
    };
    Ok(Term::tuple(vec![Term::atom(kind), inner]))
}

/// Adds `action` (and `qos`, `retain` when the action carries options) to a rule object.
fn action_to_json(a: &Term, out: &mut Map<String, Value>) -> Option<()> {
    let (name, opts) = match a {
        Term::Atom(_) => (a.as_atom()?, None),
        Term::Tuple(pair) if pair.len() == 2 => (pair[0].as_atom()?, Some(pair[1].as_list()?)),
        _ => return None,
    };
    if !matches!(name, "publish" | "subscribe" | "all") {
        return None;
    }
    out.insert("action".into(), json!(name));
    for opt in opts.unwrap_or_default() {
        let [k, v] = opt.as_tuple()? else {
            return None;
        };
        let (key, value) = match k.as_atom()? {
            "qos" => (
                "qos",
                match v {
                    Term::Int(q) => json!(q),
                    Term::List(l) => Value::Array(
                        l.iter()
                            .map(|q| q.as_i64().map(Value::from))
                            .collect::<Option<_>>()?,
                    ),
                    _ => return None,
                },
            ),
            "retain" => (
                "retain",
                match v.as_atom()? {
                    "true" => json!(true),
                    "false" => json!(false),
                    "all" => json!("all"),
                    _ => return None,
                },
            ),
            _ => return None,
        };
        if out.insert(key.into(), value).is_some() {
            return None;
        }
    }
    Some(())
}

fn action_from_json(o: &Map<String, Value>) -> Result<Term, String> {
    let name = o
        .get("action")
        .and_then(Value::as_str)
        .filter(|a| matches!(*a, "publish" | "subscribe" | "all"))
        .ok_or("\"action\" must be \"publish\", \"subscribe\" or \"all\"")?;
    let mut opts = Vec::new();
    if let Some(q) = o.get("qos") {
        let qos = match q {
            Value::Number(n) => Term::Int(n.as_i64().ok_or("\"qos\" must be an integer")?),
            Value::Array(items) => Term::List(
                items
                    .iter()
                    .map(|q| q.as_i64().map(Term::Int))
                    .collect::<Option<_>>()
                    .ok_or("\"qos\" must hold integers")?,
            ),
            _ => return Err("\"qos\" must be an integer or an array".into()),
        };
        opts.push(Term::tuple(vec![Term::atom("qos"), qos]));
    }
    if let Some(r) = o.get("retain") {
        let retain = match r {
            Value::Bool(b) => Term::boolean(*b),
            Value::String(s) if s == "all" => Term::atom("all"),
            _ => return Err("\"retain\" must be true, false or \"all\"".into()),
        };
        opts.push(Term::tuple(vec![Term::atom("retain"), retain]));
    }
    Ok(if o.contains_key("qos") || o.contains_key("retain") {
        Term::tuple(vec![Term::atom(name), Term::List(opts)])
    } else {
        Term::atom(name)
    })
}

/// The JSON form of one topic filter: a string, or `{"eq": ...}`.
pub fn topic_to_json(t: &Term) -> Option<Value> {
    match t.as_tuple() {
        Some([eq, topic]) if eq.as_atom() == Some("eq") => Some(json!({ "eq": text(topic)? })),
        Some(_) => None,
        None => text(t).map(Value::String),
    }
}

fn topic_from_json(v: &Value) -> Result<Term, String> {
    match v {
        Value::String(s) => Ok(Term::binary(s)),
        Value::Object(o) if o.len() == 1 => match o.get("eq") {
            Some(Value::String(s)) => Ok(Term::tuple(vec![Term::atom("eq"), Term::binary(s)])),
            _ => Err("\"topic\" must be a string or {\"eq\": string}".into()),
        },
        _ => Err("\"topic\" must be a string or {\"eq\": string}".into()),
    }
}

fn permission(t: &Term) -> Option<&str> {
    t.as_atom().filter(|p| matches!(*p, "allow" | "deny"))
}

fn stored_rule_readable(rule: &Term) -> Option<Value> {
    let (p, who, action, topic) = match rule.as_tuple()? {
        [p, a, t] => (p, None, a, t),
        [p, w, a, t] => (p, Some(w), a, t),
        _ => return None,
    };
    let mut o = Map::new();
    o.insert("permission".into(), json!(permission(p)?));
    if let Some(w) = who {
        o.insert("who".into(), cond_to_json(w)?);
    }
    action_to_json(action, &mut o)?;
    o.insert("topic".into(), topic_to_json(topic)?);
    Some(Value::Object(o))
}

/// The JSON form of a stored rule: readable when it reads back to exactly the rule, else
/// `{"term": ...}`.
pub fn stored_rule_to_json(rule: &Term) -> Value {
    match stored_rule_readable(rule) {
        Some(v) if stored_rule_from_json(&v).as_ref() == Ok(rule) => v,
        _ => json!({ "term": term_json::to_json(rule) }),
    }
}

const RULE_KEYS: [&str; 6] = ["permission", "who", "action", "qos", "retain", "topic"];

/// The stored rule a JSON form stands for (a 3-tuple without `who`, a 4-tuple with it).
pub fn stored_rule_from_json(v: &Value) -> Result<Term, String> {
    let o = v.as_object().ok_or("a rule must be an object")?;
    if o.len() == 1 {
        if let Some(t) = o.get("term") {
            return term_json::from_json(t);
        }
    }
    if let Some(k) = o.keys().find(|k| !RULE_KEYS.contains(&k.as_str())) {
        return Err(format!("unknown rule field {k:?}"));
    }
    let p = o
        .get("permission")
        .and_then(Value::as_str)
        .filter(|p| matches!(*p, "allow" | "deny"))
        .ok_or("\"permission\" must be \"allow\" or \"deny\"")?;
    let topic = topic_from_json(o.get("topic").ok_or("missing \"topic\"")?)?;
    let action = action_from_json(o)?;
    let mut items = vec![Term::atom(p)];
    if let Some(w) = o.get("who") {
        items.push(cond_from_json(w)?);
    }
    items.push(action);
    items.push(topic);
    Ok(Term::tuple(items))
}

/// The JSON form of a rule of the file source (`acl.conf`), tagged with its place; a rule EMQX
/// could not compile is `{"term": ...}` with the same tags.
pub fn file_rule_to_json(index: usize, line: usize, rule: &Term) -> Value {
    let mut o = Map::new();
    o.insert("source".into(), json!("file"));
    o.insert("index".into(), json!(index));
    o.insert("line".into(), json!(line));
    let readable = (|| -> Option<Map<String, Value>> {
        let mut r = Map::new();
        match rule.as_tuple()? {
            [p, who] => {
                r.insert("permission".into(), json!(permission(p)?));
                r.insert("who".into(), cond_to_json(who)?);
                r.insert("action".into(), json!("all"));
                r.insert("topics".into(), json!("all"));
            }
            [p, who, action, topics] => {
                r.insert("permission".into(), json!(permission(p)?));
                r.insert("who".into(), cond_to_json(who)?);
                action_to_json(action, &mut r)?;
                let topics = if topics.as_atom() == Some("all") {
                    json!("all")
                } else {
                    Value::Array(
                        topics
                            .as_list()?
                            .iter()
                            .map(topic_to_json)
                            .collect::<Option<_>>()?,
                    )
                };
                r.insert("topics".into(), topics);
            }
            _ => return None,
        }
        Some(r)
    })();
    match readable {
        Some(r) => o.extend(r),
        None => {
            o.insert("term".into(), term_json::to_json(rule));
        }
    }
    Value::Object(o)
}

fn show(t: &Term) -> String {
    t.to_string()
}

fn check_permission(p: &Term) -> Result<(), String> {
    permission(p)
        .map(|_| ())
        .ok_or_else(|| format!("permission {} is not allow or deny", show(p)))
}

fn check_text(t: &Term, what: &str) -> Result<(), String> {
    text_like(t)
        .map(|_| ())
        .ok_or_else(|| format!("{what} {} is not text", show(t)))
}

fn check_value_or_re(v: &Term, what: &str) -> Result<(), String> {
    match v.as_tuple() {
        Some([re, p]) if re.as_atom() == Some("re") => check_text(p, &format!("{what} pattern")),
        _ => check_text(v, what),
    }
}

/// An IPv4 address as `inet:parse_address` reads it (1 to 4 dotted parts) or an IPv6 one.
fn parse_ip(s: &str) -> Option<u32> {
    if s.contains(':') {
        return s.parse::<std::net::Ipv6Addr>().ok().map(|_| 128);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let nums: Option<Vec<u64>> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    let nums = nums?;
    let (last, init) = nums.split_last()?;
    let rest_bits = 8 * (4 - init.len() as u32);
    (init.iter().all(|n| *n <= 255) && *last < (1u64 << rest_bits)).then_some(32)
}

/// Whether a text is an address or a network `esockd_cidr:parse/2` accepts.
pub fn check_cidr(s: &str) -> Result<(), String> {
    let bad = || format!("{s:?} is not an IP address or network");
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let bits = parse_ip(addr).ok_or_else(bad)?;
    if let Some(len) = len {
        let len: u32 = len.parse().map_err(|_| bad())?;
        if len > bits {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_ip_text(t: &Term) -> Result<(), String> {
    let s = t
        .as_charlist()
        .filter(|_| !matches!(t, Term::List(l) if l.is_empty()))
        .ok_or_else(|| format!("address {} is not a string", show(t)))?;
    check_cidr(&s)
}

/// What `emqx_authz_rule:compile_condition` makes of a condition.
pub fn check_cond(t: &Term) -> Result<(), String> {
    if t.as_atom() == Some("all") {
        return Ok(());
    }
    let bad = || Err(format!("invalid client match condition {}", show(t)));
    let Some(items) = t.as_tuple() else {
        return bad();
    };
    match items {
        [kind, v] => match kind.as_atom() {
            Some(k @ ("username" | "user" | "clientid" | "client")) => check_value_or_re(v, k),
            Some("zone" | "listener") => Ok(()),
            Some("security_profile") => match v.as_atom() {
                Some("legacy" | "hardened") => Ok(()),
                _ => bad(),
            },
            Some("ipaddr") => check_ip_text(v),
            Some("ipaddrs") => match v.as_list() {
                Some(l) => l.iter().try_for_each(check_ip_text),
                None => bad(),
            },
            Some("and" | "or") => match v.as_list() {
                Some(l) => l.iter().try_for_each(check_cond),
                None => bad(),
            },
            _ => bad(),
        },
        [kind, name, v] if kind.as_atom() == Some("client_attr") => {
            check_text(name, "client_attr name")?;
            check_value_or_re(v, "client_attr value")
        }
        _ => bad(),
    }
}

/// An option of a `proplists` list as `proplists` reads it for a key.
enum Prop<'t> {
    /// Not about the key.
    Absent,
    /// The bare atom: `{Key, true}`.
    True,
    /// `{Key, Value}`.
    Value(&'t Term),
    /// A tuple of another size starting with the key.
    Other,
}

fn prop<'t>(opt: &'t Term, key: &str) -> Prop<'t> {
    match opt {
        Term::Atom(x) if x.as_str() == key => Prop::True,
        Term::Tuple(t) if t.first().and_then(Term::as_atom) == Some(key) => match t.as_slice() {
            [_, v] => Prop::Value(v),
            _ => Prop::Other,
        },
        _ => Prop::Absent,
    }
}

/// What `emqx_authz_rule:compile_action` makes of an action (options read as `proplists`
/// does: a bare atom `qos` is `{qos, true}`).
pub fn check_action(a: &Term) -> Result<(), String> {
    let bad = || format!("invalid action {}", show(a));
    let (name, opts) = match a {
        Term::Atom(_) => (a.as_atom().unwrap_or_default(), &[][..]),
        Term::Tuple(pair) if pair.len() == 2 => (
            pair[0].as_atom().ok_or_else(bad)?,
            pair[1].as_list().ok_or_else(bad)?,
        ),
        _ => return Err(bad()),
    };
    if !matches!(name, "publish" | "subscribe" | "all") {
        return Err(bad());
    }
    let qos_ok = |q: &Term| q.as_i64().is_some_and(|q| (0..=2).contains(&q));
    for opt in opts {
        let ok = match prop(opt, "qos") {
            Prop::True => false,
            Prop::Value(Term::List(l)) => l.iter().all(qos_ok),
            Prop::Value(q) => qos_ok(q),
            Prop::Absent | Prop::Other => true,
        };
        if !ok {
            return Err(format!("invalid qos in action {}", show(a)));
        }
    }
    if name != "subscribe" {
        let retain = opts
            .iter()
            .map(|o| prop(o, "retain"))
            .find(|p| !matches!(p, Prop::Absent));
        if let Some(Prop::Value(v)) = retain {
            if !matches!(v.as_atom(), Some("true" | "false" | "all")) {
                return Err(format!("invalid retain in action {}", show(a)));
            }
        }
    }
    Ok(())
}

/// What `emqx_authz_rule:compile_topic` makes of a topic filter.
pub fn check_topic(t: &Term) -> Result<(), String> {
    match t.as_tuple() {
        Some([eq, topic]) if eq.as_atom() == Some("eq") => check_text(topic, "topic"),
        Some(_) => Err(format!("invalid topic {}", show(t))),
        None => text(t)
            .map(|_| ())
            .ok_or_else(|| format!("topic {} is not a string", show(t))),
    }
}

/// What `emqx_authz_rule:compile/1` makes of one term of `acl.conf`.
pub fn check_file_rule(rule: &Term) -> Result<(), String> {
    match rule.as_tuple() {
        Some([p, who]) => {
            check_permission(p)?;
            match who.as_tuple() {
                _ if who.as_atom() == Some("all") => Ok(()),
                Some([k, _]) if k.as_atom() == Some("security_profile") => check_cond(who),
                _ => Err(format!(
                    "a two-element rule must be {{Permission, all}}, not {}",
                    show(rule)
                )),
            }
        }
        Some([p, who, action, topics]) => {
            check_permission(p)?;
            check_cond(who)?;
            check_action(action)?;
            if topics.as_atom() == Some("all") {
                return Ok(());
            }
            topics
                .as_list()
                .ok_or_else(|| format!("topics {} must be a list or all", show(topics)))?
                .iter()
                .try_for_each(check_topic)
        }
        _ => Err(format!(
            "a rule must be {{Permission, Who, Action, Topics}} or {{Permission, all}}, not {}",
            show(rule)
        )),
    }
}

/// What EMQX makes of a rule stored in `emqx_acl` when it authorizes with it.
pub fn check_stored_rule(rule: &Term) -> Result<(), String> {
    let (p, who, action, topic) = match rule.as_tuple() {
        Some([p, a, t]) => (p, None, a, t),
        Some([p, w, a, t]) => (p, Some(w), a, t),
        _ => {
            return Err(format!(
                "{} is not {{Permission, Action, Topic}} or {{Permission, Who, Action, Topic}}",
                show(rule)
            ))
        }
    };
    check_permission(p)?;
    if let Some(w) = who {
        check_cond(w)?;
    }
    check_action(action)?;
    check_topic(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(s: &str) -> Term {
        Term::binary(s)
    }

    #[test]
    fn legacy_and_current_rules_read_back() {
        let opts = Term::List(vec![
            Term::tuple(vec![
                Term::atom("qos"),
                Term::List(vec![Term::Int(0), Term::Int(1), Term::Int(2)]),
            ]),
            Term::tuple(vec![Term::atom("retain"), Term::atom("all")]),
        ]);
        let action = Term::tuple(vec![Term::atom("all"), opts]);
        let legacy = Term::tuple(vec![Term::atom("allow"), action.clone(), bin("t/1")]);
        let v = stored_rule_to_json(&legacy);
        assert_eq!(
            v,
            json!({"permission":"allow","action":"all","qos":[0,1,2],"retain":"all","topic":"t/1"})
        );
        let who = Term::tuple(vec![
            Term::atom("and"),
            Term::List(vec![
                Term::tuple(vec![
                    Term::atom("username"),
                    Term::tuple(vec![Term::atom("re"), bin("^u")]),
                ]),
                Term::tuple(vec![Term::atom("ipaddr"), Term::charlist("10.0.0.0/8")]),
            ]),
        ]);
        let eq = Term::tuple(vec![Term::atom("eq"), bin("t/#")]);
        let current = Term::tuple(vec![Term::atom("deny"), who, Term::atom("subscribe"), eq]);
        let v = stored_rule_to_json(&current);
        assert_eq!(v["who"]["and"][1]["ipaddr"], "10.0.0.0/8");
        assert_eq!(v["topic"], json!({"eq": "t/#"}));
        assert_eq!(stored_rule_from_json(&v).unwrap(), current);
    }

    #[test]
    fn odd_rules_stay_lossless() {
        let odd = Term::tuple(vec![
            Term::atom("allow"),
            Term::tuple(vec![Term::atom("publish"), Term::List(vec![])]),
            bin("t"),
        ]);
        let v = stored_rule_to_json(&odd);
        assert!(v.get("term").is_some());
        assert_eq!(stored_rule_from_json(&v).unwrap(), odd);
    }

    #[test]
    fn cidrs() {
        assert!(check_cidr("127.0.0.1").is_ok());
        assert!(check_cidr("10.0.0.0/8").is_ok());
        assert!(check_cidr("127.1").is_ok());
        assert!(check_cidr("::1/128").is_ok());
        assert!(check_cidr("10.0.0.0/33").is_err());
        assert!(check_cidr("300.0.0.1").is_err());
        assert!(check_cidr("host").is_err());
    }
}
