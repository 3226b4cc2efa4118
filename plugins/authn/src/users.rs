//! The four user tables of `builtin_authn` and their readable JSON.
//!
//! Backup files tag each record with the table's name. Password users are
//! `{Tab, {UserGroup, UserId}, PasswordHash, Salt, IsSuperuser}` with the chain name atom as
//! user group; SCRAM users are `{Tab, {UserGroup, UserId}, StoredKey, ServerKey, Salt,
//! IsSuperuser}` with the authenticator id binary as user group. The 6.x `_ns` tables key by
//! `{Namespace, UserGroup, UserId}` and carry an `extra` map after the other fields.

#![warn(missing_docs)]

use emqx_backup_plugin_sdk::table::{from_raw_record, readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::term_json;
use emqx_backup_plugin_sdk::Term;
use serde_json::{Map, Value};

/// Which credentials a user table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `password_hash` and `salt` of a password_based authenticator; user group is an atom.
    Password,
    /// `stored_key`, `server_key` and `salt` of a SCRAM authenticator; user group is a binary.
    Scram,
}

/// One user table: its name, its kind and whether it is a 6.x namespaced table.
#[derive(Clone, Copy, Debug)]
pub struct UserTable {
    /// Table name (file name under `mnesia/`).
    pub table: &'static str,
    /// Password or SCRAM users.
    pub kind: Kind,
    /// Keyed by `{Namespace, UserGroup, UserId}` with a trailing `extra` field.
    pub namespaced: bool,
}

/// Every table of the `builtin_authn` table set.
pub const TABLES: [UserTable; 4] = [
    UserTable {
        table: "emqx_authn_mnesia",
        kind: Kind::Password,
        namespaced: false,
    },
    UserTable {
        table: "emqx_authn_mnesia_ns",
        kind: Kind::Password,
        namespaced: true,
    },
    UserTable {
        table: "emqx_authn_scram_mnesia",
        kind: Kind::Scram,
        namespaced: false,
    },
    UserTable {
        table: "emqx_authn_scram_mnesia_ns",
        kind: Kind::Scram,
        namespaced: true,
    },
];

/// The user table of a name.
pub fn user_table(name: &str) -> Option<UserTable> {
    TABLES.iter().copied().find(|t| t.table == name)
}

/// The parts of a user record the merge warnings need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The user group as text: chain name (password) or authenticator id (SCRAM).
    pub group: String,
    /// The namespace of a namespaced record.
    pub namespace: Option<String>,
    /// `is_superuser`, when a boolean.
    pub is_superuser: Option<bool>,
}

fn text(t: &Term) -> Option<&str> {
    std::str::from_utf8(t.as_binary()?).ok()
}

