//! The trait a domain plugin implements. Its default methods do what most domains need:
//! decode and encode owned tables through their [`TableFormat`]s, merge tables by key and roots
//! by their [`RootMerge`] rule, and validate by decoding everything.

use crate::error::PluginError;
use crate::model::{Manifest, Options, Plan, Problem, Records, Warning};
use crate::roots::{merge_root, RootMerge};
use crate::table::{self, Fate, TableFormat};
use erlang_term::Term;
use serde_json::{Map, Value};

/// A section as a plugin sees it: owned entries and the roots it owns or reads.
#[derive(Clone, Debug, Default)]
pub struct SectionView<'a> {
    /// `(name below the top folder, bytes)` in archive order.
    pub entries: Vec<(&'a str, &'a [u8])>,
    /// Root name to value.
    pub config: Map<String, Value>,
}

impl<'a> SectionView<'a> {
    /// The bytes of an entry.
    pub fn entry(&self, name: &str) -> Option<&'a [u8]> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    /// The bytes of a table's file.
    pub fn table(&self, table: &str) -> Option<&'a [u8]> {
        self.entry(&format!("mnesia/{table}"))
    }
}

/// A section a plugin produces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SectionOut {
    /// `(name below the top folder, bytes)`.
    pub entries: Vec<(String, Vec<u8>)>,
    /// Root name to value.
    pub config: Map<String, Value>,
}

/// What `merge` produces.
#[derive(Clone, Debug, Default)]
pub struct MergeResult {
    /// The plan.
    pub plan: Plan,
    /// The merged section, when asked for.
    pub merged: Option<SectionOut>,
    /// The owned roots as EMQX leaves them, always (they are small): plugins compute their
    /// warnings from it instead of merging the roots again.
    pub merged_config: Map<String, Value>,
}

/// A data domain. Implement `manifest`, `tables` and `roots`; override the rest where the
/// domain needs more (warnings, config checks, records that live in config).
pub trait Domain: Default + 'static {
    /// Name, version and what the plugin owns.
    fn manifest(&self) -> Manifest;

    /// The tables the plugin owns, with their JSON form.
    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        Vec::new()
    }

    /// The roots the plugin owns, with EMQX's merge rule for each.
    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        Vec::new()
    }

    /// Records of a section.
    fn decode(&self, section: &SectionView, _options: &Options) -> Result<Records, PluginError> {
        decode_default(self, section)
    }

    /// A section from records.
    fn encode(&self, records: &Records, options: &Options) -> Result<SectionOut, PluginError> {
        encode_default(self, records, options)
    }

    /// The plan (and merged section) of importing `incoming` into `current`.
    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        merge_default(self, current, incoming, options, &mut |_, _, _| {})
    }

    /// Problems in the domain's config roots, beyond what decoding finds.
    fn check_config(&self, _config: &Map<String, Value>) -> Vec<Problem> {
        Vec::new()
    }

    /// Everything wrong in a section.
    fn validate(&self, section: &SectionView, _options: &Options) -> Vec<Problem> {
        validate_default(self, section)
    }
}

/// Decodes owned tables and copies owned roots.
pub fn decode_default<D: Domain>(
    domain: &D,
    section: &SectionView,
) -> Result<Records, PluginError> {
    let mut records = Records {
        domain: domain.manifest().name,
        ..Records::default()
    };
    for format in domain.tables() {
        let entry = format!("mnesia/{}", format.table());
        if let Some(bytes) = section.entry(&entry) {
            records
                .tables
                .push(table::decode_table(format.as_ref(), &entry, bytes)?);
        }
    }
    for (root, _) in domain.roots() {
        if let Some(value) = section.config.get(root) {
            records.config.insert(root.to_owned(), value.clone());
        }
    }
    Ok(records)
}

/// Encodes tables through their formats and copies roots.
pub fn encode_default<D: Domain>(
    domain: &D,
    records: &Records,
    options: &Options,
) -> Result<SectionOut, PluginError> {
    let formats = domain.tables();
    let mut out = SectionOut::default();
    for table in &records.tables {
        let format = formats
            .iter()
            .find(|f| f.table() == table.table)
            .ok_or_else(|| {
                PluginError::new(format!(
                    "mnesia/{}: the {} plugin does not own this table",
                    table.table,
                    domain.manifest().name
                ))
            })?;
        let bytes = table::encode_table(format.as_ref(), table, options)?;
        out.entries.push((format!("mnesia/{}", table.table), bytes));
    }
    let roots = domain.roots();
    for (root, value) in &records.config {
        if !roots.iter().any(|(r, _)| r == root) {
            return Err(PluginError::new(format!(
                "config root {root}: the {} plugin does not own it",
                domain.manifest().name
            )));
        }
        out.config.insert(root.clone(), value.clone());
    }
    Ok(out)
}

