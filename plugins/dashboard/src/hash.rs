//! Dashboard password and API secret hashes (spec §4.4) in JSON:
//! `{"format": "legacy_sha256", "salt": "a468", "hash": "<64 hex>"}` for the 36-byte layout
//! (4 salt characters ‖ raw `sha256(salt ‖ secret)`), `{"format": "pbkdf2", "iterations":
//! 600000, "salt": "<b64>", "hash": "<b64>"}` for `$1$<iterations>$<b64 salt>$<b64 dk>`, and
//! `{"format": "other", "value": ...}` for anything else, kept byte for byte.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use emqx_backup_plugin_sdk::term_json;
use serde_json::{json, Value};

/// The `$1$` prefix of PBKDF2-HMAC-SHA256 hashes (EMQX 6.3+).
const PBKDF2_PREFIX: &[u8] = b"$1$";

/// Length of the legacy salted SHA-256 layout.
const LEGACY_LEN: usize = 36;

/// The parts of a `$1$<iterations>$<salt>$<hash>` text that writes back to itself.
fn pbkdf2_parts(bytes: &[u8]) -> Option<(u64, &str, &str)> {
    let rest = std::str::from_utf8(bytes.strip_prefix(PBKDF2_PREFIX)?).ok()?;
    let mut parts = rest.split('$');
    let (iter, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let n: u64 = iter.parse().ok()?;
    (n.to_string() == iter).then_some((n, salt, hash))
}

/// The JSON form of a hash.
pub fn to_json(bytes: &[u8]) -> Value {
    if let Some((iterations, salt, hash)) = pbkdf2_parts(bytes) {
        return json!({"format": "pbkdf2", "iterations": iterations, "salt": salt, "hash": hash});
    }
    if !bytes.starts_with(PBKDF2_PREFIX)
        && bytes.len() == LEGACY_LEN
        && bytes[..4].iter().all(u8::is_ascii_graphic)
    {
        let salt = std::str::from_utf8(&bytes[..4]).unwrap_or_default();
        return json!({"format": "legacy_sha256", "salt": salt, "hash": hex::encode(&bytes[4..])});
    }
    json!({"format": "other", "value": term_json::binary_to_json(bytes)})
}

/// The hash bytes a JSON form stands for; `field` names it in errors.
pub fn from_json(field: &str, value: &Value) -> Result<Vec<u8>, String> {
    let o = value
        .as_object()
        .ok_or_else(|| format!("\"{field}\" must be an object with a \"format\""))?;
    let get = |k: &str| o.get(k).ok_or_else(|| format!("\"{field}\" lacks \"{k}\""));
    let text = |k: &str| -> Result<&str, String> {
        get(k)?
            .as_str()
            .ok_or_else(|| format!("\"{field}.{k}\" must be a string"))
    };
    match text("format")? {
        "legacy_sha256" => {
            let salt = text("salt")?;
            if salt.len() != 4
                || !salt.bytes().all(|b| b.is_ascii_graphic())
                || salt.starts_with("$1$")
            {
                return Err(format!(
                    "\"{field}.salt\" must be 4 printable ASCII characters"
                ));
            }
            let hash = hex::decode(text("hash")?)
                .map_err(|e| format!("\"{field}.hash\" is not hex: {e}"))?;
            if hash.len() != 32 {
                return Err(format!(
                    "\"{field}.hash\" must be 32 bytes (64 hex digits), got {}",
                    hash.len()
                ));
            }
            let mut out = salt.as_bytes().to_vec();
            out.extend(hash);
            Ok(out)
        }
        "pbkdf2" => {
            let iterations = get("iterations")?
                .as_u64()
                .ok_or_else(|| format!("\"{field}.iterations\" must be a whole number"))?;
            let (salt, hash) = (text("salt")?, text("hash")?);
            if salt.contains('$') || hash.contains('$') {
                return Err(format!("\"{field}\": salt and hash may not hold '$'"));
            }
            Ok(format!("$1${iterations}${salt}${hash}").into_bytes())
        }
        "other" => term_json::binary_from_json(get("value")?)
            .map_err(|e| format!("\"{field}.value\": {e}")),
        f => Err(format!(
            "\"{field}.format\" {f:?} is not legacy_sha256, pbkdf2 or other"
        )),
    }
}

/// Whether a hash is in the PBKDF2 `$1$` format.
pub fn is_pbkdf2(bytes: &[u8]) -> bool {
    bytes.starts_with(PBKDF2_PREFIX)
}

/// Why EMQX could never verify a secret against this hash (`None` when it can).
pub fn problem(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(PBKDF2_PREFIX) {
        let Some((iterations, salt, hash)) = pbkdf2_parts(bytes) else {
            return Some("a $1$ hash that is not $1$<iterations>$<salt>$<hash>".into());
        };
        if iterations == 0 {
            return Some("a $1$ hash with 0 iterations".into());
        }
        if B64.decode(salt).is_err() || B64.decode(hash).is_err() {
            return Some("a $1$ hash whose salt or hash is not unpadded base64".into());
        }
        return None;
    }
    (bytes.len() != LEGACY_LEN).then(|| {
        format!(
            "a {}-byte hash, neither the 36-byte legacy layout nor a $1$ PBKDF2 hash: no secret matches it",
            bytes.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_back() {
        let mut legacy = b"a468".to_vec();
        legacy.extend([7u8; 32]);
        let pbkdf2 =
            b"$1$600000$AAAAAAAAAAAAAAAAAAAAAA$+Bwxm9XRCDMG7TZwQAF5qmfNaLlE1kd/looFdi4W8Is"
                .to_vec();
        for bytes in [
            legacy,
            pbkdf2,
            b"short".to_vec(),
            vec![0xff; 36],
            b"$1$01$a$b".to_vec(),
        ] {
            let j = to_json(&bytes);
            assert_eq!(from_json("pwdhash", &j).unwrap(), bytes, "{j}");
        }
        assert_eq!(to_json(b"$1$1$AA$BB")["format"], "pbkdf2");
        assert_eq!(to_json(b"$1$01$a$b")["format"], "other");
        assert!(problem(
            b"$1$600000$AAAAAAAAAAAAAAAAAAAAAA$+Bwxm9XRCDMG7TZwQAF5qmfNaLlE1kd/looFdi4W8Is"
        )
        .is_none());
        assert!(problem(b"short").is_some());
        assert!(problem(b"$1$x").is_some());
    }
}
