//! What a PEM value holds: its blocks, the certificates' names, dates and fingerprints, the
//! keys' types and public parts. Nothing secret leaves this module.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// `rsaEncryption`.
const OID_RSA: &str = "1.2.840.113549.1.1.1";
/// `id-RSASSA-PSS`.
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
/// `id-ecPublicKey`.
const OID_EC: &str = "1.2.840.10045.2.1";
/// `id-dsa`.
const OID_DSA: &str = "1.2.840.10040.4.1";
/// `id-Ed25519`.
const OID_ED25519: &str = "1.3.101.112";
/// `id-Ed448`.
const OID_ED448: &str = "1.3.101.113";

pub use emqx_tls_files::Kind;

/// Whether EMQX's `public_key:pem_decode/1` would see PEM in a value (it looks for armour
/// lines); a value without them is a file path.
pub fn looks_like_pem(value: &str) -> bool {
    value.contains("-----BEGIN ")
}

/// A public key reduced to what identifies it, so a certificate's and a private key's compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicPart {
    /// `rsa 2048`, `ec p256`, `ed25519`, …
    pub key_type: String,
    /// The bytes of the SubjectPublicKeyInfo's `subjectPublicKey` in canonical form (the DER
    /// `RSAPublicKey` for RSA, the point for EC, the raw key for EdDSA).
    pub bits: Vec<u8>,
}

impl PublicPart {
    /// Lowercase hex SHA-256 of the public key bits.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.bits))
    }
}

/// One certificate's readable summary.
#[derive(Clone, Debug)]
pub struct CertInfo {
    /// Subject in RFC 4514-like order (`C=CN, O=EMQ, CN=Client`).
    pub subject: String,
    /// Issuer, same form.
    pub issuer: String,
    /// Serial number as colon-separated hex.
    pub serial: String,
    /// `notBefore` in Unix seconds.
    pub not_before: i64,
    /// `notAfter` in Unix seconds.
    pub not_after: i64,
    /// Lowercase hex SHA-256 of the DER certificate.
    pub sha256: String,
    /// Whether basicConstraints says CA.
    pub is_ca: bool,
    /// The subject's public key, when its algorithm is one we read.
    pub public: Option<PublicPart>,
}

impl CertInfo {
    /// The JSON form used in items.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("subject".into(), json!(self.subject));
        o.insert("issuer".into(), json!(self.issuer));
        o.insert("serial".into(), json!(self.serial));
        o.insert("not_before".into(), json!(rfc3339(self.not_before)));
        o.insert("not_after".into(), json!(rfc3339(self.not_after)));
        o.insert("sha256".into(), json!(self.sha256));
        if self.is_ca {
            o.insert("ca".into(), json!(true));
        }
        if let Some(p) = &self.public {
            o.insert("key_type".into(), json!(p.key_type));
            o.insert("public_key_sha256".into(), json!(p.fingerprint()));
        }
        o
    }
}

/// One private key's summary; never its secret part.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// `pkcs1`, `sec1`, `pkcs8`, `pkcs8-encrypted`, `dsa`.
    pub format: &'static str,
    /// Whether the key is encrypted (PKCS#8 encrypted or legacy `Proc-Type: 4,ENCRYPTED`).
    pub encrypted: bool,
    /// `rsa 2048`, `ec p256`, … when readable.
    pub key_type: Option<String>,
    /// The public part, when the key carries it (RSA always; EC and EdDSA when stored).
    pub public: Option<PublicPart>,
}

/// What a PEM value parsed into.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// How many PEM blocks.
    pub blocks: usize,
    /// Every certificate block, in order; `Err` for one that does not DER-decode.
    pub certs: Vec<Result<CertInfo, String>>,
    /// Every private key block.
    pub keys: Vec<Result<KeyInfo, String>>,
    /// Labels of blocks that are neither.
    pub other: Vec<String>,
    /// Whether the first block is a certificate (EMQX checks only that one in a `certfile`).
    pub first_is_cert: bool,
}

/// Parses every PEM block of a value; `Err` when the armour or base64 is broken or there is
/// no block at all.
pub fn parse(value: &str) -> Result<Parsed, String> {
    let blocks = pem::parse_many(value).map_err(|e| format!("not valid PEM: {e}"))?;
    if blocks.is_empty() {
        return Err("not valid PEM: no complete BEGIN/END block".into());
    }
    let mut parsed = Parsed {
        blocks: blocks.len(),
        certs: Vec::new(),
        keys: Vec::new(),
        other: Vec::new(),
        first_is_cert: false,
    };
    for block in &blocks {
        let legacy_encrypted = block
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"));
        match block.tag() {
            "CERTIFICATE" => {
                parsed.first_is_cert |=
                    parsed.certs.is_empty() && parsed.keys.is_empty() && parsed.other.is_empty();
                parsed.certs.push(cert_info(block.contents()))
            }
            tag if tag.ends_with("PRIVATE KEY") => {
                parsed
                    .keys
                    .push(key_info(tag, block.contents(), legacy_encrypted))
            }
            tag => parsed.other.push(tag.to_owned()),
        }
    }
    Ok(parsed)
}

fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("a CERTIFICATE block does not DER-decode: {e}"))?;
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let public = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(rsa_public(rsa.modulus, rsa.exponent)),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.clone().oid().ok())
                .map(|o| curve_name(&o.to_id_string()));
            Some(PublicPart {
                key_type: format!("ec {}", curve.unwrap_or_else(|| "unknown".into())),
                bits: point.data().to_vec(),
            })
        }
        Ok(PublicKey::DSA(_)) => Some(PublicPart {
            key_type: "dsa".into(),
            bits: spki.subject_public_key.data.to_vec(),
        }),
        _ if alg == OID_ED25519 || alg == OID_ED448 => Some(PublicPart {
            key_type: if alg == OID_ED25519 {
                "ed25519"
            } else {
                "ed448"
            }
            .into(),
            bits: spki.subject_public_key.data.to_vec(),
        }),
        _ => None,
    };
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        sha256: hex::encode(Sha256::digest(der)),
        is_ca: cert.is_ca(),
        public,
    })
}

