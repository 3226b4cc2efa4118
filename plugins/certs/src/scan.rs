//! Finding TLS options in a config tree and naming their owner the way EMQX's config handlers
//! do when they write inline PEM to `<data_dir>/certs/<SubDir>/<name>-<HEX16>` (spec §1.8).

use crate::material::Kind;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

/// Deeper than this the walk stops (real configs are a dozen levels deep).
const MAX_DEPTH: usize = 256;

/// One step of a config path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    /// An object key.
    Key(&'a str),
    /// A list index.
    Index(usize),
}

/// An option EMQX treats as TLS material (`SSL_FILE_OPT_PATHS` plus SAML's signing pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    /// `keyfile`.
    Keyfile,
    /// `certfile`.
    Certfile,
    /// `cacertfile`.
    Cacertfile,
    /// `ocsp.issuer_pem`.
    IssuerPem,
    /// SAML `sp_public_key` (written as `certfile`).
    SpPublicKey,
    /// SAML `sp_private_key` (written as `keyfile`).
    SpPrivateKey,
}

impl Opt {
    fn direct(key: &str) -> Option<Opt> {
        Some(match key {
            "keyfile" => Opt::Keyfile,
            "certfile" => Opt::Certfile,
            "cacertfile" => Opt::Cacertfile,
            "sp_public_key" => Opt::SpPublicKey,
            "sp_private_key" => Opt::SpPrivateKey,
            _ => return None,
        })
    }

    /// What the option holds.
    pub fn kind(self) -> Kind {
        match self {
            Opt::Keyfile | Opt::SpPrivateKey => Kind::Key,
            Opt::Certfile | Opt::SpPublicKey => Kind::Cert,
            Opt::Cacertfile | Opt::IssuerPem => Kind::CaCert,
        }
    }

    /// The `<name>` of the written file: the key path joined by `_`, first `file` removed.
    pub fn file_name(self) -> &'static str {
        match self {
            Opt::Keyfile | Opt::SpPrivateKey => "key",
            Opt::Certfile | Opt::SpPublicKey => "cert",
            Opt::Cacertfile => "cacert",
            Opt::IssuerPem => "ocsp_issuer_pem",
        }
    }
}

/// A TLS option with a non-empty string value.
#[derive(Clone, Debug)]
pub struct Found<'a> {
    /// Config path of the value (`listeners.ssl.default.ssl_options.certfile`).
    pub path: String,
    /// Which option.
    pub opt: Opt,
    /// The value: PEM text or a file path.
    pub value: &'a str,
    /// The object holding the option (the ssl map; for `ocsp.issuer_pem` the ssl map above).
    pub block: &'a Map<String, Value>,
    /// Path of that object.
    pub block_segs: Vec<Seg<'a>>,
}

impl Found<'_> {
    /// Config path of the holding object.
    pub fn block_path(&self) -> String {
        path_text(&self.block_segs)
    }
}

/// Every TLS option with a non-empty string value, in document order.
pub fn find(config: &Map<String, Value>) -> Vec<Found<'_>> {
    let mut out = Vec::new();
    let mut segs = Vec::new();
    walk_object(config, &mut segs, &mut out, 0);
    out
}

fn walk_object<'a>(
    map: &'a Map<String, Value>,
    segs: &mut Vec<Seg<'a>>,
    out: &mut Vec<Found<'a>>,
    depth: usize,
) {
    for (key, child) in map {
        if let (Some(opt), Value::String(s)) = (Opt::direct(key), child) {
            if !s.is_empty() {
                out.push(found(map, segs, &[key], opt, s));
            }
        }
        if key == "ocsp" {
            if let Some(Value::String(s)) = child.get("issuer_pem") {
                if !s.is_empty() {
                    out.push(found(map, segs, &["ocsp", "issuer_pem"], Opt::IssuerPem, s));
                }
            }
        }
        segs.push(Seg::Key(key));
        walk(child, segs, out, depth + 1);
        segs.pop();
    }
}

