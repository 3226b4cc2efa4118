//! Altered copies of an export archive for the refusal cases: another edition or version in
//! META, under a fresh EMQX name (and without `MANIFEST.json`, which EMQX ignores).

use anyhow::{ensure, Context};
use std::io::Read;

/// A copy of `archive` named `new_name` (`emqx-export-....tar.gz`) whose META is `edit(META)`.
pub fn rewrite_meta(
    archive: &[u8],
    new_name: &str,
    edit: impl Fn(&str) -> String,
) -> anyhow::Result<Vec<u8>> {
    let new_top = new_name
        .strip_suffix(".tar.gz")
        .context("an archive name ends in .tar.gz")?;
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut out = tar::Builder::new(gz);
    let mut saw_meta = false;
    for entry in input.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let (_, rest) = path.split_once('/').unwrap_or((&path, ""));
        if rest == "MANIFEST.json" {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        if rest == "META.hocon" {
            bytes = edit(&String::from_utf8_lossy(&bytes)).into_bytes();
            saw_meta = true;
        }
        let name = if rest.is_empty() {
            format!("{new_top}/")
        } else {
            format!("{new_top}/{rest}")
        };
        let mut header = entry.header().clone();
        header.set_size(bytes.len() as u64);
        out.append_data(&mut header, &name, bytes.as_slice())?;
    }
    ensure!(saw_meta, "the archive has no META.hocon");
    Ok(out.into_inner()?.finish()?)
}

/// `META.hocon` with `key = "value"` set (EMQX writes `edition = "ce"` and `version = "5.8.6"`).
pub fn set_meta(meta: &str, key: &str, value: &str) -> String {
    meta.lines()
        .map(|l| {
            if l.trim_start().starts_with(key) {
                format!("{key} = \"{value}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
