//! A lossless JSON form of any Erlang term, for fields whose shape a plugin does not model.
//!
//! | term | JSON |
//! |---|---|
//! | integer (64-bit) | number |
//! | bigger integer | `{"bigint": "digits"}` |
//! | float | `{"float": 1.5}` |
//! | `true`, `false` | `true`, `false` |
//! | other atom | `{"atom": "name"}` |
//! | UTF-8 binary | string |
//! | other binary | `{"base64": "..."}` |
//! | proper list | array |
//! | improper list | `{"improper": [...], "tail": T}` |
//! | tuple | `{"tuple": [...]}` |
//! | map | `{"map": [[K, V], ...]}` |
//! | bitstring, pid, port, ref, fun | `{"etf": "base64 of the encoding"}` |
//!
//! Objects appear only as these tags, so reading back is unambiguous.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use erlang_term::{AtomEncoding, Term};
use num_bigint::BigInt;
use serde_json::{json, Map, Value};

/// Converts a term to its lossless JSON form.
pub fn to_json(term: &Term) -> Value {
    match term {
        Term::Int(i) => Value::from(*i),
        Term::BigInt(b) => json!({ "bigint": b.to_string() }),
        Term::Float(f) => json!({ "float": f }),
        Term::Atom(a) => match a.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            name => json!({ "atom": name }),
        },
        Term::Binary(b) => binary_to_json(b),
        Term::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Term::ImproperList(items, tail) => json!({
            "improper": items.iter().map(to_json).collect::<Vec<_>>(),
            "tail": to_json(tail),
        }),
        Term::Tuple(items) => json!({ "tuple": items.iter().map(to_json).collect::<Vec<_>>() }),
        Term::Map(pairs) => json!({
            "map": pairs.iter().map(|(k, v)| json!([to_json(k), to_json(v)])).collect::<Vec<_>>()
        }),
        Term::BitBinary { .. } | Term::Opaque(_) => {
            let bytes = erlang_term::encode_to_vec(term, AtomEncoding::Utf8).unwrap_or_default();
            json!({ "etf": B64.encode(bytes) })
        }
    }
}

/// A binary as a JSON string when it is UTF-8, else as `{"base64": ...}`.
pub fn binary_to_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => json!({ "base64": B64.encode(bytes) }),
    }
}

/// Reads a binary written by [`binary_to_json`].
pub fn binary_from_json(value: &Value) -> Result<Vec<u8>, String> {
    match value {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) if o.len() == 1 && o.contains_key("base64") => {
            let text = o["base64"].as_str().ok_or("base64 value is not a string")?;
            B64.decode(text).map_err(|e| format!("bad base64: {e}"))
        }
        other => Err(format!("expected a string, got {other}")),
    }
}

/// Reads a term back from its lossless JSON form.
pub fn from_json(value: &Value) -> Result<Term, String> {
    from_json_at(value, 0)
}

const MAX_DEPTH: usize = 128;

fn from_json_at(value: &Value, depth: usize) -> Result<Term, String> {
    if depth > MAX_DEPTH {
        return Err(format!("term nested deeper than {MAX_DEPTH} levels"));
    }
    let next = |v: &Value| from_json_at(v, depth + 1);
    Ok(match value {
        Value::Null => return Err("null is not a term".into()),
        Value::Bool(b) => Term::boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Term::Int(i),
            None => {
                return Err(format!(
                    "number {n} is not a 64-bit integer; write floats as {{\"float\": x}}"
                ))
            }
        },
        Value::String(s) => Term::Binary(s.as_bytes().to_vec()),
        Value::Array(items) => Term::List(items.iter().map(next).collect::<Result<_, _>>()?),
        Value::Object(o) => return object_to_term(o, depth),
    })
}

fn object_to_term(o: &Map<String, Value>, depth: usize) -> Result<Term, String> {
    let next = |v: &Value| from_json_at(v, depth + 1);
    let array = |key: &str| -> Result<&Vec<Value>, String> {
        o[key]
            .as_array()
            .ok_or_else(|| format!("\"{key}\" must hold an array"))
    };
    let text = |key: &str| -> Result<&str, String> {
        o[key]
            .as_str()
            .ok_or_else(|| format!("\"{key}\" must hold a string"))
    };
    let keys: Vec<&str> = o.keys().map(String::as_str).collect();
    Ok(match keys.as_slice() {
        ["atom"] => Term::atom(text("atom")?),
        ["bigint"] => {
            let b: BigInt = text("bigint")?
                .parse()
                .map_err(|_| "bad bigint digits".to_string())?;
            match i64::try_from(&b) {
                Ok(i) => Term::Int(i),
                Err(_) => Term::BigInt(Box::new(b)),
            }
        }
        ["float"] => Term::Float(o["float"].as_f64().ok_or("\"float\" must hold a number")?),
        ["base64"] => Term::Binary(binary_from_json(&Value::Object(o.clone()))?),
        ["tuple"] => Term::Tuple(array("tuple")?.iter().map(next).collect::<Result<_, _>>()?),
        ["map"] => {
            let mut pairs = Vec::new();
            for pair in array("map")? {
                match pair.as_array().map(Vec::as_slice) {
                    Some([k, v]) => pairs.push((next(k)?, next(v)?)),
                    _ => return Err("each map pair must be [key, value]".into()),
                }
            }
            Term::Map(pairs)
        }
        ["improper", "tail"] | ["tail", "improper"] => {
            let items: Vec<Term> = array("improper")?
                .iter()
                .map(next)
                .collect::<Result<_, _>>()?;
            if items.is_empty() {
                return Err("an improper list needs at least one element".into());
            }
            let tail = next(&o["tail"])?;
            if matches!(&tail, Term::List(l) if l.is_empty()) {
                return Err("an improper list's tail may not be []".into());
            }
            Term::ImproperList(items.into(), Box::new(tail))
        }
        ["etf"] => {
            let bytes = B64
                .decode(text("etf")?)
                .map_err(|e| format!("bad base64: {e}"))?;
            erlang_term::decode(&bytes).map_err(|e| format!("bad etf: {e}"))?
        }
        _ => return Err(format!("unknown term object with keys {keys:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_terms_round_trip() {
        let term = Term::tuple(vec![
            Term::atom("user_info"),
            Term::tuple(vec![Term::atom("mqtt:global"), Term::binary("u1")]),
            Term::binary([0xff, 0x00]),
            Term::boolean(true),
            Term::Map(vec![(Term::atom("k"), Term::Float(1.5))]),
            Term::List(vec![Term::Int(-1), Term::Int(1 << 40)]),
            Term::ImproperList(vec![Term::Int(1)].into(), Box::new(Term::atom("x"))),
        ]);
        let json = to_json(&term);
        assert_eq!(from_json(&json).unwrap(), term);
        assert_eq!(json["tuple"][1]["tuple"][0]["atom"], "mqtt:global");
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(from_json(&json!({"atom": 1})).is_err());
        assert!(from_json(&json!({"what": 1})).is_err());
        assert!(from_json(&json!(1.5)).is_err());
        assert!(from_json(&Value::Null).is_err());
    }
}
