//! TLS material: the certificates, keys and CA bundles inside every other domain's config
//! (listeners, authn, authz, connectors, bridges, gateways, cluster links, exhook, dashboard,
//! SSO, schema registry, opentelemetry). The domain owns no table and no root: it reads every
//! root, and its records are derived `items`, one per TLS option that holds PEM text or a path.
//!
//! * `decode`: one item per non-empty `keyfile`, `certfile`, `cacertfile`, `ocsp.issuer_pem`,
//!   `sp_public_key`, `sp_private_key` string, describing it (names, dates, fingerprints, key
//!   type, the file EMQX would write on import) without repeating the PEM or any secret.
//! * `encode`: items are derived from other domains' roots and cannot be written back on their
//!   own, so `encode` accepts only records with no tables, config or items and returns an empty
//!   section; `decode(encode(r)) == r` holds for every record set it accepts.
//! * `merge`: changes nothing (the owning plugins merge the roots); its plan carries warnings
//!   over the incoming section and over the node's config with the incoming roots laid over it.
//! * `validate`: broken PEM and encrypted keys without `password` are errors; expiry, key and
//!   certificate mismatch and files the target may lack are warnings.

pub mod material;
pub mod scan;

use emqx_backup_plugin_sdk::domain::{Domain, MergeResult, SectionOut, SectionView};
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::{export_domain, Manifest, Options, Plan, PluginError, Problem};
use emqx_backup_plugin_sdk::{Records, Warning};
use material::{looks_like_pem, rfc3339, Kind, Parsed};
use scan::{Found, Location, Opt, Owner};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// A certificate expiring within this many seconds of `now` is warned about.
pub const EXPIRY_WINDOW: i64 = 30 * 86_400;

/// The certs domain.
#[derive(Default)]
pub struct Certs;

/// One TLS value and what it was found to hold.
struct Entry<'a> {
    found: Found<'a>,
    owner: Owner,
    enabled: bool,
    /// `None` for a file path.
    parsed: Option<Result<Parsed, String>>,
}

impl Entry<'_> {
    fn kind(&self) -> Kind {
        self.found.opt.kind()
    }

    /// Why EMQX would refuse or TLS could not use the inline value.
    fn errors(&self) -> Vec<String> {
        let parsed = match &self.parsed {
            None => return Vec::new(),
            Some(Err(e)) => return vec![e.clone()],
            Some(Ok(p)) => p,
        };
        let mut out = Vec::new();
        match self.kind() {
            Kind::Key => {
                if parsed.blocks != 1 || parsed.keys.len() != 1 {
                    out.push(format!(
                        "a key must be a single private key block; found {} block(s), {} of them keys",
                        parsed.blocks,
                        parsed.keys.len()
                    ));
                }
                out.extend(parsed.keys.iter().filter_map(|k| k.as_ref().err().cloned()));
            }
            kind => {
                if parsed.certs.is_empty() {
                    out.push("holds no CERTIFICATE block".into());
                } else if kind == Kind::Cert && !parsed.first_is_cert {
                    out.push("the first PEM block is not a CERTIFICATE".into());
                }
                out.extend(
                    parsed
                        .certs
                        .iter()
                        .filter_map(|c| c.as_ref().err().cloned()),
                );
            }
        }
        out
    }

    fn key(&self) -> Option<&material::KeyInfo> {
        match &self.parsed {
            Some(Ok(p)) if self.kind() == Kind::Key => p.keys.first()?.as_ref().ok(),
            _ => None,
        }
    }

    fn certs(&self) -> impl Iterator<Item = &material::CertInfo> {
        let certs = match &self.parsed {
            Some(Ok(p)) if self.kind() != Kind::Key => p.certs.as_slice(),
            _ => &[],
        };
        certs.iter().filter_map(|c| c.as_ref().ok())
    }

    fn password_set(&self) -> bool {
        self.found
            .block
            .get("password")
            .and_then(Value::as_str)
            .is_some_and(|p| !p.is_empty())
    }
}

fn analyse(config: &Map<String, Value>) -> Vec<Entry<'_>> {
    scan::find(config)
        .into_iter()
        .map(|found| {
            let owner = scan::owner(config, &found.block_segs);
            let enabled = !scan::disabled(found.block);
            let parsed = looks_like_pem(found.value).then(|| material::parse(found.value));
            Entry {
                found,
                owner,
                enabled,
                parsed,
            }
        })
        .collect()
}

