//! Walking a config tree for TLS option values, and config paths.

use crate::opt::Opt;
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

/// A TLS option with a non-empty string value.
#[derive(Clone, Debug)]
pub struct Found<'a> {
    /// Config path of the value (`listeners.ssl.default.ssl_options.certfile`).
    pub path: String,
    /// Path of the value, step by step.
    pub segs: Vec<Seg<'a>>,
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
        if let (Some(opt), Value::String(s)) = (Opt::from_key(key), child) {
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
    tail: &[&'a str],
    opt: Opt,
    value: &'a str,
) -> Found<'a> {
    let mut full: Vec<Seg> = segs.to_vec();
    full.extend(tail.iter().map(|k| Seg::Key(k)));
    Found {
        path: path_text(&full),
        segs: full,
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

/// The value at a path (`None` for the empty path, which names the tree itself).
pub fn get<'a>(config: &'a Map<String, Value>, segs: &[Seg]) -> Option<&'a Value> {
    let (Seg::Key(first), rest) = segs.split_first()? else {
        return None;
    };
    let mut v = config.get(*first)?;
    for seg in rest {
        v = match seg {
            Seg::Key(k) => v.get(*k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

/// The value at a path, to change (`None` for the empty path).
pub fn get_mut<'a>(config: &'a mut Map<String, Value>, segs: &[Seg]) -> Option<&'a mut Value> {
    let (Seg::Key(first), rest) = segs.split_first()? else {
        return None;
    };
    let mut v = config.get_mut(*first)?;
    for seg in rest {
        v = match seg {
            Seg::Key(k) => v.get_mut(*k)?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

/// Whether EMQX skips an ssl map (`enable = false`, as boolean or string).
pub fn disabled(block: &Map<String, Value>) -> bool {
    matches!(block.get("enable"), Some(Value::Bool(false)))
        || block.get("enable").and_then(Value::as_str) == Some("false")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_values_with_their_paths() {
        let Value::Object(mut config) = json!({
            "a.b": [{"ssl": {"enable": "false", "certfile": "c", "keyfile": "",
                             "ocsp": {"issuer_pem": "i"}}}],
        }) else {
            unreachable!()
        };
        let found = find(&config);
        let paths: Vec<_> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["\"a.b\"[0].ssl.certfile", "\"a.b\"[0].ssl.ocsp.issuer_pem"]
        );
        assert_eq!(found[1].opt, Opt::IssuerPem);
        assert_eq!(found[1].block_path(), "\"a.b\"[0].ssl");
        assert!(disabled(found[0].block));
        assert_eq!(get(&config, &found[1].segs), Some(&json!("i")));
        let segs: Vec<Seg<'static>> = vec![Seg::Key("a.b"), Seg::Index(0), Seg::Key("ssl")];
        *get_mut(&mut config, &segs).unwrap() = json!(null);
        assert!(find(&config).is_empty());
    }
}
