//! Dashboard accounts (`emqx_admin`, table set `dashboard_users`) and API keys (`emqx_app`,
//! table set `api_keys`), the two table sets EMQX treats as sensitive (spec §5.8). Their
//! config roots `dashboard` and `api_key` are exported by EMQX but never imported.
//!
//! Records show password and secret hashes (never anything a secret could be read back
//! from); see [`admin`] and [`app`] for the JSON forms and [`hash`] for the hash formats.

pub mod admin;
pub mod app;
pub mod fields;
pub mod hash;

use emqx_backup_plugin_sdk::domain::{
    counted, merge_default, validate_default, Domain, MergeResult, SectionView,
};
use emqx_backup_plugin_sdk::model::Problem;
use emqx_backup_plugin_sdk::table::{read_terms, TableFormat};
use emqx_backup_plugin_sdk::{
    export_domain, Manifest, Options, PluginError, RootMerge, Term, Warning,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The dashboard domain.
#[derive(Default)]
pub struct Dashboard;

/// The roots this domain owns; EMQX imports neither.
pub const ROOTS: [&str; 2] = ["dashboard", "api_key"];

/// Warnings about one record of a table.
type RecordCheck = fn(&Term) -> Vec<String>;

/// At most this many names are listed in one warning.
const MAX_NAMES: usize = 20;

/// Records of one table file by key (the last record of a key wins, as in a restore), in
/// first-seen order of keys.
fn by_key(
    table: &str,
    bytes: Option<&[u8]>,
) -> Result<(Vec<Term>, BTreeMap<Term, Term>), PluginError> {
    let mut order = Vec::new();
    let mut map = BTreeMap::new();
    if let Some(bytes) = bytes {
        read_terms(&format!("mnesia/{table}"), bytes, |_, t| {
            if let Some(key) = t.as_tuple().and_then(|e| e.get(1)) {
                if map.insert(key.clone(), t.clone()).is_none() {
                    order.push(key.clone());
                }
            }
        })?;
    }
    Ok((order, map))
}

/// Keys (in the current side's order) whose field `index` the incoming side changes.
fn changed(
    current: &(Vec<Term>, BTreeMap<Term, Term>),
    incoming: &BTreeMap<Term, Term>,
    index: usize,
) -> Vec<String> {
    let field = |r: &Term| r.as_tuple().and_then(|e| e.get(index)).cloned();
    current
        .0
        .iter()
        .filter(|k| match (current.1.get(*k), incoming.get(*k)) {
            (Some(c), Some(i)) => field(c) != field(i),
            _ => false,
        })
        .map(admin::username_text)
        .collect()
}

fn name_list(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(MAX_NAMES).map(String::as_str).collect();
    let more = names.len().saturating_sub(MAX_NAMES);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn pbkdf2_count(records: &BTreeMap<Term, Term>, index: usize) -> u64 {
    records
        .values()
        .filter(|r| {
            r.as_tuple()
                .and_then(|e| e.get(index))
                .and_then(Term::as_binary)
                .is_some_and(hash::is_pbkdf2)
        })
        .count() as u64
}

/// The warnings of importing `incoming` over `current`.
pub fn warnings(
    current: &SectionView,
    incoming: &SectionView,
) -> Result<Vec<Warning>, PluginError> {
    let mut out = Vec::new();
    let cur_admins = by_key(admin::TABLE, current.table(admin::TABLE))?;
    let (_, inc_admins) = by_key(admin::TABLE, incoming.table(admin::TABLE))?;
    let cur_apps = by_key(app::TABLE, current.table(app::TABLE))?;
    let (_, inc_apps) = by_key(app::TABLE, incoming.table(app::TABLE))?;
    let (n, m) = (inc_admins.len() as u64, inc_apps.len() as u64);
    let passwords = changed(&cur_admins, &inc_admins, 2);
    let secrets = changed(&cur_apps, &inc_apps, 3);
    if n + m > 0 {
        out.push(counted(
            "dashboard.sensitive",
            n + m,
            format!(
                "the archive holds {n} dashboard accounts and {m} API keys: importing them replaces \
                 passwords of existing accounts with the same name ({} would change). EMQX treats \
                 these table sets (dashboard_users, api_keys) as sensitive: it refuses to import \
                 such an archive for API-key callers (403 Forbidden), and in 6.x for any caller \
                 but a global administrator with the user_management and api_key_management scopes",
                passwords.len()
            ),
        ));
    }
    if !passwords.is_empty() {
        out.push(counted(
            "dashboard.password_overwritten",
            passwords.len() as u64,
            format!(
                "importing replaces the password of {} existing dashboard accounts, whose current \
                 passwords stop working: {}",
                passwords.len(),
                name_list(&passwords)
            ),
        ));
    }
    if !secrets.is_empty() {
        out.push(counted(
            "dashboard.api_secret_overwritten",
            secrets.len() as u64,
            format!(
                "importing replaces the secret of {} existing API keys, whose current secrets stop \
                 working: {}",
                secrets.len(),
                name_list(&secrets)
            ),
        ));
    }
    let pbkdf2 = pbkdf2_count(&inc_admins, 2) + pbkdf2_count(&inc_apps, 3);
    if pbkdf2 > 0 {
        out.push(counted(
            "dashboard.pbkdf2_hashes",
            pbkdf2,
            format!(
                "{pbkdf2} accounts or API keys in the archive hold PBKDF2 ($1$) hashes, which only \
                 EMQX 6.3 and later verify: on earlier releases they cannot log in"
            ),
        ));
    }
    let ignored: Vec<&str> = ROOTS
        .into_iter()
        .filter(|r| {
            incoming
                .config
                .get(*r)
                .is_some_and(|v| current.config.get(*r) != Some(v))
        })
        .collect();
    if !ignored.is_empty() {
        out.push(Warning::new(
            "dashboard.config_not_imported",
            format!(
                "the archive's {} config differs from the node's, but EMQX's import never applies \
                 these roots: the node keeps its own",
                ignored.join(" and ")
            ),
        ));
    }
    Ok(out)
}

impl Domain for Dashboard {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "dashboard".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "dashboard accounts and API keys (sensitive table sets)".into(),
            table_sets: vec!["dashboard_users".into(), "api_keys".into()],
            tables: vec![admin::TABLE.into(), app::TABLE.into()],
            roots: ROOTS.iter().map(|r| (*r).into()).collect(),
            reads_roots: vec![],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        vec![Box::new(admin::AdminTable), Box::new(app::AppTable)]
    }

    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        ROOTS.iter().map(|r| (*r, RootMerge::NotImported)).collect()
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let mut result = merge_default(self, current, incoming, options, &mut |_, _, _| {})?;
        result.plan.warnings.extend(warnings(current, incoming)?);
        Ok(result)
    }

    fn check_config(&self, config: &Map<String, Value>) -> Vec<Problem> {
        let mut problems = Vec::new();
        for root in ROOTS {
            match config.get(root) {
                None | Some(Value::Object(_)) => {}
                Some(v) => {
                    problems.push(Problem::error(root, format!("must be an object, got {v}")))
                }
            }
        }
        if let Some(v) = config
            .get("api_key")
            .and_then(|a| a.get("bootstrap_file"))
            .filter(|v| !v.is_string())
        {
            problems.push(Problem::error(
                "api_key.bootstrap_file",
                format!("must be a file path string, got {v}"),
            ));
        }
        problems
    }

    fn validate(&self, section: &SectionView, _options: &Options) -> Vec<Problem> {
        let mut problems = validate_default(self, section);
        let checks: [(&str, RecordCheck); 2] =
            [(admin::TABLE, admin::warnings), (app::TABLE, app::warnings)];
        for (table, check) in checks {
            let entry = format!("mnesia/{table}");
            let Some(bytes) = section.entry(&entry) else {
                continue;
            };
            let _ = read_terms(&entry, bytes, |offset, record| {
                let key = record
                    .as_tuple()
                    .and_then(|e| e.get(1))
                    .map_or_else(|| "?".into(), admin::username_text);
                for why in check(record) {
                    problems.push(Problem::warning(
                        entry.clone(),
                        format!("byte {offset}: record {key}: {why}"),
                    ));
                }
            });
        }
        problems
    }
}

export_domain!(Dashboard);
