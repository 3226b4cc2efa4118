//! The TLS server config of an `ssl` listener from the node's config
//! (`listeners.ssl.<name>.ssl_options`): `certfile`, `keyfile`, and with `verify =
//! verify_peer` client certificates checked against `cacertfile` (required when
//! `fail_if_no_peer_cert = true`). Each option is a path, normally the file the certs plugin
//! restored under `<data_dir>/certs/` (read from the store, which renders those files), or
//! inline PEM. rustls speaks TLS 1.2 and 1.3 and has no PSK cipher suites, so
//! `psk_authentication` is not served.

use emqx_sim_store::Tx;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use serde_json::Value;
use std::sync::Arc;

/// Why a listener has no usable TLS config.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] emqx_sim_store::StoreError),
    /// The listener or one of its options is missing.
    #[error("config {key}: {message}")]
    Missing {
        /// The config path.
        key: String,
        /// What is missing.
        message: String,
    },
    /// A file an option names cannot be read.
    #[error("config {key}: {path}: {source}")]
    Read {
        /// The config path.
        key: String,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PEM text does not hold what the option needs.
    #[error("config {key}: {message}")]
    Pem {
        /// The config path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the certificates or key.
    #[error("listener {listener}: {source}")]
    Rustls {
        /// The listener id.
        listener: String,
        /// What rustls said.
        source: rustls::Error,
    },
    /// The client CA set cannot verify clients.
    #[error("config {key}: {message}")]
    Verifier {
        /// The config path.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The bytes an option names: inline PEM, a file under the data dir from the store, or a file
/// on disk.
fn option_bytes(tx: &Tx<'_>, key: &str, value: &str) -> Result<Vec<u8>, TlsError> {
    if value.contains("-----BEGIN ") {
        return Ok(value.as_bytes().to_vec());
    }
    if value.contains("${") {
        return Err(TlsError::Missing {
            key: key.to_owned(),
            message: format!("{value}: the sim has no such directory (only files restored under the data dir's certs/)"),
        });
    }
    let data_dir = tx.data_dir().to_string_lossy().into_owned();
    if let Some(rel) = value
        .strip_prefix(&data_dir)
        .and_then(|r| r.strip_prefix('/'))
    {
        if let Some(bytes) = tx.file(rel)? {
            return Ok(bytes);
        }
    }
    std::fs::read(value).map_err(|source| TlsError::Read {
        key: key.to_owned(),
        path: value.to_owned(),
        source,
    })
}

fn certs(key: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            key: key.to_owned(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            key: key.to_owned(),
            message: "no CERTIFICATE in the PEM".into(),
        });
    }
    Ok(certs)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The rustls config of listener `ssl:<name>` from the store's current config.
pub fn server_config(tx: &Tx<'_>, listener: &str) -> Result<Arc<ServerConfig>, TlsError> {
    let (ty, name) = listener.split_once(':').unwrap_or(("ssl", listener));
    let base = format!("listeners.{ty}.{name}.ssl_options");
    let opts = tx
        .config("listeners")?
        .and_then(|l| l.get(ty)?.get(name)?.get("ssl_options").cloned())
        .ok_or_else(|| TlsError::Missing {
            key: base.clone(),
            message: "the node's config has no such listener TLS options".into(),
        })?;
    let option = |field: &str| -> Result<Option<(String, Vec<u8>)>, TlsError> {
        let key = format!("{base}.{field}");
        match text(opts.get(field)).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => option_bytes(tx, &key, &v).map(|b| Some((key, b))),
        }
    };
    let missing = |field: &str| TlsError::Missing {
        key: format!("{base}.{field}"),
        message: "not set".into(),
    };
    let (cert_key, cert_pem) = option("certfile")?.ok_or_else(|| missing("certfile"))?;
    let (key_key, key_pem) = option("keyfile")?.ok_or_else(|| missing("keyfile"))?;
    let chain = certs(&cert_key, &cert_pem)?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Pem {
        key: key_key,
        message: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let rustls_err = |source| TlsError::Rustls {
        listener: listener.to_owned(),
        source,
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(rustls_err)?;
    let verify_peer = text(opts.get("verify")).as_deref() == Some("verify_peer");
    let config = if verify_peer {
        let (ca_key, ca_pem) = option("cacertfile")?.ok_or_else(|| missing("cacertfile"))?;
        let mut roots = RootCertStore::empty();
        for c in certs(&ca_key, &ca_pem)? {
            roots.add(c).map_err(rustls_err)?;
        }
        let required = text(opts.get("fail_if_no_peer_cert")).as_deref() == Some("true");
        let mut verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        if !required {
            verifier = verifier.allow_unauthenticated();
        }
        let verifier = verifier.build().map_err(|e| TlsError::Verifier {
            key: ca_key,
            message: e.to_string(),
        })?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    config
        .with_single_cert(chain, private)
        .map(Arc::new)
        .map_err(rustls_err)
}
