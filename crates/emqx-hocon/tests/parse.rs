//! Parsing: the scanner rules, separators, keys, duplicates, concatenation and errors.

use emqx_hocon::{parse, parse_value, Object, ParseError, Value, MAX_DEPTH};

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn root(text: &str) -> Value {
    Value::Object(parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}")))
}

fn value(text: &str) -> Value {
    parse_value(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e,
    }
}

fn keys(object: &Object) -> Vec<&str> {
    object.keys().collect()
}

#[test]
fn empty_and_comment_only_files_are_empty_objects() {
    for text in [
        "",
        "\n\n",
        "  # just a comment\n// another\n",
        "{}",
        "\n{\n}\n",
        "\u{FEFF}",
    ] {
        assert_eq!(parse(text), Ok(Object::new()), "{text:?}");
    }
}

#[test]
fn root_braces_are_optional() {
    let expected = obj(vec![("a", Value::Int(1)), ("b", s("x"))]);
    assert_eq!(root("a = 1\nb = x\n"), expected);
    assert_eq!(root("{a = 1, b = x}"), expected);
    assert_eq!(root("\n# c\n{\n  a = 1\n  b = x\n}\n\n"), expected);
    let e = err("{a = 1}\nb = 2");
    assert_eq!((e.line(), e.column()), (2, 1));
    assert!(e.message().contains("after the root object"), "{e}");
}

#[test]
fn scalar_literals() {
    assert_eq!(value("null"), Value::Null);
    assert_eq!(value("true"), Value::Bool(true));
    assert_eq!(value("false"), Value::Bool(false));
    assert_eq!(value("42"), Value::Int(42));
    assert_eq!(value("-42"), Value::Int(-42));
    assert_eq!(value("+7"), Value::Int(7));
    assert_eq!(value("1.5"), Value::Float(1.5));
    assert_eq!(value(".25"), Value::Float(0.25));
    assert_eq!(value("-1.5e3"), Value::Float(-1500.0));
    assert_eq!(value("1.0E-2"), Value::Float(0.01));
    assert_eq!(value("verify_peer"), s("verify_peer"));
    assert_eq!(value("tlsv1.3"), s("tlsv1.3"));
    assert_eq!(value("a@b%c|d-e"), s("a@b%c|d-e"));
    assert_eq!(value("\"quoted\""), s("quoted"));
    assert_eq!(value("\"\"\"triple\"\"\""), s("triple"));
}

#[test]
fn durations_bytesizes_and_percents_are_strings() {
    let r = root("ttl = 1m\nmax_buffer_bytes = 1GB\nb = 896KB\nc = 100ms\nd = 80%\ne = 7d\nf = 8b");
    let o = r.as_object().unwrap();
    assert_eq!(o.get("ttl"), Some(&s("1m")));
    assert_eq!(o.get("max_buffer_bytes"), Some(&s("1GB")));
    assert_eq!(o.get("b"), Some(&s("896KB")));
    assert_eq!(o.get("c"), Some(&s("100ms")));
    assert_eq!(o.get("d"), Some(&s("80%")));
    assert_eq!(o.get("e"), Some(&s("7d")));
    assert_eq!(o.get("f"), Some(&s("8b")));
}

