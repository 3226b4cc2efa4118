//! The printer: values to text laid out as EMQX's `hocon_pp` does, so that exported files
//! look like the ones EMQX writes, and always read back to the same value.

use std::fmt::Write as _;

use crate::lexer::read_string_literal;
use crate::{Object, Value};

const INDENT_STEP: usize = 2;
/// Objects with fewer fields than this (and only short simple values) go on one line.
const ONELINER_MAX_FIELDS: usize = 3;
/// Strings longer than this (in bytes) keep an object or array from going on one line.
const SHORT_STRING_MAX_BYTES: usize = 40;

/// Prints a root object: one field per line, keys sorted, no outer braces.
pub(crate) fn root_to_string(root: &Object) -> String {
    let mut out = String::new();
    for (key, value) in root.sorted() {
        write_field(&mut out, key, value, 0);
        out.push('\n');
    }
    out
}

/// Prints a value as it would appear after `key = ` on an unindented line.
pub(crate) fn value_to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

/// Writes `key = value` (or `key {...}`) for a field whose line is indented by `indent`.
fn write_field(out: &mut String, key: &str, value: &Value, indent: usize) {
    push_indent(out, indent);
    write_key(out, key);
    out.push_str(if matches!(value, Value::Object(_)) {
        " "
    } else {
        " = "
    });
    write_value(out, value, indent);
}

/// Writes a value that starts on a line indented by `indent`.
fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => write_string(out, s, indent),
        Value::Array(elements) => write_array(out, elements, indent),
        Value::Object(object) => write_object(out, object, indent),
    }
}

fn write_object(out: &mut String, object: &Object, indent: usize) {
    if object.len() < ONELINER_MAX_FIELDS && object.values().all(fits_on_one_line) {
        out.push('{');
        for (i, (key, value)) in object.sorted().into_iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_key(out, key);
            out.push_str(" = ");
            write_value(out, value, indent);
        }
        out.push('}');
    } else {
        out.push_str("{\n");
        for (key, value) in object.sorted() {
            write_field(out, key, value, indent + INDENT_STEP);
            out.push('\n');
        }
        push_indent(out, indent);
        out.push('}');
    }
}

fn write_array(out: &mut String, elements: &[Value], indent: usize) {
    if elements.iter().all(fits_on_one_line) {
        out.push('[');
        for (i, element) in elements.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_value(out, element, indent);
        }
        out.push(']');
    } else {
        out.push('[');
        for (i, element) in elements.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('\n');
            push_indent(out, indent + INDENT_STEP);
            write_value(out, element, indent + INDENT_STEP);
        }
        out.push('\n');
        push_indent(out, indent);
        out.push(']');
    }
}

/// EMQX's `is_oneliner` test for one element or field value. The empty array counts because
/// in Erlang it is also the empty string.
fn fits_on_one_line(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => true,
        Value::String(s) => s.len() <= SHORT_STRING_MAX_BYTES && is_simple_for_oneliner(s),
        Value::Array(elements) => elements.is_empty(),
        Value::Object(_) => false,
    }
}

/// EMQX's `is_simple_string`: no leading digit and none of the chars HOCON reserves (plus `.`
/// and `-`). Such a string may still print quoted (`"application/json"`).
fn is_simple_for_oneliner(s: &str) -> bool {
    !s.starts_with(|c: char| c.is_ascii_digit())
        && !s.contains(|c| "$\"{}[]:=,+#`^?!@*& \\\n.-".contains(c))
}

fn write_key(out: &mut String, key: &str) {
    if is_bare_key(key) {
        out.push_str(key);
    } else {
        write_quoted(out, key);
    }
}

/// A key prints bare when it reads back as one path segment that is neither a keyword nor a
/// directive.
fn is_bare_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !is_reserved_word(key)
}

fn is_reserved_word(s: &str) -> bool {
    matches!(s, "true" | "false" | "null" | "include")
}

fn write_string(out: &mut String, s: &str, indent: usize) {
    if s.is_empty() {
        out.push_str("\"\"");
    } else if is_bare_string(s) {
        out.push_str(s);
    } else if let Some(text) = triple_quoted(s, indent) {
        out.push_str(&text);
    } else {
        write_quoted(out, s);
    }
}

/// A string prints bare when it starts with a letter, uses only chars EMQX never quotes, and
/// is not a keyword.
fn is_bare_string(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '%' | '|'))
        && !is_reserved_word(s)
}

/// Chars that EMQX's printer escapes; a string holding one prints triple-quoted.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{08}' | '\u{1B}' | '\u{7F}' | '"' | '\\'
    )
}

fn is_control(c: char) -> bool {
    c < ' ' || ('\u{7F}'..='\u{9F}').contains(&c)
}

/// The triple-quoted rendering EMQX would choose, if the string wants one and it reads back
/// exactly (EMQX's unindent can lose leading spaces; then a plain quoted string is used).
fn triple_quoted(s: &str, indent: usize) -> Option<String> {
    if s.contains("\"\"\"")
        || !s.contains(needs_escape)
        || s.contains(|c| is_control(c) && !needs_escape(c))
    {
        return None;
    }
    let text = if s.contains('\n') || s.starts_with('"') || s.ends_with('"') {
        indented_triple_quoted(s, indent)
    } else {
        format!("\"\"\"{s}\"\"\"")
    };
    (read_string_literal(&text).as_deref() == Some(s)).then_some(text)
}

