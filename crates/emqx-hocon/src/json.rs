//! Conversions between [`Value`] and `serde_json::Value`, for tools that speak JSON.

use serde_json::Value as Json;

use crate::{Object, Value};

/// Converts to JSON, keeping key order; a non-finite float (never produced by parsing) becomes
/// `null`.
impl From<&Value> for Json {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::String(s) => Json::String(s.clone()),
            Value::Array(elements) => Json::Array(elements.iter().map(Json::from).collect()),
            Value::Object(object) => Json::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.to_owned(), Json::from(v)))
                    .collect(),
            ),
        }
    }
}

/// Converts to JSON, like the conversion from `&Value`.
impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Json::from(&value)
    }
}

/// Converts from JSON, like [`from_json`].
impl From<&Json> for Value {
    fn from(json: &Json) -> Self {
        from_json(json)
    }
}

/// Converts JSON to a value: integral numbers that fit in an `i64` become [`Value::Int`],
/// other numbers [`Value::Float`] (so integers above `i64::MAX` lose precision).
pub fn from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(elements) => Value::Array(elements.iter().map(from_json).collect()),
        Json::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), from_json(v)))
                .collect::<Object>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_json_keeps_order_and_types() {
        let json: Json = serde_json::from_str(
            r#"{"z": 1, "a": [1.5, -2, true, null, "s"], "m": {"k": {}}, "big": 18446744073709551615}"#,
        )
        .unwrap();
        let value = from_json(&json);
        let object = value.as_object().unwrap();
        assert_eq!(object.keys().collect::<Vec<_>>(), ["z", "a", "m", "big"]);
        assert_eq!(object.get("z"), Some(&Value::Int(1)));
        assert_eq!(
            object.get("big"),
            Some(&Value::Float(18446744073709551615.0))
        );
        let a = object.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0], Value::Float(1.5));
        assert_eq!(a[1], Value::Int(-2));
        let back = Json::from(&value);
        assert_eq!(back["a"], json["a"]);
        assert_eq!(
            back.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["z", "a", "m", "big"]
        );
        assert_eq!(Value::from(&json), value);
        assert_eq!(Json::from(value.clone()), back);
    }

    #[test]
    fn non_finite_floats_become_null() {
        assert_eq!(Json::from(&Value::Float(f64::NAN)), Json::Null);
    }
}