/// The items of a config: one JSON object per TLS value, in document order.
pub fn items(config: &Map<String, Value>) -> Vec<Value> {
    analyse(config).iter().map(item).collect()
}

fn item(e: &Entry) -> Value {
    let mut o = Map::new();
    o.insert("path".into(), json!(e.found.path));
    o.insert("owner".into(), json!(e.owner.name));
    o.insert("kind".into(), json!(e.kind().as_str()));
    if !e.enabled {
        o.insert("enabled".into(), json!(false));
    }
    let parsed = match &e.parsed {
        None => {
            o.insert("form".into(), json!("file"));
            o.insert("file".into(), json!(e.found.value));
            o.insert(
                "location".into(),
                json!(scan::locate(e.found.value).as_str()),
            );
            return Value::Object(o);
        }
        Some(parsed) => parsed,
    };
    o.insert("form".into(), json!("inline"));
    let errors = e.errors();
    if let (true, true, Some(subdir)) = (errors.is_empty(), e.enabled, &e.owner.subdir) {
        o.insert(
            "would_write".into(),
            json!(scan::would_write(subdir, e.found.opt, e.found.value)),
        );
    }
    if let Ok(p) = parsed {
        o.insert("pem_blocks".into(), json!(p.blocks));
        if let Some(key) = e.key() {
            if let Some(t) = &key.key_type {
                o.insert("key_type".into(), json!(t));
            }
            o.insert("key_format".into(), json!(key.format));
            o.insert("encrypted".into(), json!(key.encrypted));
            if let Some(public) = &key.public {
                o.insert("public_key_sha256".into(), json!(public.fingerprint()));
            }
            if e.password_set() {
                o.insert("password_set".into(), json!(true));
            }
        }
        let mut certs = e.certs();
        if let Some(first) = certs.next() {
            o.extend(first.to_json());
            let rest: Vec<Value> = certs.map(|c| Value::Object(c.to_json())).collect();
            if !rest.is_empty() {
                o.insert("chain".into(), Value::Array(rest));
            }
        }
        if !p.other.is_empty() {
            o.insert("other_blocks".into(), json!(p.other));
        }
    }
    if !errors.is_empty() {
        o.insert("error".into(), json!(errors.join("; ")));
    }
    Value::Object(o)
}

/// One thing found wrong or worth knowing about a TLS value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `certs.bad_pem`, `certs.key_password_missing`, `certs.expired`, `certs.expiring`,
    /// `certs.key_mismatch`, `certs.external_file` or `certs.missing_data_file`.
    pub code: &'static str,
    /// Config path of the value.
    pub path: String,
    /// What an operator reads; starts with the path.
    pub message: String,
    /// Whether EMQX would refuse it (`Error`) or accept it (`Warning`).
    pub severity: Severity,
}