#[test]
fn quoted_strings_and_escapes() {
    assert_eq!(
        value(r#""a\"b\\c\nd\te\rf\bg\fh""#),
        s("a\"b\\c\nd\te\rf\u{8}g\u{c}h")
    );
    assert_eq!(value(r#""a\qb""#), s("a\\qb"));
    assert_eq!(value(r#""\u0041\u00e9\u20AC""#), s("Aé€"));
    assert_eq!(value(r#""\uD83D\uDE00!""#), s("😀!"));
    assert_eq!(value("\"é 中 \t raw\""), s("é 中 \t raw"));
}

#[test]
fn triple_quoted_strings() {
    assert_eq!(value("\"\"\"raw \\n \"q\" \"\"\""), s("raw \\n \"q\" "));
    assert_eq!(value("\"\"\"two\nlines\"\"\""), s("two\nlines"));
    assert_eq!(value("\"\"\"~\n  a\n  b~\"\"\""), s("a\nb"));
    assert_eq!(value("\"\"\"~\n  a\n~\"\"\""), s("a\n"));
    let r = root("x {\n  y = \"\"\"~\n    a\n    b\n  ~\"\"\"\n}\n");
    assert_eq!(r, obj(vec![("x", obj(vec![("y", s("a\nb\n"))]))]));
    assert_eq!(
        value("\"\"\"~\r\n    a\r\n      b\r\n  ~\"\"\""),
        s("a\r\n  b\r\n")
    );
}

#[test]
fn comments() {
    let r = root("# top\na = 1 # trailing\n// slashes\nb = \"# not a comment\" // c\nc = x#y\n");
    assert_eq!(
        r,
        obj(vec![
            ("a", Value::Int(1)),
            ("b", s("# not a comment")),
            ("c", s("x")),
        ])
    );
}

#[test]
fn field_separators() {
    let expected = obj(vec![
        ("a", Value::Int(1)),
        ("b", Value::Int(2)),
        ("c", obj(vec![("d", Value::Int(3))])),
    ]);
    assert_eq!(root("a = 1, b = 2, c {d = 3}"), expected);
    assert_eq!(root("a : 1\nb : 2\nc : {d : 3}"), expected);
    assert_eq!(root("a = 1,\nb = 2,\nc {\n d = 3,\n},\n"), expected);
    assert_eq!(root("a=1\r\nb=2\r\nc{d=3}\r\n"), expected);
    assert_eq!(root("a =\n 1\nb\n= 2\nc\n{d = 3}"), expected);
}

#[test]
fn array_separators() {
    let expected = Value::Array(vec![Value::Int(1), s("x"), Value::Null]);
    assert_eq!(value("[1, x, null]"), expected);
    assert_eq!(value("[1, x, null,]"), expected);
    assert_eq!(value("[\n  1\n  x\n\n  null\n]"), expected);
    assert_eq!(value("[\n  1,\n  x,\n  null,\n]"), expected);
    assert_eq!(value("[]"), Value::Array(vec![]));
    assert_eq!(value("[\n]"), Value::Array(vec![]));
    assert_eq!(
        value("[{a = 1}, [2]]"),
        Value::Array(vec![
            obj(vec![("a", Value::Int(1))]),
            Value::Array(vec![Value::Int(2)])
        ])
    );
}

#[test]
fn bad_separators_are_errors() {
    for (text, line, column) in [
        ("a = 1,, b = 2", 1, 7),
        ("{,}", 1, 2),
        ("a = [1,,2]", 1, 8),
        ("a = [,1]", 1, 6),
        ("a = 1 b = 2", 1, 7),
        ("a = [1 = 2]", 1, 8),
        ("a = 1\n}", 2, 1),
        ("a 1", 1, 3),
        ("= 1", 1, 1),
    ] {
        let e = err(text);
        assert_eq!((e.line(), e.column()), (line, column), "{text:?}: {e}");
    }
}

#[test]
fn unexpected_token_message() {
    let e = err("a {\n  b = 1\n  c = ]\n}");
    assert_eq!(
        e.to_string(),
        "line 3, column 7: expected a value, found ']'"
    );
    let e = err("a = {\n  b = 1\n");
    assert_eq!((e.line(), e.column()), (3, 1));
    assert!(
        e.message()
            .contains("'{' at line 1, column 5 is not closed"),
        "{e}"
    );
    let e = err("a = [1, 2");
    assert!(
        e.message()
            .contains("'[' at line 1, column 5 is not closed"),
        "{e}"
    );
}

#[test]
fn path_keys_nest() {
    let r = root("a.b.c = 1\na.b.d = 2\na.e = x");
    assert_eq!(
        r,
        obj(vec![(
            "a",
            obj(vec![
                ("b", obj(vec![("c", Value::Int(1)), ("d", Value::Int(2))])),
                ("e", s("x")),
            ])
        )])
    );
    assert_eq!(root("a..b = 1"), root("a.b = 1"));
    assert_eq!(root("a.b { c = 1 }"), root("a { b { c = 1 } }"));
}

#[test]
fn quoted_keys_are_one_segment() {
    let r = root("\"a.b\" = 1\n\"secret_base64_encoded\" = false\n\"\" = 2\n\"\"\"t.q\"\"\" = 3");
    let o = r.as_object().unwrap();
    assert_eq!(keys(o), ["a.b", "secret_base64_encoded", "", "t.q"]);
    assert_eq!(o.get("a.b"), Some(&Value::Int(1)));
}

#[test]
fn unusual_unquoted_keys() {
    let r = root(
        "content-type = json\n1 = x\n-2 = y\n5m = z\ntrue = t\nnull = n\nmail@host = m\n1.5 = f",
    );
    let o = r.as_object().unwrap();
    assert_eq!(
        keys(o),
        ["content-type", "1", "-2", "5m", "true", "null", "mail@host"]
    );
    assert_eq!(o.get("content-type"), Some(&s("json")));
    assert_eq!(
        o.get("1"),
        Some(&obj(vec![("5", s("f"))])),
        "1 then 1.5 merge"
    );
    assert_eq!(o.get("true"), Some(&s("t")));
}

#[test]
fn duplicate_objects_merge_recursively_in_first_position() {
    let r = root("a { x = 1, y { p = 1 } }\nb = 0\na { y { q = 2 }, z = 3 }\na.x = 9");
    let o = r.as_object().unwrap();
    assert_eq!(keys(o), ["a", "b"]);
    let a = o.get("a").unwrap().as_object().unwrap();
    assert_eq!(keys(a), ["x", "y", "z"]);
    assert_eq!(a.get("x"), Some(&Value::Int(9)));
    assert_eq!(
        a.get("y"),
        Some(&obj(vec![("p", Value::Int(1)), ("q", Value::Int(2))]))
    );
}

#[test]
fn duplicate_non_objects_replace_in_first_position() {
    let r = root("a = 1\nb = 2\na = [1]\nb { x = 1 }\nb = 3\nc = [1, 2]\nc = [3]");
    let o = r.as_object().unwrap();
    assert_eq!(keys(o), ["a", "b", "c"]);
    assert_eq!(o.get("a"), Some(&Value::Array(vec![Value::Int(1)])));
    assert_eq!(o.get("b"), Some(&Value::Int(3)));
    assert_eq!(o.get("c"), Some(&Value::Array(vec![Value::Int(3)])));
    let r = root("a = 1\na.b = 2");
    assert_eq!(r, obj(vec![("a", obj(vec![("b", Value::Int(2))]))]));
}

#[test]
fn adjacent_strings_concatenate_keeping_whitespace() {
    assert_eq!(value("foo bar"), s("foo bar"));
    assert_eq!(value("foo  \"b r\"\t baz"), s("foo  b r\t baz"));
    assert_eq!(value("5min"), s("5min"));
    assert_eq!(value("1m \"\"\"x\"\"\""), s("1m x"));
    assert_eq!(
        root("a = foo bar # c\nb = 1"),
        obj(vec![("a", s("foo bar")), ("b", Value::Int(1))])
    );
    assert_eq!(value("[a b, c]"), Value::Array(vec![s("a b"), s("c")]));
}

#[test]
fn other_concatenations_are_errors() {
    for (text, column, message) in [
        (
            "a = {x = 1} {y = 2}",
            13,
            "object concatenation is not supported",
        ),
        (
            "a = foo {y = 2}",
            9,
            "object concatenation is not supported",
        ),
        ("a = [1] [2]", 9, "array concatenation is not supported"),
        ("a = x [2]", 7, "array concatenation is not supported"),
        ("a = 1 2", 7, "concatenation of integer and integer"),
        ("a = foo true", 9, "concatenation of string and bool"),
        ("a = 1.5s", 8, "concatenation of float and string"),
    ] {
        let e = err(text);
        assert_eq!((e.line(), e.column()), (1, column), "{text}: {e}");
        assert!(e.message().contains(message), "{text}: {e}");
    }
}

#[test]
fn include_is_an_error() {
    let e = err("a = 1\ninclude \"other.conf\"");
    assert_eq!(
        e.to_string(),
        "line 2, column 1: include directives are not supported"
    );
    let e = err("x {\n  include required(\"f.conf\")\n}");
    assert_eq!((e.line(), e.column()), (2, 3));
    assert_eq!(e.message(), "include directives are not supported");
    let e = err("a = include");
    assert_eq!((e.line(), e.column()), (1, 5));
    assert!(e.message().contains("reserved"), "{e}");
    assert_eq!(
        root("\"include\" = 1\nincluded = 2")
            .as_object()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn substitution_is_an_error() {
    for (text, line, column) in [
        ("a = ${b}", 1, 5),
        ("a = 1\nb = ${?c}", 2, 5),
        ("a = x ${b}", 1, 7),
    ] {
        let e = err(text);
        assert_eq!(
            (e.line(), e.column(), e.message()),
            (line, column, "substitutions are not supported")
        );
    }
    assert_eq!(value("\"${username}\""), s("${username}"));
}

#[test]
fn unterminated_strings_are_errors() {
    let e = err("a = 1\nb = \"abc\nc = 2");
    assert_eq!(
        e.to_string(),
        "line 2, column 5: unterminated quoted string"
    );
    let e = err("a = \"\"\"abc\n\ndef");
    assert_eq!(
        e.to_string(),
        "line 1, column 5: unterminated triple-quoted string"
    );
}

#[test]
fn invalid_unicode_escape_is_an_error() {
    let e = err("a = 1\nb = \"x\\u12z4\"");
    assert_eq!(e.to_string(), "line 2, column 7: invalid \\u escape");
    let e = err("b = \"\\udc00\"");
    assert_eq!((e.line(), e.column()), (1, 6));
}

#[test]
fn integer_overflow_is_an_error() {
    let e = err("a = 1\nb = 99999999999999999999");
    assert_eq!((e.line(), e.column()), (2, 5));
    assert!(e.message().contains("99999999999999999999"), "{e}");
    assert_eq!(value("-9223372036854775808"), Value::Int(i64::MIN));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 10_000;
    let deep_texts = [
        "{".repeat(n),
        format!("a = {}", "[".repeat(n)),
        format!("a = {}{}", "[".repeat(n), "]".repeat(n)),
        format!("{}x = 1{}", "a {".repeat(n), "}".repeat(n)),
        format!("{} = 1", vec!["a"; n].join(".")),
        "{[".repeat(n),
        format!("a = {}", "{b = [".repeat(n)),
    ];
    for text in &deep_texts {
        assert!(parse(text).is_err(), "{}", &text[..20]);
    }
    for text in &deep_texts[1..5] {
        let e = parse(text).unwrap_err();
        assert_eq!(
            e.message(),
            format!("nesting deeper than {MAX_DEPTH} levels"),
            "{}",
            &text[..20]
        );
    }
    assert!(parse_value(&"[".repeat(n)).is_err());
}

#[test]
fn nesting_limit_is_exact() {
    let nested = |n: usize| format!("a = {}{}", "[".repeat(n), "]".repeat(n));
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    assert!(parse(&nested(MAX_DEPTH + 1)).is_err());
    let path = |n: usize| format!("{} = 1", vec!["k"; n].join("."));
    assert!(parse(&path(MAX_DEPTH + 1)).is_ok());
    assert!(parse(&path(MAX_DEPTH + 2)).is_err());
    let objects = |n: usize| format!("{}x = 1{}", "a {".repeat(n), "}".repeat(n));
    let deepest = parse(&objects(MAX_DEPTH)).unwrap();
    assert!(parse(&objects(MAX_DEPTH + 1)).is_err());
    let mut v = &Value::Object(deepest);
    for _ in 0..MAX_DEPTH {
        v = v.as_object().unwrap().get("a").unwrap();
    }
    assert_eq!(v.as_object().unwrap().get("x"), Some(&Value::Int(1)));
}

#[test]
fn parse_value_takes_exactly_one_value() {
    assert_eq!(
        value("\n  [1, 2]  # c\n"),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(value("{a = 1}"), obj(vec![("a", Value::Int(1))]));
    let e = parse_value("1\n2").unwrap_err();
    assert_eq!((e.line(), e.column()), (2, 1));
    assert!(parse_value("").is_err());
    assert!(parse_value("a = 1").is_err());
}

#[test]
fn errors_are_plain_values() {
    let e = err("a = $");
    assert_eq!(e.line(), 1);
    assert_eq!(e.column(), 5);
    assert_eq!(e.message(), "unexpected character '$'");
    assert_eq!(e.to_string(), "line 1, column 5: unexpected character '$'");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e.clone());
    assert_eq!(boxed.to_string(), e.to_string());
}

#[test]
fn the_deepest_trees_print_compare_and_drop() {
    let texts = [
        format!("a = {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)),
        format!("{}x = 1{}", "a {".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH)),
        format!(
            "a = {}{}",
            "{b = [".repeat(MAX_DEPTH / 2),
            "]}".repeat(MAX_DEPTH / 2)
        ),
        format!("{} = \"x\\ny\"", vec!["k"; MAX_DEPTH + 1].join(".")),
    ];
    for text in &texts {
        let tree = parse(text).unwrap_or_else(|e| panic!("{}: {e}", &text[..20]));
        let printed = emqx_hocon::to_string(&tree);
        let reparsed = parse(&printed).unwrap();
        assert_eq!(reparsed, tree);
        let json = serde_json::Value::from(&Value::Object(tree));
        assert!(json.is_object());
    }
}
