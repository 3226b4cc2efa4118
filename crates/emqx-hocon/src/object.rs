//! [`Object`]: the fields of a HOCON object, unique keys kept in source order.

use std::fmt;

use crate::Value;

/// The fields of a HOCON object: unique keys in the order they first appeared.
///
/// Lookups are linear scans, which is fast for the small objects of EMQX configs.
///
/// Equality ignores field order: two objects are equal when they have the same keys with
/// equal values. The printer sorts keys, so a printed-and-reparsed object equals the original.
#[derive(Clone, Default)]
pub struct Object {
    fields: Vec<(String, Value)>,
}

impl Object {
    /// An object without fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key` for modification, if present.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.fields
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`: replaces in place (keeping the position) if present, else appends.
    pub fn insert(&mut self, key: String, value: Value) {
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.fields.push((key, value)),
        }
    }

    /// Removes `key`, keeping the order of the other fields, and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(index).1)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.fields.iter().map(|(k, _)| k.as_str())
    }

    /// The values, in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.fields.iter().map(|(_, v)| v)
    }

    /// The fields, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.fields.iter(),
        }
    }

    /// The fields in order, values modifiable.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&str, &mut Value)> {
        self.fields.iter_mut().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields sorted by key (byte order), as the printer emits them.
    pub(crate) fn sorted(&self) -> Vec<(&str, &Value)> {
        let mut fields: Vec<_> = self.iter().collect();
        fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
        fields
    }
}

/// Iterator over the fields of an [`Object`], in order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, (String, Value)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k.as_str(), v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (k.as_str(), v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.sorted() == other.sorted()
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Prints the object as a root, exactly like [`crate::to_string`].
impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::to_string(self))
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a str, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Object {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter()
    }
}

/// Collects fields with [`Object::insert`] semantics: a repeated key replaces the earlier value.
impl FromIterator<(String, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut object = Object::new();
        object.extend(iter);
        object
    }
}

/// Adds fields with [`Object::insert`] semantics.
impl Extend<(String, Value)> for Object {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(fields: &[(&str, i64)]) -> Object {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Int(*v)))
            .collect()
    }

    #[test]
    fn insert_replaces_in_place_and_appends_new_keys() {
        let mut o = obj(&[("a", 1), ("b", 2)]);
        o.insert("a".into(), Value::Int(3));
        o.insert("c".into(), Value::Int(4));
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(o.get("a"), Some(&Value::Int(3)));
        assert_eq!(o.len(), 3);
    }

    #[test]
    fn remove_keeps_the_order_of_the_rest() {
        let mut o = obj(&[("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(o.remove("b"), Some(Value::Int(2)));
        assert_eq!(o.remove("b"), None);
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn from_iterator_deduplicates_keys() {
        let o = obj(&[("a", 1), ("b", 2), ("a", 3)]);
        assert_eq!(o.len(), 2);
        assert_eq!(o.get("a"), Some(&Value::Int(3)));
        assert_eq!(o.keys().next(), Some("a"));
    }

    #[test]
    fn equality_ignores_order_but_not_content() {
        assert_eq!(obj(&[("a", 1), ("b", 2)]), obj(&[("b", 2), ("a", 1)]));
        assert_ne!(obj(&[("a", 1), ("b", 2)]), obj(&[("a", 1), ("b", 3)]));
        assert_ne!(obj(&[("a", 1)]), obj(&[("a", 1), ("b", 2)]));
        assert_ne!(obj(&[("a", 1)]), obj(&[("b", 1)]));
        assert!(Object::new().is_empty());
    }

    #[test]
    fn get_mut_and_iterators() {
        let mut o = obj(&[("a", 1), ("b", 2)]);
        *o.get_mut("b").unwrap() = Value::Bool(true);
        for (_, v) in o.iter_mut() {
            if let Value::Int(i) = v {
                *i += 10;
            }
        }
        let pairs: Vec<_> = (&o).into_iter().collect();
        assert_eq!(pairs, [("a", &Value::Int(11)), ("b", &Value::Bool(true))]);
        assert_eq!(o.iter().next_back().map(|(k, _)| k), Some("b"));
        assert!(o.contains_key("a") && !o.contains_key("z"));
        let owned: Vec<(String, Value)> = o.into_iter().collect();
        assert_eq!(owned[0].0, "a");
    }

    #[test]
    fn debug_prints_a_map() {
        assert_eq!(format!("{:?}", obj(&[("a", 1)])), r#"{"a": Int(1)}"#);
    }
}
