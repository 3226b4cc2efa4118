//! [`Value`]: one HOCON value, as EMQX's hocon library reads it.

use std::fmt;

use crate::Object;

/// A HOCON value.
///
/// Durations, byte sizes and percentages (`15s`, `1GB`, `80%`) are strings, as in EMQX.
/// Floats compare by value; parsed floats are always finite.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string, quoted or not.
    String(String),
    /// `[ ... ]`.
    Array(Vec<Value>),
    /// `{ ... }`.
    Object(Object),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The object for modification, if this is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The elements for modification, if this is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as a float, if this is an integer or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the variant, for messages: `null`, `bool`, `integer`, `float`, `string`,
    /// `array` or `object`.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Prints the value as it would appear after `key = `, like [`crate::value_to_string`].
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::value_to_string(self))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_match_only_their_variant() {
        let s = Value::from("x");
        assert_eq!(s.as_str(), Some("x"));
        assert_eq!(s.as_i64(), None);
        assert_eq!(Value::Int(3).as_i64(), Some(3));
        assert_eq!(Value::Int(3).as_f64(), Some(3.0));
        assert_eq!(Value::Float(0.5).as_f64(), Some(0.5));
        assert_eq!(Value::Float(0.5).as_i64(), None);
        assert_eq!(Value::Bool(true).as_bool(), Some(true));
        assert_eq!(Value::Null.as_bool(), None);
        assert!(Value::Null.is_null());
        assert!(Value::from(vec![Value::Null]).as_array().is_some());
        assert!(Value::from(Object::new()).as_object().is_some());
        assert!(Value::from(Object::new()).as_array().is_none());
        let mut a = Value::Array(vec![]);
        a.as_array_mut().unwrap().push(Value::Null);
        assert_eq!(a, Value::Array(vec![Value::Null]));
        let mut o = Value::Object(Object::new());
        o.as_object_mut().unwrap().insert("k".into(), 1.into());
        assert_eq!(o.as_object().unwrap().get("k"), Some(&Value::Int(1)));
    }

    #[test]
    fn kinds() {
        let kinds: Vec<_> = [
            Value::Null,
            true.into(),
            1.into(),
            1.5.into(),
            "s".into(),
            Vec::new().into(),
            Object::new().into(),
        ]
        .iter()
        .map(Value::kind)
        .collect();
        assert_eq!(
            kinds,
            ["null", "bool", "integer", "float", "string", "array", "object"]
        );
    }

    #[test]
    fn floats_compare_by_value() {
        assert_eq!(Value::Float(0.0), Value::Float(-0.0));
        assert_ne!(Value::Float(1.0), Value::Int(1));
    }
}