/// Merges owned tables by key and owned roots by their rules; `observe` sees every current
/// record with the table name and its fate.
pub fn merge_default<D: Domain>(
    domain: &D,
    current: &SectionView,
    incoming: &SectionView,
    options: &Options,
    observe: &mut dyn FnMut(&str, &Term, Fate),
) -> Result<MergeResult, PluginError> {
    merge_observed(domain, current, incoming, options, observe, &mut |_, _| {})
}

/// [`merge_default`], with `observe_incoming` seeing every incoming record with its table.
pub fn merge_observed<D: Domain>(
    domain: &D,
    current: &SectionView,
    incoming: &SectionView,
    options: &Options,
    observe: &mut dyn FnMut(&str, &Term, Fate),
    observe_incoming: &mut dyn FnMut(&str, &Term),
) -> Result<MergeResult, PluginError> {
    let mut plan = Plan {
        domain: domain.manifest().name,
        ..Plan::default()
    };
    let mut merged = options.want_merged.then(SectionOut::default);
    for format in domain.tables() {
        let name = format.table();
        let entry = format!("mnesia/{name}");
        let cur = current.entry(&entry);
        match incoming.entry(&entry) {
            Some(inc) => {
                let result = table::merge_table_observed(
                    format.as_ref(),
                    cur,
                    inc,
                    options,
                    &mut |t, f| observe(name, t, f),
                    &mut |t| observe_incoming(name, t),
                )?;
                plan.scopes.push(result.plan);
                if let (Some(m), Some(bytes)) = (merged.as_mut(), result.merged) {
                    m.entries.push((entry, bytes));
                }
            }
            None => {
                if let Some(cur) = cur {
                    let mut scope =
                        crate::model::ScopePlan::new(crate::model::ScopeKind::Table, name);
                    let mut kept_keys = options.list_kept.then(Vec::new);
                    table::read_terms(&entry, cur, |_, t| {
                        scope.kept += 1;
                        if let (Some(keys), Some(k)) = (kept_keys.as_mut(), table::record_key(t)) {
                            keys.push(format.key_text(k));
                        }
                        observe(name, t, Fate::Kept);
                    })?;
                    scope.kept_keys = kept_keys;
                    plan.scopes.push(scope);
                    if let Some(m) = merged.as_mut() {
                        m.entries.push((entry, cur.to_vec()));
                    }
                }
            }
        }
    }
    let mut merged_config = Map::new();
    for (root, rule) in domain.roots() {
        let cur = current.config.get(root);
        let inc = incoming.config.get(root);
        if cur.is_none() && inc.is_none() {
            continue;
        }
        let (scope, value) = merge_root(root, &rule, cur, inc, options);
        plan.scopes.push(scope);
        if let Some(v) = value {
            if let Some(m) = merged.as_mut() {
                m.config.insert(root.to_owned(), v.clone());
            }
            merged_config.insert(root.to_owned(), v);
        }
    }
    Ok(MergeResult {
        plan,
        merged,
        merged_config,
    })
}

/// Decodes every owned entry and record, checks each record and the config.
pub fn validate_default<D: Domain>(domain: &D, section: &SectionView) -> Vec<Problem> {
    let mut problems = Vec::new();
    for format in domain.tables() {
        let entry = format!("mnesia/{}", format.table());
        let Some(bytes) = section.entry(&entry) else {
            continue;
        };
        let result = table::read_terms(&entry, bytes, |offset, term| {
            if let Some(why) = format.check_record(term) {
                let key =
                    table::record_key(term).map_or_else(|| "?".into(), |k| format.key_text(k));
                problems.push(Problem::error(
                    entry.clone(),
                    format!("byte {offset}: record {key}: {why}"),
                ));
            }
        });
        if let Err(e) = result {
            let message = e.0.strip_prefix(&format!("{entry}: ")).unwrap_or(&e.0);
            problems.push(Problem::error(entry.clone(), message));
        }
    }
    problems.extend(domain.check_config(&section.config));
    problems
}

/// A warning with a count.
pub fn counted(code: &str, count: u64, message: impl Into<String>) -> Warning {
    Warning {
        code: code.to_owned(),
        message: message.into(),
        count: Some(count),
    }
}
