//! TLS pre-shared keys: `emqx_psk` (table set `psk`) and the `psk_authentication` root, which
//! EMQX's import merges on the first level into the node's.
//!
//! Records are `{"psk_id": "id1", "shared_secret": "...", "extra": null}`: `extra` is `null`
//! for the `undefined` that EMQX's init-file loader leaves, and any other term in its lossless
//! form (`{"map": []}` for `#{}`). Shared secrets are the secrets themselves, as EMQX stores them.

use emqx_backup_plugin_sdk::domain::{
    counted, merge_default, validate_default, Domain, MergeResult, SectionView,
};
use emqx_backup_plugin_sdk::model::Problem;
use emqx_backup_plugin_sdk::table::{from_raw_record, read_terms, readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::{
    export_domain, term_json, Manifest, Options, PluginError, RootMerge, Term, Warning,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The table name.
pub const TABLE: &str = "emqx_psk";

/// The config root.
pub const ROOT: &str = "psk_authentication";

/// The psk domain.
#[derive(Default)]
pub struct Psk;

/// `emqx_psk` rows: `{emqx_psk, PskId, SharedSecret, Extra}`.
pub struct PskTable;

fn extra_to_json(t: &Term) -> Value {
    match t.as_atom() {
        Some("undefined") => Value::Null,
        _ => term_json::to_json(t),
    }
}

fn extra_from_json(v: &Value) -> Result<Term, String> {
    match v {
        Value::Null => Ok(Term::atom("undefined")),
        v => term_json::from_json(v).map_err(|e| format!("\"extra\": {e}")),
    }
}

fn readable(record: &Term) -> Option<Value> {
    match record.as_tuple()? {
        [tag, id, secret, extra] if tag.as_atom() == Some(TABLE) => Some(json!({
            "psk_id": term_json::binary_to_json(id.as_binary()?),
            "shared_secret": term_json::binary_to_json(secret.as_binary()?),
            "extra": extra_to_json(extra),
        })),
        _ => None,
    }
}

fn text_of(t: &Term) -> String {
    match t.as_binary() {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => t.to_string(),
    }
}

impl TableFormat for PskTable {
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
        let o = value.as_object().ok_or("a PSK entry must be an object")?;
        let field = |k: &str| o.get(k).ok_or_else(|| format!("missing \"{k}\""));
        let text = |k: &str| -> Result<Term, String> {
            term_json::binary_from_json(field(k)?)
                .map(Term::Binary)
                .map_err(|e| format!("\"{k}\": {e}"))
        };
        Ok(Term::tuple(vec![
            Term::atom(TABLE),
            text("psk_id")?,
            text("shared_secret")?,
            extra_from_json(field("extra")?)?,
        ]))
    }

    fn key_text(&self, key: &Term) -> String {
        text_of(key)
    }
}

/// Why EMQX, which imports any row, could not use this one (`None` when it can).
pub fn row_problem(record: &Term) -> Option<String> {
    let Some([_, id, secret, _]) = record.as_tuple() else {
        return Some("a PSK entry needs psk_id, shared_secret and extra".into());
    };
    if id.as_binary().is_none() {
        return Some(format!(
            "psk_id is a {}, not a binary: no TLS client can name it",
            id.kind()
        ));
    }
    if secret.as_binary().is_none() {
        return Some(format!(
            "shared_secret is a {}, not a binary: the TLS handshake fails for this id",
            secret.kind()
        ));
    }
    None
}

/// Whether a config value reads as `true` (HOCON may give booleans as text).
fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

fn secrets(bytes: Option<&[u8]>) -> Result<BTreeMap<Term, Term>, PluginError> {
    let mut out = BTreeMap::new();
    if let Some(bytes) = bytes {
        read_terms(&format!("mnesia/{TABLE}"), bytes, |_, t| {
            if let Some([_, id, secret, ..]) = t.as_tuple() {
                out.insert(id.clone(), secret.clone());
            }
        })?;
    }
    Ok(out)
}

/// The warnings of importing `incoming` over `current`, whose merged `psk_authentication`
/// root is `merged`.
pub fn warnings(
    current: &SectionView,
    incoming: &SectionView,
    merged: Option<&Value>,
) -> Result<Vec<Warning>, PluginError> {
    let mut out = Vec::new();
    let inc = secrets(incoming.table(TABLE))?;
    if inc.is_empty() {
        return Ok(out);
    }
    let cur = secrets(current.table(TABLE))?;
    if !is_true(merged.and_then(|m| m.get("enable"))) {
        let why = match merged.and_then(|m| m.get("enable")) {
            Some(_) => "psk_authentication.enable is false after the import",
            None => {
                "psk_authentication.enable is not set after the import (EMQX's default is false)"
            }
        };
        out.push(counted(
            "psk.disabled",
            inc.len() as u64,
            format!(
                "the archive holds {} PSK entries but {why}: no TLS client can use them until PSK \
                 authentication is enabled",
                inc.len()
            ),
        ));
    }
    let changed: Vec<String> = inc
        .iter()
        .filter(|(id, secret)| cur.get(*id).is_some_and(|c| c != *secret))
        .map(|(id, _)| text_of(id))
        .collect();
    if !changed.is_empty() {
        out.push(counted(
            "psk.secret_changed",
            changed.len() as u64,
            format!(
                "importing changes the shared secret of {} existing PSK ids; TLS clients using the \
                 old secrets fail their handshake",
                changed.len()
            ),
        ));
    }
    Ok(out)
}

impl Domain for Psk {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "psk".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "TLS pre-shared keys and PSK authentication settings".into(),
            table_sets: vec!["psk".into()],
            tables: vec![TABLE.into()],
            roots: vec![ROOT.into()],
            reads_roots: vec![],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        vec![Box::new(PskTable)]
    }

    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        vec![(ROOT, RootMerge::FirstLevel)]
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let mut result = merge_default(self, current, incoming, options, &mut |_, _, _| {})?;
        let merged = result.merged_config.get(ROOT);
        let found = warnings(current, incoming, merged)?;
        result.plan.warnings.extend(found);
        Ok(result)
    }

    fn validate(&self, section: &SectionView, _options: &Options) -> Vec<Problem> {
        let mut problems = validate_default(self, section);
        let entry = format!("mnesia/{TABLE}");
        if let Some(bytes) = section.entry(&entry) {
            let _ = read_terms(&entry, bytes, |offset, record| {
                if let Some(why) = row_problem(record) {
                    let key = record
                        .as_tuple()
                        .and_then(|e| e.get(1))
                        .map_or_else(|| "?".into(), text_of);
                    problems.push(Problem::warning(
                        entry.clone(),
                        format!("byte {offset}: record {key}: {why}"),
                    ));
                }
            });
        }
        problems
    }

    fn check_config(&self, config: &Map<String, Value>) -> Vec<Problem> {
        let mut problems = Vec::new();
        let Some(root) = config.get(ROOT) else {
            return problems;
        };
        let Some(o) = root.as_object() else {
            return vec![Problem::error(
                ROOT,
                format!("must be an object, got {root}"),
            )];
        };
        let place = |k: &str| format!("{ROOT}.{k}");
        if let Some(v) = o.get("enable") {
            if !matches!(v, Value::Bool(_)) && !matches!(v.as_str(), Some("true" | "false")) {
                problems.push(Problem::error(
                    place("enable"),
                    format!("must be a boolean, got {v}"),
                ));
            }
        }
        if let Some(v) = o.get("init_file") {
            if !v.is_string() {
                problems.push(Problem::error(
                    place("init_file"),
                    format!("must be a file path string, got {v}"),
                ));
            }
        }
        if let Some(v) = o.get("separator") {
            if v.as_str().is_none_or(str::is_empty) {
                problems.push(Problem::error(
                    place("separator"),
                    format!("must be a non-empty string, got {v}"),
                ));
            }
        }
        if let Some(v) = o.get("chunk_size") {
            let ok = v.as_u64().is_some_and(|n| n > 0)
                || v.as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|n| n > 0);
            if !ok {
                problems.push(Problem::error(
                    place("chunk_size"),
                    format!("must be a positive integer, got {v}"),
                ));
            }
        }
        problems
    }
}

export_domain!(Psk);
