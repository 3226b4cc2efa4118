//! Writing inline TLS material back to files on import, as EMQX's config handlers do
//! (`emqx_tls_lib:ensure_ssl_files_in_mutable_certs_dir`, spec §1.8): every inline PEM in a
//! known TLS place becomes `<data_dir>/certs/<SubDir>/<name>-<HEX16>` and the config value
//! that file's path. The place-to-`SubDir` mapping follows EMQX's handlers (the same table as
//! the certs plugin's `scan::owner`).

use crate::error::StoreError;
use crate::store::Tx;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

/// Deeper than this the walk stops (real configs are a dozen levels deep).
const MAX_DEPTH: usize = 256;

/// One step of a config path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// An inline PEM value found in a TLS option.
struct Found {
    /// Path of the value.
    value: Vec<Seg>,
    /// Path of the map holding the option (for `ocsp.issuer_pem` the ssl map above).
    block: Vec<Seg>,
    /// `<name>` of the written file.
    name: &'static str,
    pem: String,
}

fn file_name(key: &str) -> Option<&'static str> {
    Some(match key {
        "keyfile" | "sp_private_key" => "key",
        "certfile" | "sp_public_key" => "cert",
        "cacertfile" => "cacert",
        _ => return None,
    })
}

fn is_pem(value: &str) -> bool {
    value.contains("-----BEGIN ")
}

fn walk_object(map: &Map<String, Value>, segs: &mut Vec<Seg>, out: &mut Vec<Found>, depth: usize) {
    for (key, child) in map {
        if let (Some(name), Value::String(s)) = (file_name(key), child) {
            if is_pem(s) {
                let mut value = segs.clone();
                value.push(Seg::Key(key.clone()));
                out.push(Found {
                    value,
                    block: segs.clone(),
                    name,
                    pem: s.clone(),
                });
            }
        }
        if key == "ocsp" {
            if let Some(Value::String(s)) = child.get("issuer_pem") {
                if is_pem(s) {
                    let mut value = segs.clone();
                    value.push(Seg::Key("ocsp".into()));
                    value.push(Seg::Key("issuer_pem".into()));
                    out.push(Found {
                        value,
                        block: segs.clone(),
                        name: "ocsp_issuer_pem",
                        pem: s.clone(),
                    });
                }
            }
        }
        segs.push(Seg::Key(key.clone()));
        walk(child, segs, out, depth + 1);
        segs.pop();
    }
}

fn walk(value: &Value, segs: &mut Vec<Seg>, out: &mut Vec<Found>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => walk_object(map, segs, out, depth),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                segs.push(Seg::Index(i));
                walk(item, segs, out, depth + 1);
                segs.pop();
            }
        }
        _ => {}
    }
}