fn boolean(t: &Term) -> Option<bool> {
    match t.as_atom()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

impl UserTable {
    /// The field names after the key, in record order.
    fn fields(&self) -> &'static [&'static str] {
        match (self.kind, self.namespaced) {
            (Kind::Password, false) => &["password_hash", "salt", "is_superuser"],
            (Kind::Password, true) => &["password_hash", "salt", "is_superuser", "extra"],
            (Kind::Scram, false) => &["stored_key", "server_key", "salt", "is_superuser"],
            (Kind::Scram, true) => &["stored_key", "server_key", "salt", "is_superuser", "extra"],
        }
    }

    /// The user group as text when it has the table's native type (atom or binary).
    fn group_text<'t>(&self, group: &'t Term) -> Option<&'t str> {
        match self.kind {
            Kind::Password => group.as_atom(),
            Kind::Scram => text(group),
        }
    }

    fn group_term(&self, group: &str) -> Term {
        match self.kind {
            Kind::Password => Term::atom(group),
            Kind::Scram => Term::binary(group),
        }
    }

    /// `(namespace, group, user_id)` of a key of this table's shape.
    fn key_parts<'t>(&self, key: &'t Term) -> Option<(Option<&'t Term>, &'t Term, &'t Term)> {
        match (self.namespaced, key.as_tuple()?) {
            (false, [group, user]) => Some((None, group, user)),
            (true, [ns, group, user]) => Some((Some(ns), group, user)),
            _ => None,
        }
    }

    /// What the merge warnings need to know of a record, when it has this table's shape.
    pub fn info(&self, record: &Term) -> Option<UserInfo> {
        let items = record.as_tuple()?;
        let (ns, group, _) = self.key_parts(items.get(1)?)?;
        let superuser_at = match self.kind {
            Kind::Password => 4,
            Kind::Scram => 5,
        };
        Some(UserInfo {
            group: self
                .group_text(group)
                .map_or_else(|| group.to_string(), str::to_owned),
            namespace: ns.map(|n| text(n).map_or_else(|| n.to_string(), str::to_owned)),
            is_superuser: items.get(superuser_at).and_then(boolean),
        })
    }

    fn readable(&self, record: &Term) -> Option<Value> {
        let items = record.as_tuple()?;
        let fields = self.fields();
        if items.len() != fields.len() + 2 || items[0].as_atom() != Some(self.table) {
            return None;
        }
        let (ns, group, user) = self.key_parts(&items[1])?;
        let mut o = Map::new();
        if let Some(ns) = ns {
            o.insert("namespace".into(), Value::String(text(ns)?.to_owned()));
        }
        o.insert(
            "user_group".into(),
            Value::String(self.group_text(group)?.to_owned()),
        );
        o.insert(
            "user_id".into(),
            term_json::binary_to_json(user.as_binary()?),
        );
        for (name, value) in fields.iter().zip(&items[2..]) {
            let json = match *name {
                "password_hash" | "salt" => term_json::binary_to_json(value.as_binary()?),
                "stored_key" | "server_key" => Value::String(hex::encode(value.as_binary()?)),
                "is_superuser" => Value::Bool(boolean(value)?),
                _ => term_json::to_json(value),
            };
            o.insert((*name).to_owned(), json);
        }
        Some(Value::Object(o))
    }

    fn parse_readable(&self, value: &Value) -> Result<Term, String> {
        let o = value.as_object().ok_or("a user must be an object")?;
        let mut expected = vec!["user_group", "user_id"];
        if self.namespaced {
            expected.push("namespace");
        }
        expected.extend(self.fields());
        if let Some(unknown) = o.keys().find(|k| !expected.contains(&k.as_str())) {
            return Err(format!("unknown field \"{unknown}\""));
        }
        let field = |k: &str| o.get(k).ok_or_else(|| format!("missing \"{k}\""));
        let string = |k: &str| -> Result<&str, String> {
            field(k)?
                .as_str()
                .ok_or_else(|| format!("\"{k}\" must be a string"))
        };
        let bytes = |k: &str| -> Result<Term, String> {
            term_json::binary_from_json(field(k)?)
                .map(Term::Binary)
                .map_err(|e| format!("\"{k}\": {e}"))
        };
        let group = self.group_term(string("user_group")?);
        let user = bytes("user_id")?;
        let key = if self.namespaced {
            Term::tuple(vec![Term::binary(string("namespace")?), group, user])
        } else {
            Term::tuple(vec![group, user])
        };
        let mut items = vec![Term::atom(self.table), key];
        for name in self.fields() {
            items.push(match *name {
                "password_hash" | "salt" => bytes(name)?,
                "stored_key" | "server_key" => Term::Binary(
                    hex::decode(string(name)?)
                        .map_err(|e| format!("\"{name}\" must be hex: {e}"))?,
                ),
                "is_superuser" => Term::boolean(
                    field(name)?
                        .as_bool()
                        .ok_or("\"is_superuser\" must be true or false")?,
                ),
                _ => term_json::from_json(field(name)?).map_err(|e| format!("\"{name}\": {e}"))?,
            });
        }
        Ok(Term::tuple(items))
    }
}

impl TableFormat for UserTable {
    fn table(&self) -> &'static str {
        self.table
    }

    fn record_to_json(&self, record: &Term) -> Value {
        readable_or_raw(self, record, self.readable(record))
    }

    fn record_from_json(&self, value: &Value) -> Result<Term, String> {
        if let Some(raw) = from_raw_record(value) {
            return raw;
        }
        self.parse_readable(value)
    }

    /// `mqtt:global/authn-user-1`, `ns1/mqtt:global/u`; Erlang syntax for odd keys.
    fn key_text(&self, key: &Term) -> String {
        let readable = || -> Option<String> {
            let (ns, group, user) = self.key_parts(key)?;
            let group = self.group_text(group)?;
            let user = text(user)?;
            Some(match ns {
                Some(ns) => format!("{}/{group}/{user}", text(ns)?),
                None => format!("{group}/{user}"),
            })
        };
        readable().unwrap_or_else(|| key.to_string())
    }
}
