//! Golden tests: small trees printed to exactly the text EMQX's `hocon_pp` lays out.

use emqx_hocon::{parse, to_string, value_to_string, Object, Value};

fn obj(fields: Vec<(&str, Value)>) -> Object {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// Prints `root`, checks the text, and checks that it reads back to `root`.
fn golden(root: Object, expected: &str) {
    let printed = to_string(&root);
    assert_eq!(
        printed, expected,
        "\n--- got ---\n{printed}--- expected ---\n{expected}"
    );
    assert_eq!(parse(&printed), Ok(root));
}

#[test]
fn root_fields_are_sorted_one_per_line() {
    golden(
        obj(vec![
            ("b", Value::Int(2)),
            ("a", Value::Bool(true)),
            ("C", Value::Null),
        ]),
        "C = null\na = true\nb = 2\n",
    );
    assert_eq!(to_string(&Object::new()), "");
}

#[test]
fn oneliner_object() {
    golden(
        obj(vec![(
            "ssl",
            Value::Object(obj(vec![
                ("verify", s("verify_peer")),
                ("enable", Value::Bool(false)),
            ])),
        )]),
        "ssl {enable = false, verify = verify_peer}\n",
    );
    golden(
        obj(vec![(
            "headers",
            Value::Object(obj(vec![("content-type", s("application/json"))])),
        )]),
        "headers {content-type = \"application/json\"}\n",
    );
    golden(
        obj(vec![(
            "o",
            Value::Object(obj(vec![
                ("e", Value::Array(vec![])),
                ("f", Value::Float(1.5)),
            ])),
        )]),
        "o {e = [], f = 1.5}\n",
    );
    golden(
        obj(vec![("empty", Value::Object(Object::new()))]),
        "empty {}\n",
    );
}

#[test]
fn multiline_object() {
    let three = obj(vec![
        ("enable", Value::Bool(true)),
        ("max_size", Value::Int(32)),
        ("ttl", s("1m")),
    ]);
    golden(
        obj(vec![("cache", Value::Object(three))]),
        "cache {\n  enable = true\n  max_size = 32\n  ttl = \"1m\"\n}\n",
    );
    // Two fields, but one value is not a simple short string.
    golden(
        obj(vec![(
            "a",
            Value::Object(obj(vec![
                ("url", s("http://no.such.host")),
                ("x", Value::Object(obj(vec![("y", Value::Int(1))]))),
            ])),
        )]),
        "a {\n  url = \"http://no.such.host\"\n  x {y = 1}\n}\n",
    );
    golden(
        obj(vec![(
            "a",
            Value::Object(obj(vec![("long", s(&"x".repeat(41)))])),
        )]),
        &format!("a {{\n  long = {}\n}}\n", "x".repeat(41)),
    );
}

#[test]
fn oneliner_list() {
    golden(
        obj(vec![(
            "l",
            Value::Array(vec![
                s("a"),
                s("b"),
                Value::Int(1),
                Value::Null,
                Value::Float(2.0),
                s(""),
            ]),
        )]),
        "l = [a, b, 1, null, 2.0, \"\"]\n",
    );
    golden(obj(vec![("l", Value::Array(vec![]))]), "l = []\n");
    golden(
        obj(vec![("l", Value::Array(vec![s("allow all")]))]),
        "l = [\n  \"allow all\"\n]\n",
    );
}

#[test]
fn multiline_list_of_objects() {
    let first = obj(vec![("type", s("built_in_database"))]);
    let second = obj(vec![
        ("enable", Value::Bool(true)),
        ("type", s("file")),
        ("path", s("etc/acl.conf")),
    ]);
    golden(
        obj(vec![(
            "sources",
            Value::Array(vec![Value::Object(first), Value::Object(second)]),
        )]),
        "sources = [\n  {type = built_in_database},\n  {\n    enable = true\n    path = \"etc/acl.conf\"\n    type = file\n  }\n]\n",
    );
    golden(
        obj(vec![(
            "nested",
            Value::Array(vec![
                Value::Array(vec![Value::Int(1)]),
                Value::Object(Object::new()),
            ]),
        )]),
        "nested = [\n  [1],\n  {}\n]\n",
    );
}

#[test]
fn triple_quoted_multiline_at_depth_0() {
    golden(
        obj(vec![("sql", s("SELECT\n  *\nFROM\n  \"t/#\""))]),
        "sql = \"\"\"~\n  SELECT\n    *\n  FROM\n    \"t/#\"~\"\"\"\n",
    );
    golden(
        obj(vec![(
            "pem",
            s("-----BEGIN-----\nABC\n\nDEF\n-----END-----\n"),
        )]),
        "pem = \"\"\"~\n  -----BEGIN-----\n  ABC\n\n  DEF\n  -----END-----\n~\"\"\"\n",
    );
}

#[test]
fn triple_quoted_multiline_at_depth_2() {
    golden(
        obj(vec![(
            "ssl",
            Value::Object(obj(vec![
                ("certfile", s("line1\nline2\n")),
                ("enable", Value::Bool(true)),
                ("keyfile", s("k1\nk2")),
            ])),
        )]),
        "ssl {\n  certfile = \"\"\"~\n    line1\n    line2\n  ~\"\"\"\n  enable = true\n  keyfile = \"\"\"~\n    k1\n    k2~\"\"\"\n}\n",
    );
}

#[test]
fn triple_quoted_in_a_multiline_list() {
    golden(
        obj(vec![("l", Value::Array(vec![s("a\nb\n"), s("x y")]))]),
        "l = [\n  \"\"\"~\n    a\n    b\n  ~\"\"\",\n  \"x y\"\n]\n",
    );
}

#[test]
fn triple_quoted_single_line() {
    golden(
        obj(vec![("q", s("say \"hi\" now"))]),
        "q = \"\"\"say \"hi\" now\"\"\"\n",
    );
    golden(
        obj(vec![("q", s("\"hi\""))]),
        "q = \"\"\"~\n  \"hi\"~\"\"\"\n",
    );
    golden(obj(vec![("p", s("C:\\tmp"))]), "p = \"\"\"C:\\tmp\"\"\"\n");
}

#[test]
fn quoted_strings_with_escapes_when_triple_quotes_cannot_work() {
    golden(obj(vec![("x", s(" a\n b"))]), "x = \" a\\n b\"\n");
    golden(obj(vec![("x", s("a\"\"\"b"))]), "x = \"a\\\"\\\"\\\"b\"\n");
    golden(
        obj(vec![("x", s("bell\u{7}\n"))]),
        "x = \"bell\\u0007\\n\"\n",
    );
}

#[test]
fn quoted_keys() {
    golden(
        obj(vec![
            ("a.b", Value::Int(1)),
            ("1st", Value::Int(2)),
            ("null", Value::Int(3)),
            ("with space", Value::Int(4)),
            ("quote\"d", Value::Int(5)),
            ("ok-key_1", Value::Int(6)),
        ]),
        "\"1st\" = 2\n\"a.b\" = 1\n\"null\" = 3\nok-key_1 = 6\n\"quote\\\"d\" = 5\n\"with space\" = 4\n",
    );
    golden(
        obj(vec![("h", Value::Object(obj(vec![("a b", s("x"))])))]),
        "h {\"a b\" = x}\n",
    );
}

#[test]
fn scalars() {
    assert_eq!(value_to_string(&Value::Int(-5)), "-5");
    assert_eq!(value_to_string(&Value::Float(0.1)), "0.1");
    assert_eq!(value_to_string(&Value::Float(3.0)), "3.0");
    assert_eq!(value_to_string(&Value::Float(1e20)), "1.0e20");
    assert_eq!(value_to_string(&Value::Bool(false)), "false");
    assert_eq!(value_to_string(&Value::Null), "null");
    assert_eq!(value_to_string(&s("15s")), "\"15s\"");
    assert_eq!(value_to_string(&s("tlsv1.3")), "\"tlsv1.3\"");
    assert_eq!(value_to_string(&s("5683")), "\"5683\"");
    assert_eq!(value_to_string(&s("true")), "\"true\"");
    assert_eq!(value_to_string(&s("${username}")), "\"${username}\"");
    assert_eq!(value_to_string(&s("a\"b")), "\"\"\"a\"b\"\"\"");
    assert_eq!(Value::Int(7).to_string(), "7");
    assert_eq!(
        value_to_string(&Value::Object(obj(vec![("a", Value::Int(1))]))),
        "{a = 1}"
    );
    let root = obj(vec![("k", s("v"))]);
    assert_eq!(root.to_string(), to_string(&root));
}
