//! `emqx_app`: API keys, `{emqx_app, Name, ApiKey, ApiSecretHash, Enable, Extra, ExpiredAt,
//! CreatedAt}`; before 5.4 the fifth field was `desc`, a binary.
//!
//! JSON: `{"name": "test", "api_key": "ee26b0dd4af7e749", "api_secret_hash": {...},
//! "enable": true, "extra": {"desc": "", "role": "administrator"}, "expired_at": "infinity",
//! "created_at": 1700823301}`; a legacy row has `"desc": "..."` where current rows have
//! `"extra"`. `expired_at` is epoch seconds, `"infinity"` or `null` (`undefined`).

use crate::fields::{
    self, extra_from_json, extra_to_json, text_from_json, text_to_json, time_from_json,
    time_to_json,
};
use crate::hash;
use emqx_backup_plugin_sdk::table::{from_raw_record, readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::Term;
use serde_json::{Map, Value};

/// The table name.
pub const TABLE: &str = "emqx_app";

/// Roles an API key may hold.
pub const ROLES: [&str; 3] = ["administrator", "viewer", "publisher"];

/// The `emqx_app` table format.
pub struct AppTable;

fn readable(record: &Term) -> Option<Value> {
    let [tag, name, api_key, secret, enable, extra, expired_at, created_at] = record.as_tuple()?
    else {
        return None;
    };
    if tag.as_atom() != Some(TABLE) {
        return None;
    }
    let enable = match enable.as_atom()? {
        "true" => true,
        "false" => false,
        _ => return None,
    };
    let mut o = Map::new();
    o.insert("name".into(), text_to_json(name)?);
    o.insert("api_key".into(), text_to_json(api_key)?);
    o.insert("api_secret_hash".into(), hash::to_json(secret.as_binary()?));
    o.insert("enable".into(), Value::Bool(enable));
    match extra {
        Term::Binary(_) => o.insert("desc".into(), text_to_json(extra)?),
        Term::Map(_) => o.insert("extra".into(), extra_to_json(extra)?),
        _ => return None,
    };
    o.insert("expired_at".into(), time_to_json(expired_at)?);
    o.insert("created_at".into(), time_to_json(created_at)?);
    Some(Value::Object(o))
}

impl TableFormat for AppTable {
    fn table(&self) -> &'static str {
        TABLE
    }

    fn record_to_json(&self, record: &Term) -> Value {
        readable_or_raw(self, record, readable(record))
    }

    fn record_from_json(&self, value: &Value) -> Result<Term, String> {
        if let Some(raw) = from_raw_record(value) {
            return raw;
        }
        let o = value.as_object().ok_or("an API key must be an object")?;
        let field = |k: &str| o.get(k).ok_or_else(|| format!("missing \"{k}\""));
        let fifth = match (o.get("extra"), o.get("desc")) {
            (Some(extra), None) => match extra {
                Value::Object(_) => extra_from_json("extra", extra)?,
                _ => return Err("\"extra\" must be an object".into()),
            },
            (None, Some(desc)) => text_from_json("desc", desc)?,
            _ => {
                return Err(
                    "an API key needs exactly one of \"extra\" (5.4+) and \"desc\" (legacy)".into(),
                )
            }
        };
        Ok(Term::tuple(vec![
            Term::atom(TABLE),
            text_from_json("name", field("name")?)?,
            text_from_json("api_key", field("api_key")?)?,
            Term::Binary(hash::from_json(
                "api_secret_hash",
                field("api_secret_hash")?,
            )?),
            Term::boolean(
                field("enable")?
                    .as_bool()
                    .ok_or("\"enable\" must be true or false")?,
            ),
            fifth,
            time_from_json("expired_at", field("expired_at")?)?,
            time_from_json("created_at", field("created_at")?)?,
        ]))
    }

    fn key_text(&self, key: &Term) -> String {
        fields::text_of(key)
    }
}

/// Why an `api_key` value is not one EMQX generates (`None` when it is): 16 lowercase hex
/// characters (5.x) or 16 letters and digits starting with a letter (6.0.3+, 6.1.2+).
pub fn api_key_problem(key: &[u8]) -> Option<String> {
    let hex = key.len() == 16 && key.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let random = key.len() == 16
        && key[0].is_ascii_alphabetic()
        && key.iter().all(u8::is_ascii_alphanumeric);
    (!hex && !random).then(|| {
        format!(
            "api_key {:?} is not 16 lowercase hex characters (5.x) nor 16 letters and digits starting with a letter (6.x)",
            String::from_utf8_lossy(key)
        )
    })
}

/// Warnings about an API key EMQX imports as is but cannot use as intended.
pub fn warnings(record: &Term) -> Vec<String> {
    let mut out = Vec::new();
    let Some([_, _, api_key, secret, enable, extra, expired_at, created_at]) = record.as_tuple()
    else {
        return out;
    };
    match api_key.as_binary() {
        Some(k) => out.extend(api_key_problem(k)),
        None => out.push(format!("api_key is a {}, not a binary", api_key.kind())),
    }
    match secret.as_binary() {
        Some(bytes) => out.extend(hash::problem(bytes).map(|p| format!("api_secret_hash: {p}"))),
        None => out.push(format!(
            "api_secret_hash is a {}, not a binary: no secret matches it",
            secret.kind()
        )),
    }
    if !matches!(enable.as_atom(), Some("true" | "false")) {
        out.push(format!("enable is {enable}, not a boolean"));
    }
    match extra {
        Term::Binary(_) => {}
        Term::Map(pairs) => {
            let role = pairs
                .iter()
                .find(|(k, _)| k.as_atom() == Some("role"))
                .map(|(_, v)| v);
            match role {
                None => {}
                Some(Term::Binary(b)) => out.extend(fields::role_problem(b, &ROLES)),
                Some(t) => out.push(format!("extra.role is {t}, not a binary")),
            }
        }
        t => out.push(format!(
            "extra is {t}, neither a map nor a legacy desc binary"
        )),
    }
    if time_to_json(expired_at).is_none() {
        out.push(format!(
            "expired_at is {expired_at}, not epoch seconds, infinity or undefined"
        ));
    }
    if created_at.as_i64().is_none() && created_at.as_atom() != Some("undefined") {
        out.push(format!("created_at is {created_at}, not epoch seconds"));
    }
    out
}