/// `"""~`, the lines indented one step deeper than the field, then `~"""`; an empty last line
/// becomes the indentation of the closing `~`.
fn indented_triple_quoted(s: &str, indent: usize) -> String {
    let mut out = String::from("\"\"\"~\n");
    let lines: Vec<&str> = s.split('\n').collect();
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        let blank = line.is_empty() || *line == "\r";
        if i == last {
            if blank {
                push_indent(&mut out, indent);
            } else {
                push_indent(&mut out, indent + INDENT_STEP);
                out.push_str(line);
            }
        } else {
            if !blank {
                push_indent(&mut out, indent + INDENT_STEP);
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("~\"\"\"");
    out
}

/// A double-quoted string; control chars and the line separators the scanner treats as
/// newlines are escaped, everything else is raw UTF-8.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if is_control(c) || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The shortest text that reads back as the same float, always with a fraction so that it
/// reads as a float (`5.0`, `1.0e300`). Non-finite floats, which parsing never yields, print
/// as `null`.
fn format_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) {
        let text = f.to_string();
        if text.contains('.') {
            text
        } else {
            text + ".0"
        }
    } else {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !mantissa.contains('.') => {
                format!("{mantissa}.0e{exponent}")
            }
            _ => text,
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_as_the_same_float() {
        for (f, text) in [
            (1.5, "1.5"),
            (5.0, "5.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (1e16, "1.0e16"),
            (1e300, "1.0e300"),
            (-2.5e-7, "-2.5e-7"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5.0e-324"),
        ] {
            assert_eq!(format_float(f), text);
            assert_eq!(crate::parse_value(text), Ok(Value::Float(f)), "{text}");
        }
        assert_eq!(format_float(f64::NAN), "null");
        assert_eq!(format_float(f64::INFINITY), "null");
    }

    #[test]
    fn bare_and_quoted_strings() {
        let show = |s: &str| value_to_string(&Value::String(s.into()));
        assert_eq!(show("verify_peer"), "verify_peer");
        assert_eq!(show("a%b|c"), "a%b|c");
        assert_eq!(show(""), r#""""#);
        assert_eq!(show("tlsv1.3"), r#""tlsv1.3""#);
        assert_eq!(show("15s"), r#""15s""#);
        assert_eq!(show("5683"), r#""5683""#);
        for word in ["true", "false", "null", "include"] {
            assert_eq!(show(word), format!("\"{word}\""));
        }
        assert_eq!(show("application/json"), r#""application/json""#);
        assert_eq!(show("${username}"), r#""${username}""#);
        assert_eq!(show("content-type"), r#""content-type""#);
        assert_eq!(show("café"), r#""café""#);
        assert_eq!(show("a\u{1}b\u{85}"), r#""a\u0001b\u0085""#);
        assert_eq!(show("a\u{2028}"), r#""a\u2028""#);
    }

    #[test]
    fn strings_needing_escapes_print_triple_quoted() {
        let show = |s: &str| value_to_string(&Value::String(s.into()));
        assert_eq!(show("a\"b"), "\"\"\"a\"b\"\"\"");
        assert_eq!(show("C:\\dir"), "\"\"\"C:\\dir\"\"\"");
        assert_eq!(show("a\tb"), "\"\"\"a\tb\"\"\"");
        assert_eq!(show("\"quoted\""), "\"\"\"~\n  \"quoted\"~\"\"\"");
        assert_eq!(show("a\nb"), "\"\"\"~\n  a\n  b~\"\"\"");
        assert_eq!(show("a\n\nb\n"), "\"\"\"~\n  a\n\n  b\n~\"\"\"");
    }

    #[test]
    fn triple_quoting_falls_back_when_it_would_not_read_back() {
        let show = |s: &str| value_to_string(&Value::String(s.into()));
        // A `"""` inside, or control chars EMQX would print raw.
        assert_eq!(show("a\"\"\"b\n"), r#""a\"\"\"b\n""#);
        assert_eq!(show("a\u{1}\n"), r#""a\u0001\n""#);
        // Every line starting with a space: the unindent would eat it.
        assert_eq!(show(" a\n b"), r#"" a\n b""#);
        // A `\r` alone on the last line is dropped by EMQX's layout.
        assert_eq!(show("a\n\r"), r#""a\n\r""#);
    }

    #[test]
    fn keys() {
        let mut out = String::new();
        for key in [
            "a",
            "content-type",
            "a_1",
            "1a",
            "a.b",
            "",
            "null",
            "true",
            "include",
            "a b",
            "é",
        ] {
            write_key(&mut out, key);
            out.push(' ');
        }
        assert_eq!(
            out,
            r#"a content-type a_1 "1a" "a.b" "" "null" "true" "include" "a b" "é" "#
        );
    }
}