fn key_info(tag: &str, der: &[u8], legacy_encrypted: bool) -> Result<KeyInfo, String> {
    let encrypted = |format| KeyInfo {
        format,
        encrypted: true,
        key_type: None,
        public: None,
    };
    match tag {
        "ENCRYPTED PRIVATE KEY" => Ok(encrypted("pkcs8-encrypted")),
        "RSA PRIVATE KEY" if legacy_encrypted => Ok(encrypted("pkcs1")),
        "EC PRIVATE KEY" if legacy_encrypted => Ok(encrypted("sec1")),
        "DSA PRIVATE KEY" => Ok(KeyInfo {
            format: "dsa",
            encrypted: legacy_encrypted,
            key_type: Some("dsa".into()),
            public: None,
        }),
        "RSA PRIVATE KEY" => {
            let public = pkcs1_public(der)?;
            Ok(KeyInfo {
                format: "pkcs1",
                encrypted: false,
                key_type: Some(public.key_type.clone()),
                public: Some(public),
            })
        }
        "EC PRIVATE KEY" => {
            let public = sec1_public(der, None)?;
            Ok(KeyInfo {
                format: "sec1",
                encrypted: false,
                key_type: Some(public.key_type.clone()),
                public: (!public.bits.is_empty()).then_some(public),
            })
        }
        "PRIVATE KEY" => pkcs8_info(der),
        other => Err(format!("unknown private key block \"{other}\"")),
    }
}

fn pkcs8_info(der: &[u8]) -> Result<KeyInfo, String> {
    let info = pkcs8::PrivateKeyInfo::try_from(der)
        .map_err(|e| format!("a PRIVATE KEY block is not PKCS#8: {e}"))?;
    let alg = info.algorithm.oid.to_string();
    let (key_type, public) = match alg.as_str() {
        OID_RSA | OID_RSA_PSS => {
            let public = pkcs1_public(info.private_key)?;
            (Some(public.key_type.clone()), Some(public))
        }
        OID_EC => {
            let curve = info
                .algorithm
                .parameters_oid()
                .ok()
                .map(|o| curve_name(&o.to_string()));
            let mut public = sec1_public(info.private_key, curve.clone())?;
            if public.bits.is_empty() {
                if let Some(bits) = info.public_key {
                    public.bits = bits.to_vec();
                }
            }
            let key_type = Some(public.key_type.clone());
            (key_type, (!public.bits.is_empty()).then_some(public))
        }
        OID_ED25519 | OID_ED448 => {
            let name = if alg == OID_ED25519 {
                "ed25519"
            } else {
                "ed448"
            };
            let public = info.public_key.map(|bits| PublicPart {
                key_type: name.into(),
                bits: bits.to_vec(),
            });
            (Some(name.to_owned()), public)
        }
        OID_DSA => (Some("dsa".to_owned()), None),
        other => (Some(format!("oid {other}")), None),
    };
    Ok(KeyInfo {
        format: "pkcs8",
        encrypted: false,
        key_type,
        public,
    })
}

fn pkcs1_public(der: &[u8]) -> Result<PublicPart, String> {
    let key = pkcs1::RsaPrivateKey::try_from(der)
        .map_err(|e| format!("an RSA private key does not DER-decode: {e}"))?;
    Ok(rsa_public(
        key.modulus.as_bytes(),
        key.public_exponent.as_bytes(),
    ))
}

/// The EC key's curve and stored public point (empty when the key does not carry it).
fn sec1_public(der: &[u8], curve: Option<String>) -> Result<PublicPart, String> {
    let key = sec1::EcPrivateKey::try_from(der)
        .map_err(|e| format!("an EC private key does not DER-decode: {e}"))?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .map(|o| curve_name(&o.to_string()))
        .or(curve)
        .unwrap_or_else(|| "unknown".into());
    Ok(PublicPart {
        key_type: format!("ec {curve}"),
        bits: key.public_key.map(<[u8]>::to_vec).unwrap_or_default(),
    })
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "p256".into(),
        "1.3.132.0.34" => "p384".into(),
        "1.3.132.0.35" => "p521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1".into(),
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1".into(),
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1".into(),
        other => other.into(),
    }
}

fn strip_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

fn rsa_public(modulus: &[u8], exponent: &[u8]) -> PublicPart {
    let n = strip_zeros(modulus);
    let bits = match n.first() {
        Some(first) => n.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    let mut body = der_uint(n);
    body.extend(der_uint(strip_zeros(exponent)));
    PublicPart {
        key_type: format!("rsa {bits}"),
        bits: der_tlv(0x30, &body),
    }
}

/// A DER INTEGER of a non-negative big-endian magnitude without leading zeros.
fn der_uint(magnitude: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    der_tlv(0x02, &content)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let bytes = strip_zeros(&bytes);
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_588_925_217), "2020-05-08T08:06:57Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn der_integers() {
        assert_eq!(der_uint(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(der_uint(&[1, 0, 1]), vec![2, 3, 1, 0, 1]);
        assert_eq!(der_tlv(0x30, &[0; 200])[..3], [0x30, 0x81, 200]);
    }

    #[test]
    fn broken_pem() {
        assert!(parse("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err());
        assert!(parse("no armour").is_err());
    }
}
