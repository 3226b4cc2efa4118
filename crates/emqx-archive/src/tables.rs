//! EMQX's mnesia tables that backups carry: the one place their definitions are written down.
//!
//! Facts from EMQX's table owners (spec §3.2). EMQX's import refuses a table file whose schema
//! attributes differ from these (`different_table_schema`); `emqx_app` also accepts its legacy list.

use mnesia_backup::{Schema, TableType};

/// One EMQX table as EMQX defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableDef {
    /// Table name (the file name under `mnesia/`).
    pub name: &'static str,
    /// Table set that exports and imports it (`table_sets` in the REST API).
    pub table_set: &'static str,
    /// Mnesia table type.
    pub kind: TableType,
    /// Record name rows carry inside mnesia.
    pub record_name: &'static str,
    /// Attribute names in order.
    pub attributes: &'static [&'static str],
    /// An older attribute list EMQX still imports, if any.
    pub legacy_attributes: Option<&'static [&'static str]>,
}

const BANNED: &[&str] = &["who", "by", "reason", "at", "until"];

/// Every table EMQX 5.x and 6.x back up.
pub const EMQX_TABLES: &[TableDef] = &[
    def("emqx_banned", "banned", TableType::Set, "banned", BANNED),
    def(
        "emqx_banned_rules",
        "banned",
        TableType::Set,
        "banned",
        BANNED,
    ),
    def(
        "emqx_authn_mnesia",
        "builtin_authn",
        TableType::OrderedSet,
        "user_info",
        &["user_id", "password_hash", "salt", "is_superuser"],
    ),
    def(
        "emqx_authn_mnesia_ns",
        "builtin_authn",
        TableType::OrderedSet,
        "emqx_authn_mnesia_ns",
        &["user_id", "password_hash", "salt", "is_superuser", "extra"],
    ),
    def(
        "emqx_authn_scram_mnesia",
        "builtin_authn",
        TableType::OrderedSet,
        "user_info",
        &[
            "user_id",
            "stored_key",
            "server_key",
            "salt",
            "is_superuser",
        ],
    ),
    def(
        "emqx_authn_scram_mnesia_ns",
        "builtin_authn",
        TableType::OrderedSet,
        "emqx_authn_scram_mnesia_ns",
        &[
            "user_id",
            "stored_key",
            "server_key",
            "salt",
            "is_superuser",
            "extra",
        ],
    ),
    def(
        "emqx_acl",
        "builtin_authz",
        TableType::OrderedSet,
        "emqx_acl",
        &["who", "rules"],
    ),
    def(
        "emqx_acl_ns",
        "builtin_authz",
        TableType::OrderedSet,
        "emqx_acl_ns",
        &["who", "rules", "extra"],
    ),
    def(
        "emqx_admin",
        "dashboard_users",
        TableType::Set,
        "emqx_admin",
        &["username", "pwdhash", "description", "role", "extra"],
    ),
    TableDef {
        legacy_attributes: Some(&[
            "name",
            "api_key",
            "api_secret_hash",
            "enable",
            "desc",
            "expired_at",
            "created_at",
        ]),
        ..def(
            "emqx_app",
            "api_keys",
            TableType::Set,
            "emqx_app",
            &[
                "name",
                "api_key",
                "api_secret_hash",
                "enable",
                "extra",
                "expired_at",
                "created_at",
            ],
        )
    },
    def(
        "emqx_psk",
        "psk",
        TableType::OrderedSet,
        "psk_entry",
        &["psk_id", "shared_secret", "extra"],
    ),
    def(
        "emqx_retainer_message",
        "builtin_retainer",
        TableType::OrderedSet,
        "retained_message",
        &["topic", "msg", "expiry_time"],
    ),
    def(
        "emqx_mt_config",
        "mt",
        TableType::OrderedSet,
        "emqx_mt_config",
        &["key", "configs", "extra"],
    ),
];

const fn def(
    name: &'static str,
    table_set: &'static str,
    kind: TableType,
    record_name: &'static str,
    attributes: &'static [&'static str],
) -> TableDef {
    TableDef {
        name,
        table_set,
        kind,
        record_name,
        attributes,
        legacy_attributes: None,
    }
}

/// The definition of an EMQX table, by name.
pub fn table_def(name: &str) -> Option<&'static TableDef> {
    EMQX_TABLES.iter().find(|t| t.name == name)
}

impl TableDef {
    /// A full schema item for this table, as mnesia writes it on `node`.
    pub fn schema(&self, node: &str) -> Schema {
        Schema::new(
            self.name,
            self.kind,
            self.record_name,
            self.attributes,
            node,
        )
    }

    /// Whether EMQX's import accepts a file with these schema attributes.
    pub fn accepts(&self, attributes: &[String]) -> bool {
        let same = |list: &[&str]| {
            list.len() == attributes.len() && list.iter().zip(attributes).all(|(a, b)| a == b)
        };
        same(self.attributes) || self.legacy_attributes.is_some_and(same)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_and_legacy_lists() {
        let app = table_def("emqx_app").unwrap();
        let legacy: Vec<String> = app
            .legacy_attributes
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(app.accepts(&legacy));
        assert!(!table_def("emqx_acl").unwrap().accepts(&legacy));
        assert_eq!(
            table_def("emqx_psk")
                .unwrap()
                .schema("n")
                .attributes()
                .unwrap(),
            ["psk_id", "shared_secret", "extra"]
        );
        assert!(table_def("emqx_enhanced_authn_scram_mnesia").is_none());
    }
}