fn walk<'a>(value: &'a Value, segs: &mut Vec<Seg<'a>>, out: &mut Vec<Found<'a>>, depth: usize) {
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

fn found<'a>(
    block: &'a Map<String, Value>,
    segs: &[Seg<'a>],
    tail: &[&str],
    opt: Opt,
    value: &'a str,
) -> Found<'a> {
    let mut full: Vec<Seg> = segs.to_vec();
    full.extend(tail.iter().map(|k| Seg::Key(k)));
    Found {
        path: path_text(&full),
        opt,
        value,
        block,
        block_segs: segs.to_vec(),
    }
}

/// `a.b[0].c`; keys that would make the path ambiguous are quoted.
pub fn path_text(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if k.is_empty() || k.contains(['.', '[', ']', '"', ' ']) {
                    out.push_str(&Value::String((*k).to_owned()).to_string());
                } else {
                    out.push_str(k);
                }
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether EMQX skips an ssl map (`enable = false`, as boolean or string).
pub fn disabled(block: &Map<String, Value>) -> bool {
    matches!(block.get("enable"), Some(Value::Bool(false)))
        || block.get("enable").and_then(Value::as_str) == Some("false")
}

/// Who owns a TLS block, and the `SubDir` EMQX writes its inline PEM under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The `SubDir` when EMQX's handler for this place is known, else the block's path with `/`.
    pub name: String,
    /// The `SubDir` EMQX writes under, when this place is converted on import.
    pub subdir: Option<String>,
}

