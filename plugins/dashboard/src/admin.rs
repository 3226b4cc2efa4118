//! `emqx_admin`: dashboard accounts, `{emqx_admin, Username, PwdHash, Description, Role, Extra}`.
//!
//! JSON: `{"username": "admin", "pwdhash": {...}, "description": "", "role": "administrator",
//! "extra": {...}}`. SSO accounts have `"username": {"backend": "ldap", "name": "x"}`; the 5.1
//! `role = undefined` is `null` and its `extra = []` is `[]`.

use crate::fields::{self, extra_from_json, extra_to_json, text_from_json, text_to_json};
use crate::hash;
use emqx_backup_plugin_sdk::table::{from_raw_record, readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::Term;
use serde_json::{json, Value};

/// The table name.
pub const TABLE: &str = "emqx_admin";

/// Roles a dashboard account may hold.
pub const ROLES: [&str; 2] = ["administrator", "viewer"];

/// The `emqx_admin` table format.
pub struct AdminTable;

/// A username (binary, or `{Backend, Name}` for SSO) as JSON.
pub fn username_to_json(t: &Term) -> Option<Value> {
    match t {
        Term::Binary(_) => text_to_json(t),
        Term::Tuple(parts) => match parts.as_slice() {
            [backend, name] => Some(json!({
                "backend": backend.as_atom()?,
                "name": text_to_json(name)?,
            })),
            _ => None,
        },
        _ => None,
    }
}

fn username_from_json(v: &Value) -> Result<Term, String> {
    match v {
        Value::Object(o) if o.contains_key("backend") => {
            let backend = o["backend"]
                .as_str()
                .ok_or("\"username.backend\" must be a string")?;
            let name = o.get("name").ok_or("\"username\" lacks \"name\"")?;
            Ok(Term::tuple(vec![
                Term::atom(backend),
                text_from_json("username.name", name)?,
            ]))
        }
        v => text_from_json("username", v),
    }
}

/// A username as plan keys and messages show it: `admin`, or `ldap:x` for SSO accounts.
pub fn username_text(t: &Term) -> String {
    match t.as_tuple() {
        Some([backend, name]) if backend.as_atom().is_some() => {
            format!(
                "{}:{}",
                backend.as_atom().unwrap_or_default(),
                fields::text_of(name)
            )
        }
        _ => fields::text_of(t),
    }
}

fn role_to_json(t: &Term) -> Option<Value> {
    match t {
        Term::Binary(_) => text_to_json(t),
        t if t.as_atom() == Some("undefined") => Some(Value::Null),
        _ => None,
    }
}

fn role_from_json(v: &Value) -> Result<Term, String> {
    match v {
        Value::Null => Ok(Term::atom("undefined")),
        v => text_from_json("role", v),
    }
}

fn readable(record: &Term) -> Option<Value> {
    match record.as_tuple()? {
        [tag, username, pwdhash, description, role, extra] if tag.as_atom() == Some(TABLE) => {
            Some(json!({
                "username": username_to_json(username)?,
                "pwdhash": hash::to_json(pwdhash.as_binary()?),
                "description": text_to_json(description)?,
                "role": role_to_json(role)?,
                "extra": extra_to_json(extra)?,
            }))
        }
        _ => None,
    }
}

impl TableFormat for AdminTable {
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
        let o = value.as_object().ok_or("an account must be an object")?;
        let field = |k: &str| o.get(k).ok_or_else(|| format!("missing \"{k}\""));
        Ok(Term::tuple(vec![
            Term::atom(TABLE),
            username_from_json(field("username")?)?,
            Term::Binary(hash::from_json("pwdhash", field("pwdhash")?)?),
            text_from_json("description", field("description")?)?,
            role_from_json(field("role")?)?,
            extra_from_json("extra", field("extra")?)?,
        ]))
    }

    fn key_text(&self, key: &Term) -> String {
        username_text(key)
    }
}

/// Warnings about an account EMQX imports as is but cannot use as intended.
pub fn warnings(record: &Term) -> Vec<String> {
    let mut out = Vec::new();
    let Some([_, _, pwdhash, _, role, extra]) = record.as_tuple() else {
        return out;
    };
    match pwdhash.as_binary() {
        Some(bytes) => out.extend(hash::problem(bytes).map(|p| format!("pwdhash: {p}"))),
        None => out.push(format!(
            "pwdhash is a {}, not a binary: no password matches it",
            pwdhash.kind()
        )),
    }
    match role {
        Term::Binary(b) => out.extend(fields::role_problem(b, &ROLES)),
        t if t.as_atom() == Some("undefined") => {}
        t => out.push(format!("role {t} is neither a binary nor undefined")),
    }
    if !matches!(extra, Term::Map(_)) && extra_to_json(extra).is_none() {
        out.push(format!("extra is {extra}, not a map"));
    }
    out
}
