//! The owner of a TLS block and the `SubDir` EMQX's config handler for it writes under.

use crate::scan::{get, Seg};
use serde_json::{Map, Value};

/// Who owns a TLS block, and the `SubDir` EMQX writes its inline PEM under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The `SubDir` when EMQX's handler for this place is known, else the block's path with `/`.
    pub name: String,
    /// The `SubDir` EMQX writes under, when this place is converted on import.
    pub subdir: Option<String>,
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

/// The `SubDir` EMQX writes the TLS block at `segs` under (the ssl map, or for SAML the
/// backend's map), when EMQX converts that place on import.
pub fn subdir(config: &Map<String, Value>, segs: &[Seg]) -> Option<String> {
    use Seg::{Index as I, Key as K};
    let at = |n: usize| get(config, &segs[..n]);
    match segs {
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
    }
}

/// The owner of the TLS block at `segs`: its `SubDir`, or where EMQX converts nothing, a name
/// made of the block's path.
pub fn owner(config: &Map<String, Value>, segs: &[Seg]) -> Owner {
    let subdir = subdir(config, segs);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::find;
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

    fn subdirs(config: Value) -> Vec<Option<String>> {
        let Value::Object(config) = config else {
            unreachable!()
        };
        find(&config)
            .iter()
            .map(|f| subdir(&config, &f.block_segs))
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
    fn subdirs_of_inline_pems() {
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
    }
}
