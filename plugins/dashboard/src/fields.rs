//! Field forms shared by both tables: text, `extra` maps, timestamps and roles.

use emqx_backup_plugin_sdk::{term_json, Term};
use serde_json::{Map, Value};

/// A binary as a JSON string (or `{"base64": ...}` when it is not UTF-8).
pub fn text_to_json(t: &Term) -> Option<Value> {
    t.as_binary().map(term_json::binary_to_json)
}

/// The binary a [`text_to_json`] form stands for.
pub fn text_from_json(field: &str, v: &Value) -> Result<Term, String> {
    term_json::binary_from_json(v)
        .map(Term::Binary)
        .map_err(|e| format!("\"{field}\": {e}"))
}

/// A binary's text for messages and plan keys.
pub fn text_of(t: &Term) -> String {
    match t.as_binary() {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => t.to_string(),
    }
}

/// An `extra` map with atom keys as a JSON object (values in the lossless term form);
/// the `[]` of 5.1 archives as `[]`.
pub fn extra_to_json(t: &Term) -> Option<Value> {
    match t {
        Term::Map(pairs) => {
            let mut out = Map::new();
            for (k, v) in pairs {
                let key = k.as_atom()?;
                if out.insert(key.to_owned(), term_json::to_json(v)).is_some() {
                    return None;
                }
            }
            Some(Value::Object(out))
        }
        Term::List(items) if items.is_empty() => Some(Value::Array(Vec::new())),
        _ => None,
    }
}

/// The term an [`extra_to_json`] form stands for.
pub fn extra_from_json(field: &str, v: &Value) -> Result<Term, String> {
    match v {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| {
                term_json::from_json(v)
                    .map(|v| (Term::atom(k), v))
                    .map_err(|e| format!("\"{field}.{k}\": {e}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Term::Map),
        Value::Array(a) if a.is_empty() => Ok(Term::List(Vec::new())),
        _ => Err(format!("\"{field}\" must be an object (or [] as in 5.1)")),
    }
}

/// Epoch seconds as a number, `infinity` as `"infinity"`, `undefined` as `null`.
pub fn time_to_json(t: &Term) -> Option<Value> {
    match t {
        Term::Int(i) => Some(Value::from(*i)),
        t => match t.as_atom()? {
            "infinity" => Some(Value::from("infinity")),
            "undefined" => Some(Value::Null),
            _ => None,
        },
    }
}

/// The term a [`time_to_json`] form stands for.
pub fn time_from_json(field: &str, v: &Value) -> Result<Term, String> {
    match v {
        Value::Null => Ok(Term::atom("undefined")),
        Value::String(s) if s == "infinity" => Ok(Term::atom("infinity")),
        v => v.as_i64().map(Term::Int).ok_or_else(|| {
            format!("\"{field}\" must be epoch seconds, \"infinity\" or null (undefined)")
        }),
    }
}

/// Why a role is not one EMQX knows (`None` when it is): plain or `ns:<ns>::<role>`.
pub fn role_problem(role: &[u8], known: &[&str]) -> Option<String> {
    let text = String::from_utf8_lossy(role);
    let base = match text.split_once("::") {
        Some((tag, base)) => match tag.strip_prefix("ns:") {
            Some(ns) if !ns.is_empty() => base,
            _ => {
                return Some(format!(
                    "role {text:?} has a bad namespace tag (ns:<name>::)"
                ))
            }
        },
        None => &*text,
    };
    (!known.contains(&base)).then(|| {
        format!(
            "role {text:?} is not one EMQX's RBAC knows ({}), so it would refuse the account",
            known.join(", ")
        )
    })
}
