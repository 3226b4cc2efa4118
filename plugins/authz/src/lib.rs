//! Authorization: the built-in database's ACL rows (`emqx_acl`, 6.x `emqx_acl_ns`, table set
//! `builtin_authz`) and the `authorization` config root, whose `file` source carries the text of
//! `acl.conf` inline as `rules` (EMQX writes it back to `data/authz/acl.conf` on import).
//!
//! Records: one JSON object per ACL row (see [`acl`] and [`rules`]); `Records.items` holds the
//! file source's rules, parsed from the config text (derived, never written back).

/// ACL rows of `emqx_acl` and `emqx_acl_ns` in JSON.
pub mod acl;
/// The `acl.conf` reader.
pub mod aclconf;
/// The `authorization` root: merge rule, checks, warnings.
pub mod config;
/// Rules and conditions in JSON, and EMQX's compile checks.
pub mod rules;

use emqx_backup_plugin_sdk::domain::{
    decode_default, encode_default, merge_default, validate_default, MergeResult, SectionView,
};
use emqx_backup_plugin_sdk::table::{read_terms, record_key, TableFormat};
use emqx_backup_plugin_sdk::{
    export_domain, Domain, Manifest, Options, PluginError, Problem, Records, RootMerge, SectionOut,
};
use serde_json::{Map, Value};

/// The authz domain.
#[derive(Default)]
pub struct Authz;

fn count_rows(section: &SectionView) -> Result<u64, PluginError> {
    let mut rows = 0u64;
    for table in [acl::ACL, acl::ACL_NS] {
        if let Some(bytes) = section.table(table) {
            read_terms(&format!("mnesia/{table}"), bytes, |_, _| rows += 1)?;
        }
    }
    Ok(rows)
}

impl Domain for Authz {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "authz".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "authorization: built-in database ACL rules and the authorization sources (acl.conf rules inline)".into(),
            table_sets: vec!["builtin_authz".into()],
            tables: vec![acl::ACL.into(), acl::ACL_NS.into()],
            roots: vec![config::ROOT.into()],
            reads_roots: vec![],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        vec![
            Box::new(acl::AclTable(acl::ACL)),
            Box::new(acl::AclTable(acl::ACL_NS)),
        ]
    }

    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        vec![(config::ROOT, config::AUTHORIZATION)]
    }

    fn decode(&self, section: &SectionView, _options: &Options) -> Result<Records, PluginError> {
        let mut records = decode_default(self, section)?;
        records.items = config::file_rule_items(&records.config);
        Ok(records)
    }

    fn encode(&self, records: &Records, options: &Options) -> Result<SectionOut, PluginError> {
        if !records.items.is_empty() && records.items != config::file_rule_items(&records.config) {
            return Err(PluginError::new(format!(
                "{}: the items are derived from this text and differ from it; edit the rules text, not the items",
                config::FILE_RULES_PATH
            )));
        }
        encode_default(self, records, options)
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let mut result = merge_default(self, current, incoming, options, &mut |_, _, _| {})?;
        let rows = count_rows(incoming)?;
        result.plan.warnings.extend(config::merge_warnings(
            current.config.get(config::ROOT),
            incoming.config.get(config::ROOT),
            rows,
        ));
        Ok(result)
    }

    fn check_config(&self, config: &Map<String, Value>) -> Vec<Problem> {
        config::check(config)
    }

    fn validate(&self, section: &SectionView, _options: &Options) -> Vec<Problem> {
        let mut problems = validate_default(self, section);
        for format in self.tables() {
            let entry = format!("mnesia/{}", format.table());
            let Some(bytes) = section.entry(&entry) else {
                continue;
            };
            // Read errors are already reported by the default validation.
            let _ = read_terms(&entry, bytes, |_, record| {
                let key = record_key(record).map_or_else(|| "?".into(), |k| format.key_text(k));
                for why in acl::rule_problems(record) {
                    problems.push(Problem::warning(
                        entry.clone(),
                        format!(
                            "record {key}: {why}: EMQX imports it but fails authorizing with it"
                        ),
                    ));
                }
            });
        }
        problems
    }
}

export_domain!(Authz);
