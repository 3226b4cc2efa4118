//! Checks every plugin's tests run: an archive through the whole domain, the codec round trip
//! and the laws of merge.

use crate::domain::{Domain, SectionOut};
use crate::model::{Options, Problem, Records, Severity};
use crate::select::{section_for, view_of};
use crate::table::record_key;
use emqx_archive::{Contents, Limits};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// What one archive gave a domain in [`check_archive`].
#[derive(Debug)]
pub struct ArchiveCheck {
    /// The domain's section of the archive.
    pub section: SectionOut,
    /// Its readable records.
    pub records: Records,
    /// What `validate` found in it.
    pub problems: Vec<Problem>,
}

impl ArchiveCheck {
    /// The problems of severity error.
    pub fn errors(&self) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .collect()
    }

    /// How many table records the section holds.
    pub fn record_count(&self) -> usize {
        self.records.tables.iter().map(|t| t.records.len()).sum()
    }
}

/// Reads the archive at `path` and runs the domain's section through decode (no record left
/// unmodelled), the round trip, and validate, with `options`.
pub fn check_archive_with<D: Domain>(
    path: &Path,
    options: &Options,
) -> Result<ArchiveCheck, String> {
    let d = D::default();
    let place = path.display();
    let contents = Contents::read(path, &Limits::default()).map_err(|e| format!("{place}: {e}"))?;
    let section = section_for(&d.manifest(), &contents);
    let records = d
        .decode(&view_of(&section), options)
        .map_err(|e| format!("{place}: decode: {}", e.0))?;
    for t in &records.tables {
        if let Some(r) = t.records.iter().find(|r| r.get("term").is_some()) {
            return Err(format!("{place}: {}: unmodelled record {r}", t.table));
        }
    }
    check_round_trip::<D>(&records).map_err(|e| format!("{place}: {e}"))?;
    let problems = d.validate(&view_of(&section), options);
    Ok(ArchiveCheck {
        section,
        records,
        problems,
    })
}

/// [`check_archive_with`] the default options.
pub fn check_archive<D: Domain>(path: &Path) -> Result<ArchiveCheck, String> {
    check_archive_with::<D>(path, &Options::default())
}

/// `decode(encode(records)) == records`, with the records first normalised by one trip (node
/// and attributes filled in).
pub fn check_round_trip<D: Domain>(records: &Records) -> Result<(), String> {
    let d = D::default();
    let options = Options::default();
    let section = d.encode(records, &options).map_err(|e| e.0)?;
    let back = d.decode(&view_of(&section), &options).map_err(|e| e.0)?;
    let mut expected = records.clone();
    for (t, b) in expected.tables.iter_mut().zip(&back.tables) {
        if t.node.is_empty() {
            t.node = b.node.clone();
        }
        if t.attributes.is_empty() {
            t.attributes = b.attributes.clone();
        }
    }
    if back != expected {
        return Err(format!(
            "round trip changed the records:\n before: {}\n after:  {}",
            serde_json::to_string(&expected).unwrap_or_default(),
            serde_json::to_string(&back).unwrap_or_default()
        ));
    }
    Ok(())
}

/// Records of a section keyed by table and record key, values as canonical JSON text.
pub fn keyed<D: Domain>(
    section: &SectionOut,
) -> Result<BTreeMap<(String, String), String>, String> {
    let d = D::default();
    let mut out = BTreeMap::new();
    for format in d.tables() {
        let entry = format!("mnesia/{}", format.table());
        let Some((_, bytes)) = section.entries.iter().find(|(n, _)| *n == entry) else {
            continue;
        };
        crate::table::read_terms(&entry, bytes, |_, term| {
            let key = record_key(term).map_or_else(String::new, |k| k.to_string());
            out.insert(
                (format.table().to_owned(), key),
                format.record_to_json(term).to_string(),
            );
        })
        .map_err(|e| e.0)?;
    }
    Ok(out)
}

fn merged<D: Domain>(a: &SectionOut, b: &SectionOut) -> Result<SectionOut, String> {
    let options = Options {
        want_merged: true,
        ..Options::default()
    };
    D::default()
        .merge(&view_of(a), &view_of(b), &options)
        .map_err(|e| e.0)?
        .merged
        .ok_or_else(|| "merge returned no merged section".to_string())
}

/// `merge(merge(a, b), b) == merge(a, b)`; every record of `b` is in the result as `b` has
/// it; every record of `a` whose key `b` lacks is in it as `a` has it; config likewise
/// idempotent.
pub fn check_merge_laws<D: Domain>(a: &SectionOut, b: &SectionOut) -> Result<(), String> {
    let once = merged::<D>(a, b)?;
    let twice = merged::<D>(&once, b)?;
    let (ka, kb, k1, k2) = (
        keyed::<D>(a)?,
        keyed::<D>(b)?,
        keyed::<D>(&once)?,
        keyed::<D>(&twice)?,
    );
    if k1 != k2 {
        return Err("merge is not idempotent on records".into());
    }
    if once.config != twice.config {
        return Err(format!(
            "merge is not idempotent on config:\n once:  {}\n twice: {}",
            Value::Object(once.config.clone()),
            Value::Object(twice.config.clone())
        ));
    }
    for (key, value) in &kb {
        if k1.get(key) != Some(value) {
            return Err(format!(
                "incoming record {key:?} is not in the merge as it came"
            ));
        }
    }
    for (key, value) in &ka {
        if !kb.contains_key(key) && k1.get(key) != Some(value) {
            return Err(format!(
                "current record {key:?} was lost or changed by the merge"
            ));
        }
    }
    let plan = D::default()
        .merge(&view_of(&once), &view_of(b), &Options::default())
        .map_err(|e| e.0)?
        .plan;
    let (i, u, _) = plan.totals();
    if i + u != 0 {
        return Err(format!(
            "a second merge still plans {i} inserts and {u} updates"
        ));
    }
    Ok(())
}
