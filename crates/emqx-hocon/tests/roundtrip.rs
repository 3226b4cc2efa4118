//! Property tests: any tree prints to text that reads back to the same tree, and no input
//! makes the parser panic.

use emqx_hocon::{parse, parse_value, to_string, value_to_string, Object, Value};
use proptest::collection::vec;
use proptest::prelude::*;

/// Pieces that stress quoting: quotes, backslashes, newlines, `"""`, `~`, unicode, control
/// chars, keywords, digits first, units and HOCON punctuation.
const FRAGMENTS: &[&str] = &[
    "\"", "\\", "\n", "\r", "\r\n", "\t", " ", "  ", "\"\"\"", "\"\"", "~", "~\n", "é", "日本",
    "😀", "\u{2028}", "\u{2029}", "\u{A0}", "\u{FEFF}", "\u{0}", "\u{1}", "\u{8}", "\u{b}",
    "\u{c}", "\u{1b}", "\u{7f}", "\u{85}", "true", "false", "null", "include", "${x}", "#", "//",
    ".", "-", ",", "=", ":", "{", "}", "[", "]", "$", "%", "|", "@", "\\u0041", "\\n",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
        3 => "[a-zA-Z][a-zA-Z0-9_]{0,6}",
        1 => "[0-9]{1,4}",
        1 => "[0-9]{1,3}(ms|s|m|GB|kb|%)",
        1 => any::<char>().prop_map(String::from),
    ]
}

fn string() -> impl Strategy<Value = String> {
    vec(fragment(), 0..7).prop_map(|pieces| pieces.concat())
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,8}",
        string().prop_filter("keys are not empty", |k| !k.is_empty()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        string().prop_map(Value::String),
    ]
}

fn object_of(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Object> {
    vec((key(), inner), 0..5).prop_map(|fields| fields.into_iter().collect())
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            object_of(inner).prop_map(Value::Object),
        ]
    })
}

proptest! {
    #[test]
    fn printed_trees_read_back_the_same(root in object_of(value())) {
        let printed = to_string(&root);
        let reparsed = parse(&printed);
        prop_assert_eq!(reparsed.as_ref(), Ok(&root), "printed:\n{}", printed);
        prop_assert_eq!(to_string(&reparsed.unwrap()), printed);
    }

    #[test]
    fn printed_values_read_back_the_same(v in value()) {
        let printed = value_to_string(&v);
        prop_assert_eq!(parse_value(&printed), Ok(v), "printed:\n{}", printed);
    }

    #[test]
    fn strings_read_back_the_same(s in string()) {
        let v = Value::String(s);
        let printed = value_to_string(&v);
        prop_assert_eq!(parse_value(&printed), Ok(v), "printed:\n{}", printed);
    }

    #[test]
    fn any_text_parses_or_fails_without_panicking(text in vec(fragment(), 0..30)) {
        let text = text.concat();
        let _ = parse(&text);
        let _ = parse_value(&text);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in ".{0,200}") {
        let _ = parse(&text);
    }
}