fn get<'a>(config: &'a Map<String, Value>, segs: &[Seg]) -> Option<&'a Value> {
    let (first, rest) = segs.split_first()?;
    let Seg::Key(k) = first else { return None };
    let mut v = config.get(*k)?;
    for seg in rest {
        v = match seg {
            Seg::Key(k) => v.get(*k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn text<'a>(v: Option<&'a Value>, field: &str) -> Option<&'a str> {
    v?.get(field)?.as_str()
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

/// The owner of the TLS block at `segs` (the ssl map, or for SAML the backend's map).
pub fn owner(config: &Map<String, Value>, segs: &[Seg]) -> Owner {
    use Seg::{Index as I, Key as K};
    let at = |n: usize| get(config, &segs[..n]);
    let subdir: Option<String> = match segs {
        [K("listeners"), K(t), K(n), K("ssl_options")] => Some(format!("listeners/{t}/{n}")),
        [K("listeners"), K(t), K(n), K("authentication"), I(_), K("ssl")] => {
            authn_dir(&format!("{t}:{n}"), at(5))
        }
        [K("listeners"), K(t), K(n), K("authentication"), K("ssl")] => {
            authn_dir(&format!("{t}:{n}"), at(4))
        }
        [K("listeners"), K(t), K(n), K("authentication"), I(_), K("oauth2"), K("ssl")] => {
            authn_dir(&format!("{t}:{n}"), at(5)).map(|d| format!("{d}/oauth2"))
        }
        [K("authentication"), I(_), K("ssl")] => authn_dir("mqtt:global", at(2)),
        [K("authentication"), I(_), K("oauth2"), K("ssl")] => {
            authn_dir("mqtt:global", at(2)).map(|d| format!("{d}/oauth2"))
        }
        [K("authorization"), K("sources"), I(_), K("ssl")] => {
            text(at(3), "type").map(|t| format!("authz/{t}"))
        }
        [K("authorization"), K("sources"), I(_), K("oauth2"), K("ssl")] => {
            text(at(3), "type").map(|t| format!("authz/{t}/oauth2"))
        }
        [K("connectors"), K(t), K(n), K("ssl")] => Some(format!("connectors/{t}/{n}")),
        [K("connectors"), K(t), K(n), K("oauth2"), K("ssl")] => {
            Some(format!("connectors/{t}/{n}/oauth2"))
        }
        [K("bridges"), K(t), K(n), K("ssl")] => Some(format!("bridges/{t}/{n}")),
        [K("gateway"), K("exproto"), K(side @ ("server" | "handler")), K("ssl_options")] => {
            Some(format!("exproto/{side}"))
        }
        [K("gateway"), K(gw), K("listeners"), K(_), K(_), K("ssl_options" | "dtls_options")] => {
            Some((*gw).to_owned())
        }
        [K("gateway"), K(gw), K("authentication"), K("ssl")] => {
            authn_dir(&format!("{}:global", gateway_protocol(gw)), at(3))
        }
        [K("gateway"), K(gw), K("listeners"), K(lt), K(ln), K("authentication"), K("ssl")] => {
            authn_dir(&format!("{gw}:{lt}:{ln}"), at(6))
        }
        [K("cluster"), K("links"), I(_), K("ssl")] => {
            text(at(3), "name").map(|n| format!("cluster/links/{n}"))
        }
        [K("opentelemetry"), K("exporter"), K("ssl_options")] => {
            Some("opentelemetry/exporter".into())
        }
        [K("dashboard"), K("listeners"), K("https"), K("ssl_options")] => {
            let bind = at(3).and_then(|h| h.get("bind"));
            let off = matches!(bind, Some(Value::Number(n)) if n.as_u64() == Some(0))
                || bind.and_then(Value::as_str) == Some("0");
            (!off).then(|| "dashboard".into())
        }
        [K("exhook"), K("servers"), I(_), K("ssl")] => {
            text(at(3), "name").map(|n| format!("exhook/{n}"))
        }
        [K("dashboard_sso"), K("saml")] => {
            let sign = at(2).and_then(|s| s.get("sp_sign_request"));
            let on = matches!(sign, Some(Value::Bool(true)))
                || sign.and_then(Value::as_str) == Some("true");
            on.then(|| "sso/saml".into())
        }
        [K("dashboard_sso"), K(backend), K("ssl")] => Some(format!("sso/{backend}")),
        [K("schema_registry"), K("schemas"), K(n), K("parameters"), K("ssl")] => {
            Some(format!("schema_registry/schemas/{n}"))
        }
        _ => None,
    };
    let name = subdir.clone().unwrap_or_else(|| fallback_owner(segs));
    Owner { name, subdir }
}

fn fallback_owner(segs: &[Seg]) -> String {
    let mut segs = segs;
    if let [rest @ .., Seg::Key("ssl" | "ssl_options" | "dtls_options")] = segs {
        segs = rest;
    }
    segs.iter()
        .map(|s| match s {
            Seg::Key(k) => (*k).to_owned(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `<HEX16>`: uppercase hex of the first 8 bytes of `md5(SubDir ++ name ++ PEM)`.
pub fn hex16(subdir: &str, name: &str, pem: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(subdir.as_bytes());
    md5.update(name.as_bytes());
    md5.update(pem.as_bytes());
    hex::encode_upper(&md5.finalize()[..8])
}

/// Where under the data dir EMQX writes an inline value: `certs/<SubDir>/<name>-<HEX16>`.
pub fn would_write(subdir: &str, opt: Opt, pem: &str) -> String {
    let name = opt.file_name();
    format!("certs/{subdir}/{name}-{}", hex16(subdir, name, pem))
}

/// Where a file path points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Under the data dir (export inlines readable ones, so one left is one EMQX could not read).
    DataDir,
    /// One of the certificates every EMQX ships in `etc/certs`.
    StockEtc,
    /// Anywhere else, `${EMQX_ETC_DIR}` included.
    External,
}

impl Location {
    /// The name items use.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::DataDir => "data_dir",
            Location::StockEtc => "etc_dir",
            Location::External => "external",
        }
    }
}

/// Classifies a file path value.
pub fn locate(path: &str) -> Location {
    const DATA: [&str; 3] = ["data/", "${EMQX_DATA_DIR}/", "$EMQX_DATA_DIR/"];
    const ETC: [&str; 3] = [
        "${EMQX_ETC_DIR}/certs/",
        "$EMQX_ETC_DIR/certs/",
        "etc/certs/",
    ];
    const STOCK: [&str; 5] = [
        "cacert.pem",
        "cert.pem",
        "key.pem",
        "client-cert.pem",
        "client-key.pem",
    ];
    if DATA.iter().any(|p| path.starts_with(p)) || path.contains("/data/certs/") {
        return Location::DataDir;
    }
    if let Some(file) = ETC.iter().find_map(|p| path.strip_prefix(p)) {
        if STOCK.contains(&file) {
            return Location::StockEtc;
        }
    }
    Location::External
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owners(config: Value) -> Vec<(String, String, Option<String>)> {
        let Value::Object(config) = config else {
            unreachable!()
        };
        find(&config)
            .iter()
            .map(|f| {
                let o = owner(&config, &f.block_segs);
                (f.path.clone(), o.name, o.subdir)
            })
            .collect()
    }

    #[test]
    fn owners_follow_emqx_handlers() {
        let got = owners(json!({
            "cluster": {"links": [{"name": "up", "ssl": {"certfile": "x"}}]},
            "dashboard": {"listeners": {"https": {"bind": 0, "ssl_options": {"keyfile": "k"}}}},
            "dashboard_sso": {"saml": {"sp_sign_request": true, "sp_public_key": "p", "sp_private_key": ""}},
            "listeners": {"ssl": {"default": {"ssl_options": {"ocsp": {"issuer_pem": "i"}}}}},
            "opentelemetry": {"exporter": {"ssl_options": {"cacertfile": "c"}}},
            "authorization": {"sources": [{"type": "http", "oauth2": {"ssl": {"cacertfile": "c"}}}]},
            "gateway": {"mqttsn": {"authentication": {"mechanism": "password_based", "backend": "http", "ssl": {"certfile": "c"}}}},
            "rule_engine": {"x": [{"ssl": {"certfile": "c"}}]},
        }));
        let expect = |path: &str, name: &str, subdir: Option<&str>| {
            assert!(
                got.contains(&(path.into(), name.into(), subdir.map(str::to_owned))),
                "{path}: {got:?}"
            );
        };
        expect(
            "cluster.links[0].ssl.certfile",
            "cluster/links/up",
            Some("cluster/links/up"),
        );
        expect(
            "dashboard.listeners.https.ssl_options.keyfile",
            "dashboard/listeners/https",
            None,
        );
        expect(
            "dashboard_sso.saml.sp_public_key",
            "sso/saml",
            Some("sso/saml"),
        );
        expect(
            "listeners.ssl.default.ssl_options.ocsp.issuer_pem",
            "listeners/ssl/default",
            Some("listeners/ssl/default"),
        );
        expect(
            "opentelemetry.exporter.ssl_options.cacertfile",
            "opentelemetry/exporter",
            Some("opentelemetry/exporter"),
        );
        expect(
            "authorization.sources[0].oauth2.ssl.cacertfile",
            "authz/http/oauth2",
            Some("authz/http/oauth2"),
        );
        expect(
            "gateway.mqttsn.authentication.ssl.certfile",
            "authn/mqtt-sn-global-password_based-http",
            Some("authn/mqtt-sn-global-password_based-http"),
        );
        expect("rule_engine.x[0].ssl.certfile", "rule_engine/x/0", None);
        assert_eq!(got.len(), 8, "empty values are not TLS material: {got:?}");
    }

    #[test]
    fn locations() {
        assert_eq!(locate("${EMQX_ETC_DIR}/certs/key.pem"), Location::StockEtc);
        assert_eq!(locate("${EMQX_ETC_DIR}/certs/mine.pem"), Location::External);
        assert_eq!(locate("data/certs/authz/mysql/key-00"), Location::DataDir);
        assert_eq!(locate("/opt/emqx/data/certs/x"), Location::DataDir);
        assert_eq!(locate("/etc/ssl/cert.pem"), Location::External);
    }
}
