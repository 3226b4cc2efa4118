//! The glue between a [`Domain`] and the ABI: JSON in and out, panics caught.

use crate::domain::{Domain, SectionOut, SectionView};
use crate::model::{Options, Problem, Records};
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{ROption, RResult, RStr, RString, RVec};
use emqx_backup_plugin_abi::{Entry, MergeOutput, PluginMod, PluginModRef, Section};
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Builds the root module of a domain; `export_domain!` calls it.
pub fn root_module<D: Domain>() -> PluginModRef {
    PluginMod {
        manifest: manifest::<D>,
        decode: decode::<D>,
        encode: encode::<D>,
        merge: merge::<D>,
        validate: validate::<D>,
    }
    .leak_into_prefix()
}

fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("{what} panicked: {why}"))
        }
    }
}

fn options(json: RStr<'_>) -> Result<Options, String> {
    if json.as_str().trim().is_empty() {
        return Ok(Options::default());
    }
    serde_json::from_str(json.as_str()).map_err(|e| format!("bad options JSON: {e}"))
}

/// Parses the config JSON of a section.
pub fn config_of(section: &Section) -> Result<Map<String, Value>, String> {
    let text = section.config_json.as_str();
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("section config is not a JSON object".into()),
        Err(e) => Err(format!("section config is not JSON: {e}")),
    }
}

/// Borrows an ABI section as a view.
pub fn view(section: &Section) -> Result<SectionView<'_>, String> {
    Ok(SectionView {
        entries: section
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.bytes.as_slice()))
            .collect(),
        config: config_of(section)?,
    })
}

/// Moves an output section into its ABI form.
pub fn into_abi(out: SectionOut) -> Section {
    Section {
        entries: out
            .entries
            .into_iter()
            .map(|(name, bytes)| Entry {
                name: name.into(),
                bytes: RVec::from(bytes),
            })
            .collect(),
        config_json: Value::Object(out.config).to_string().into(),
    }
}

fn result<T>(r: Result<T, String>) -> RResult<T, RString> {
    match r {
        Ok(v) => RResult::ROk(v),
        Err(e) => RResult::RErr(e.into()),
    }
}

extern "C" fn manifest<D: Domain>() -> RString {
    guarded("manifest", || {
        serde_json::to_string(&D::default().manifest()).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| serde_json::json!({ "error": e }).to_string())
    .into()
}

extern "C" fn decode<D: Domain>(section: &Section, opts: RStr<'_>) -> RResult<RString, RString> {
    result(guarded("decode", || {
        let records = D::default()
            .decode(&view(section)?, &options(opts)?)
            .map_err(|e| e.0)?;
        serde_json::to_string(&records)
            .map(RString::from)
            .map_err(|e| e.to_string())
    }))
}

extern "C" fn encode<D: Domain>(records: RStr<'_>, opts: RStr<'_>) -> RResult<Section, RString> {
    result(guarded("encode", || {
        let records: Records = serde_json::from_str(records.as_str())
            .map_err(|e| format!("records are not the domain's JSON: {e}"))?;
        let out = D::default()
            .encode(&records, &options(opts)?)
            .map_err(|e| e.0)?;
        Ok(into_abi(out))
    }))
}

extern "C" fn merge<D: Domain>(
    current: &Section,
    incoming: &Section,
    opts: RStr<'_>,
) -> RResult<MergeOutput, RString> {
    result(guarded("merge", || {
        let out = D::default()
            .merge(&view(current)?, &view(incoming)?, &options(opts)?)
            .map_err(|e| e.0)?;
        let plan_json = serde_json::to_string(&out.plan).map_err(|e| e.to_string())?;
        Ok(MergeOutput {
            plan_json: plan_json.into(),
            merged: match out.merged {
                Some(m) => ROption::RSome(into_abi(m)),
                None => ROption::RNone,
            },
        })
    }))
}

extern "C" fn validate<D: Domain>(section: &Section, opts: RStr<'_>) -> RString {
    let problems = guarded("validate", || {
        let view = view(section)?;
        Ok(D::default().validate(&view, &options(opts)?))
    })
    .unwrap_or_else(|e| vec![Problem::error("plugin", e)]);
    serde_json::to_string(&problems)
        .unwrap_or_else(|_| "[]".into())
        .into()
}