fn get<'a>(config: &'a Map<String, Value>, segs: &[Seg]) -> Option<&'a Value> {
    let (Seg::Key(first), rest) = segs.split_first()? else {
        return None;
    };
    let mut v = config.get(first)?;
    for seg in rest {
        v = match seg {
            Seg::Key(k) => v.get(k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn get_mut<'a>(config: &'a mut Map<String, Value>, segs: &[Seg]) -> Option<&'a mut Value> {
    let (Seg::Key(first), rest) = segs.split_first()? else {
        return None;
    };
    let mut v = config.get_mut(first)?;
    for seg in rest {
        v = match seg {
            Seg::Key(k) => v.get_mut(k)?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

fn text<'a>(v: Option<&'a Value>, field: &str) -> Option<&'a str> {
    v?.get(field)?.as_str()
}

/// Whether EMQX skips an ssl map (`enable = false`, as boolean or string).
fn disabled(block: &Value) -> bool {
    matches!(block.get("enable"), Some(Value::Bool(false)))
        || block.get("enable").and_then(Value::as_str) == Some("false")
}

/// `emqx_authn_config:authenticator_id/1`.
fn authenticator_id(conf: Option<&Value>) -> Option<String> {
    let mechanism = text(conf, "mechanism")?;
    Some(match text(conf, "backend") {
        Some(backend) => format!("{mechanism}:{backend}"),
        None => mechanism.to_owned(),
    })
}

/// `emqx_authn_config:certs_dir/2`: `authn/<chain>-<id>` with `:` made `-`.
fn authn_dir(chain: &str, conf: Option<&Value>) -> Option<String> {
    Some(format!("authn/{chain}-{}", authenticator_id(conf)?).replace(':', "-"))
}

/// `emqx_gateway_utils:protocol/1`, the prefix of a gateway's global chain.
fn gateway_protocol(gw: &str) -> &str {
    match gw {
        "mqttsn" => "mqtt-sn",
        other => other,
    }
}

/// The `SubDir` EMQX writes the TLS block at `segs` under, when EMQX converts that place.
fn subdir(config: &Map<String, Value>, segs: &[Seg]) -> Option<String> {
    let at = |n: usize| get(config, &segs[..n]);
    let keys: Vec<Option<&str>> = segs
        .iter()
        .map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect();
    let idx = |i: usize| matches!(segs.get(i), Some(Seg::Index(_)));
    match keys.as_slice() {
        [Some("listeners"), Some(t), Some(n), Some("ssl_options")] => {
            Some(format!("listeners/{t}/{n}"))
        }
        [Some("listeners"), Some(t), Some(n), Some("authentication"), None, Some("ssl")]
            if idx(4) =>
        {
            authn_dir(&format!("{t}:{n}"), at(5))
        }
        [Some("listeners"), Some(t), Some(n), Some("authentication"), Some("ssl")] => {
            authn_dir(&format!("{t}:{n}"), at(4))
        }
        [Some("listeners"), Some(t), Some(n), Some("authentication"), None, Some("oauth2"), Some("ssl")]
            if idx(4) =>
        {
            authn_dir(&format!("{t}:{n}"), at(5)).map(|d| format!("{d}/oauth2"))
        }
        [Some("authentication"), None, Some("ssl")] if idx(1) => authn_dir("mqtt:global", at(2)),
        [Some("authentication"), None, Some("oauth2"), Some("ssl")] if idx(1) => {
            authn_dir("mqtt:global", at(2)).map(|d| format!("{d}/oauth2"))
        }
        [Some("authorization"), Some("sources"), None, Some("ssl")] if idx(2) => {
            text(at(3), "type").map(|t| format!("authz/{t}"))
        }
        [Some("authorization"), Some("sources"), None, Some("oauth2"), Some("ssl")] if idx(2) => {
            text(at(3), "type").map(|t| format!("authz/{t}/oauth2"))
        }
        [Some("connectors"), Some(t), Some(n), Some("ssl")] => Some(format!("connectors/{t}/{n}")),
        [Some("connectors"), Some(t), Some(n), Some("oauth2"), Some("ssl")] => {
            Some(format!("connectors/{t}/{n}/oauth2"))
        }
        [Some("bridges"), Some(t), Some(n), Some("ssl")] => Some(format!("bridges/{t}/{n}")),
        [Some("gateway"), Some("exproto"), Some(side @ ("server" | "handler")), Some("ssl_options")] => {
            Some(format!("exproto/{side}"))
        }
        [Some("gateway"), Some(gw), Some("listeners"), Some(_), Some(_), Some("ssl_options" | "dtls_options")] => {
            Some((*gw).to_owned())
        }
        [Some("gateway"), Some(gw), Some("authentication"), Some("ssl")] => {
            authn_dir(&format!("{}:global", gateway_protocol(gw)), at(3))
        }
        [Some("gateway"), Some(gw), Some("listeners"), Some(lt), Some(ln), Some("authentication"), Some("ssl")] => {
            authn_dir(&format!("{gw}:{lt}:{ln}"), at(6))
        }
        [Some("cluster"), Some("links"), None, Some("ssl")] if idx(2) => {
            text(at(3), "name").map(|n| format!("cluster/links/{n}"))
        }
        [Some("opentelemetry"), Some("exporter"), Some("ssl_options")] => {
            Some("opentelemetry/exporter".into())
        }
        [Some("dashboard"), Some("listeners"), Some("https"), Some("ssl_options")] => {
            let bind = at(3).and_then(|h| h.get("bind"));
            let off = matches!(bind, Some(Value::Number(n)) if n.as_u64() == Some(0))
                || bind.and_then(Value::as_str) == Some("0");
            (!off).then(|| "dashboard".into())
        }
        [Some("exhook"), Some("servers"), None, Some("ssl")] if idx(2) => {
            text(at(3), "name").map(|n| format!("exhook/{n}"))
        }
        [Some("dashboard_sso"), Some("saml")] => {
            let sign = at(2).and_then(|s| s.get("sp_sign_request"));
            let on = matches!(sign, Some(Value::Bool(true)))
                || sign.and_then(Value::as_str) == Some("true");
            on.then(|| "sso/saml".into())
        }
        [Some("dashboard_sso"), Some(backend), Some("ssl")] => Some(format!("sso/{backend}")),
        [Some("schema_registry"), Some("schemas"), Some(n), Some("parameters"), Some("ssl")] => {
            Some(format!("schema_registry/schemas/{n}"))
        }
        _ => None,
    }
}

/// `<HEX16>`: uppercase hex of the first 8 bytes of `md5(SubDir ++ name ++ PEM)`.
pub(crate) fn hex16(subdir: &str, name: &str, pem: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(subdir.as_bytes());
    md5.update(name.as_bytes());
    md5.update(pem.as_bytes());
    hex::encode_upper(&md5.finalize()[..8])
}

/// Moves every inline PEM of `config` that EMQX would write to a file into the store's files
/// and points the value at `<data_dir>/certs/<SubDir>/<name>-<HEX16>`. Returns the files
/// written, relative to the data dir.
pub(crate) fn write_back(
    tx: &mut Tx<'_>,
    config: &mut Map<String, Value>,
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    walk_object(config, &mut Vec::new(), &mut found, 0);
    let data_dir = tx.data_dir().to_string_lossy().into_owned();
    let mut written = Vec::new();
    for f in found {
        if get(config, &f.block).is_some_and(disabled) {
            continue;
        }
        let Some(subdir) = subdir(config, &f.block) else {
            continue;
        };
        let rel = format!(
            "certs/{subdir}/{}-{}",
            f.name,
            hex16(&subdir, f.name, &f.pem)
        );
        tx.put_file(&rel, f.pem.as_bytes())?;
        if let Some(slot) = get_mut(config, &f.value) {
            *slot = Value::String(format!("{data_dir}/{rel}"));
        }
        written.push(rel);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subdirs(config: Value) -> Vec<Option<String>> {
        let Value::Object(config) = config else {
            unreachable!()
        };
        let mut found = Vec::new();
        walk_object(&config, &mut Vec::new(), &mut found, 0);
        found.iter().map(|f| subdir(&config, &f.block)).collect()
    }

    #[test]
    fn owners_follow_emqx_handlers() {
        let pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
        let got = subdirs(json!({
            "listeners": {"ssl": {"default": {"ssl_options": {"certfile": pem, "ocsp": {"issuer_pem": pem}}}}},
            "authentication": [{"mechanism": "password_based", "backend": "mysql", "ssl": {"cacertfile": pem}}],
            "authorization": {"sources": [{"type": "http", "ssl": {"keyfile": pem}}]},
            "connectors": {"kafka_producer": {"k1": {"ssl": {"certfile": pem}}}},
            "unknown": {"ssl": {"certfile": pem}}
        }));
        assert_eq!(
            got,
            [
                Some("listeners/ssl/default".into()),
                Some("listeners/ssl/default".into()),
                Some("authn/mqtt-global-password_based-mysql".into()),
                Some("authz/http".into()),
                Some("connectors/kafka_producer/k1".into()),
                None,
            ]
        );
        assert_eq!(hex16("a", "cert", "x").len(), 16);
    }
}
