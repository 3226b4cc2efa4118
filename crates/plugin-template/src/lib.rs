//! Template of a domain plugin: EMQX Enterprise's managed namespaces (`emqx_mt_config`, table
//! set `mt`, spec §3.10). Copy it to start a new domain; see `Cargo.toml` for the steps.
//!
//! A plugin is three declarations (manifest, table formats, root rules) plus whatever its
//! domain needs beyond the SDK's defaults (warnings in `merge`, checks in `check_config`).

use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::table::{from_raw_record, readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::{export_domain, term_json, Manifest, RootMerge, Term};
use serde_json::{json, Value};

/// The domain. Plugins are stateless: the SDK makes one per call with `Default`.
#[derive(Default)]
pub struct Namespaces;

/// How `emqx_mt_config` rows look in JSON. Backup files tag each record with the TABLE name:
/// `{emqx_mt_config, Ns, Configs, Extra}`; the key is the first field after the tag.
pub struct MtConfigTable;

const TABLE: &str = "emqx_mt_config";

impl TableFormat for MtConfigTable {
    fn table(&self) -> &'static str {
        TABLE
    }

    /// Readable where the shape is known, the lossless `{"term": ...}` form otherwise.
    fn record_to_json(&self, record: &Term) -> Value {
        let readable = match record.as_tuple() {
            Some([_, ns, configs, extra]) => ns
                .as_binary()
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(|ns| {
                    json!({
                        "namespace": ns,
                        "configs": term_json::to_json(configs),
                        "extra": term_json::to_json(extra),
                    })
                }),
            _ => None,
        };
        readable_or_raw(self, record, readable)
    }

    /// The inverse of `record_to_json`; `readable_or_raw` relies on it to prove losslessness.
    fn record_from_json(&self, value: &Value) -> Result<Term, String> {
        if let Some(raw) = from_raw_record(value) {
            return raw;
        }
        let field = |k: &str| value.get(k).ok_or_else(|| format!("missing \"{k}\""));
        let ns = field("namespace")?
            .as_str()
            .ok_or("\"namespace\" must be a string")?;
        Ok(Term::tuple(vec![
            Term::atom(TABLE),
            Term::binary(ns),
            term_json::from_json(field("configs")?)?,
            term_json::from_json(field("extra")?)?,
        ]))
    }

    /// Plans list changes by this text.
    fn key_text(&self, key: &Term) -> String {
        key.as_binary()
            .and_then(|b| std::str::from_utf8(b).ok())
            .map_or_else(|| key.to_string(), str::to_owned)
    }
}

impl Domain for Namespaces {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "mt".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "managed namespaces of EMQX Enterprise 5.9+".into(),
            table_sets: vec!["mt".into()],
            tables: vec![TABLE.into()],
            // `multi_tenancy` is owned by the config plugin; two plugins may not claim a root.
            roots: vec![],
            reads_roots: vec![],
            emqx_versions: "e5.9 - e5.10, 6.0 - 6.1".into(),
        }
    }

    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        vec![Box::new(MtConfigTable)]
    }

    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        Vec::new()
    }
}

export_domain!(Namespaces);