/// Everything worth a warning or an error in a config's TLS values at time `now`.
pub fn findings(config: &Map<String, Value>, now: i64) -> Vec<Finding> {
    let entries = analyse(config);
    let mut out = Vec::new();
    let mut push = |code, path: &str, message: String, severity| {
        out.push(Finding {
            code,
            path: path.to_owned(),
            message: format!("{path}: {message}"),
            severity,
        })
    };
    for e in &entries {
        let path = e.found.path.as_str();
        let refusal = if e.enabled {
            Severity::Error
        } else {
            Severity::Warning
        };
        let off = if e.enabled {
            ""
        } else {
            " (the ssl block is disabled, so EMQX ignores it)"
        };
        if e.parsed.is_none() {
            if !e.enabled {
                continue;
            }
            let value = e.found.value;
            match scan::locate(value) {
                Location::DataDir => push(
                    "certs.missing_data_file",
                    path,
                    format!("names {value} in the data dir: export inlines the files it can read, so the exporting node could not read this one and the target node may not have it"),
                    Severity::Warning,
                ),
                Location::External => push(
                    "certs.external_file",
                    path,
                    format!("names {value} outside the data dir: the archive does not carry it, the target node must have it"),
                    Severity::Warning,
                ),
                Location::StockEtc => {}
            }
            continue;
        }
        for why in e.errors() {
            push("certs.bad_pem", path, format!("{why}{off}"), refusal);
        }
        if let Some(key) = e.key() {
            if key.encrypted && !e.password_set() {
                push(
                    "certs.key_password_missing",
                    path,
                    format!("the private key is encrypted and its ssl block has no password{off}"),
                    refusal,
                );
            }
        }
        if !e.enabled {
            continue;
        }
        for cert in e.certs() {
            let until = rfc3339(cert.not_after);
            if cert.not_after <= now {
                push(
                    "certs.expired",
                    path,
                    format!("certificate {} expired on {until}", cert.subject),
                    Severity::Warning,
                );
            } else if cert.not_after - now <= EXPIRY_WINDOW {
                push(
                    "certs.expiring",
                    path,
                    format!("certificate {} expires on {until}", cert.subject),
                    Severity::Warning,
                );
            }
        }
    }
    for key in entries
        .iter()
        .filter(|e| e.enabled && e.kind() == Kind::Key)
    {
        let Some(public) = key.key().and_then(|k| k.public.as_ref()) else {
            continue;
        };
        let partner = match key.found.opt {
            Opt::SpPrivateKey => Opt::SpPublicKey,
            _ => Opt::Certfile,
        };
        let cert = entries
            .iter()
            .find(|c| c.found.opt == partner && std::ptr::eq(c.found.block, key.found.block));
        let Some(first) = cert.and_then(|c| c.certs().next()) else {
            continue;
        };
        if let Some(cert_public) = &first.public {
            if cert_public != public {
                push(
                    "certs.key_mismatch",
                    &key.found.path,
                    format!(
                        "the private key ({}) does not belong to the certificate {} beside it ({})",
                        public.key_type, first.subject, cert_public.key_type
                    ),
                    Severity::Warning,
                );
            }
        }
    }
    out
}

/// `options.now`, or the clock.
fn now(options: &Options) -> i64 {
    options.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    })
}

fn warning(f: &Finding, prefix: &str) -> Warning {
    Warning::new(f.code, format!("{prefix}{}", f.message))
}

impl Domain for Certs {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "certs".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "TLS certificates, keys and CA bundles in every other domain's config"
                .into(),
            table_sets: vec![],
            tables: vec![],
            roots: vec![],
            reads_roots: vec!["*".into()],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn decode(&self, section: &SectionView, _options: &Options) -> Result<Records, PluginError> {
        Ok(Records {
            domain: "certs".into(),
            items: items(&section.config),
            ..Records::default()
        })
    }

    fn encode(&self, records: &Records, _options: &Options) -> Result<SectionOut, PluginError> {
        if let Some(t) = records.tables.first() {
            return Err(PluginError::new(format!(
                "mnesia/{}: the certs plugin owns no table",
                t.table
            )));
        }
        if let Some(root) = records.config.keys().next() {
            return Err(PluginError::new(format!(
                "config root {root}: the certs plugin owns no root"
            )));
        }
        if let Some(item) = records.items.first() {
            let path = item.get("path").and_then(Value::as_str).unwrap_or("?");
            return Err(PluginError::new(format!(
                "{path}: certs items are derived from the roots of other domains and do not carry the PEM; encode those roots instead"
            )));
        }
        Ok(SectionOut::default())
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let now = now(options);
        let incoming_findings = findings(&incoming.config, now);
        let mut overlay = current.config.clone();
        for (root, value) in &incoming.config {
            overlay.insert(root.clone(), value.clone());
        }
        let seen: HashSet<(&str, &str)> = incoming_findings
            .iter()
            .map(|f| (f.code, f.message.as_str()))
            .collect();
        let after: Vec<Finding> = findings(&overlay, now)
            .into_iter()
            .filter(|f| !seen.contains(&(f.code, f.message.as_str())))
            .collect();
        let mut warnings: Vec<Warning> = incoming_findings.iter().map(|f| warning(f, "")).collect();
        warnings.extend(
            after
                .iter()
                .map(|f| warning(f, "after import, in the node's own config: ")),
        );
        Ok(MergeResult {
            plan: Plan {
                domain: "certs".into(),
                scopes: vec![],
                warnings,
            },
            merged: options.want_merged.then(SectionOut::default),
            merged_config: Default::default(),
        })
    }

    fn validate(&self, section: &SectionView, options: &Options) -> Vec<Problem> {
        findings(&section.config, now(options))
            .into_iter()
            .map(|f| Problem {
                place: f.path,
                message: f.message,
                severity: f.severity,
            })
            .collect()
    }
}

export_domain!(Certs);
