//! Writing inline TLS material back to files on import, as EMQX's config handlers do
//! (`emqx_tls_lib:ensure_ssl_files_in_mutable_certs_dir`, spec §1.8): every inline PEM in a
//! known TLS place becomes `<data_dir>/certs/<SubDir>/<name>-<HEX16>` and the config value
//! that file's path. Where the places are and how their files are named is `emqx-tls-files`,
//! shared with the certs plugin.

use crate::error::StoreError;
use crate::store::Tx;
use serde_json::{Map, Value};

fn is_pem(value: &str) -> bool {
    value.contains("-----BEGIN ")
}

/// Moves every inline PEM of `config` that EMQX would write to a file into the store's files
/// and points the value at `<data_dir>/certs/<SubDir>/<name>-<HEX16>`. Returns the files
/// written, relative to the data dir.
pub(crate) fn write_back(
    tx: &mut Tx<'_>,
    config: &mut Map<String, Value>,
) -> Result<Vec<String>, StoreError> {
    // Found values borrow the tree they were found in; the writes go to `config`.
    let scanned = config.clone();
    let data_dir = tx.data_dir().to_string_lossy().into_owned();
    let mut written = Vec::new();
    for f in emqx_tls_files::find(&scanned) {
        if !is_pem(f.value) || emqx_tls_files::disabled(f.block) {
            continue;
        }
        let Some(subdir) = emqx_tls_files::subdir(&scanned, &f.block_segs) else {
            continue;
        };
        let rel = emqx_tls_files::cert_path(&subdir, f.opt, f.value);
        tx.put_file(&rel, f.value.as_bytes())?;
        if let Some(slot) = emqx_tls_files::get_mut(config, &f.segs) {
            *slot = Value::String(format!("{data_dir}/{rel}"));
        }
        written.push(rel);
    }
    Ok(written)
}
