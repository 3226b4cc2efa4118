//! Parser and printer for the HOCON dialect of EMQX 5.x, as found in the `cluster.hocon` and
//! `META.hocon` files of EMQX data backups.
//!
//! The rules follow EMQX's own `hocon` library (`hocon_scanner.xrl`, `hocon_parser.yrl`,
//! `hocon_pp.erl`): durations and byte sizes are strings, keys are paths unless quoted,
//! duplicate objects merge, and the printer lays values out as EMQX does (sorted keys,
//! one-line small objects, triple-quoted multiline strings). Substitutions (`${...}`) and
//! `include` are rejected: EMQX never writes them into backups.
//!
//! Where EMQX is lossy or loose, this crate deliberately differs:
//! - Adjacent strings on one line concatenate keeping the whitespace between them (EMQX drops
//!   it); only strings concatenate.
//! - Fields on one line need a `,` between them (EMQX also accepts `a = 1 b = 2`).
//! - Keys may be numbers, `true`, `false` or `null` (`1 = x` is the key `"1"`).
//! - Floats print in the shortest form that reads back exactly (EMQX rounds to 6 decimals).
//! - Control chars print as `\uXXXX` in quoted strings (EMQX prints lists of integers or
//!   escapes its own scanner does not read), and a triple-quoted rendering is used only after
//!   checking that it reads back to the same string.
//! - Keys print bare only when they read back as one plain path segment; `include` is quoted.
//!
//! So `parse(&to_string(&tree)) == Ok(tree)` for every tree of finite floats nested at most
//! [`MAX_DEPTH`] levels.
//!
//! ```
//! let root = emqx_hocon::parse("authorization { cache.ttl = 1m, no_match = allow }").unwrap();
//! let authz = root.get("authorization").and_then(|v| v.as_object()).unwrap();
//! let cache = authz.get("cache").and_then(|v| v.as_object()).unwrap();
//! assert_eq!(cache.get("ttl").and_then(|v| v.as_str()), Some("1m"));
//! assert_eq!(
//!     emqx_hocon::to_string(&root),
//!     "authorization {\n  cache {\n    ttl = \"1m\"\n  }\n  no_match = allow\n}\n"
//! );
//! assert_eq!(emqx_hocon::parse(&emqx_hocon::to_string(&root)), Ok(root));
//! ```

#![warn(missing_docs)]

mod error;
mod json;
mod lexer;
mod object;
mod parser;
mod printer;
mod value;

pub use error::ParseError;
pub use json::from_json;
pub use object::{Iter, Object};
pub use parser::MAX_DEPTH;
pub use value::Value;

/// Parses a whole file: the root object, with or without surrounding braces. An empty file
/// is an empty object; a leading byte-order mark is ignored.
pub fn parse(text: &str) -> Result<Object, ParseError> {
    parser::parse_root(strip_bom(text))
}

/// Parses one value, written as it would appear after `key = `.
pub fn parse_value(text: &str) -> Result<Value, ParseError> {
    parser::parse_single_value(strip_bom(text))
}

/// Prints a root object as EMQX does: one field per line, keys sorted, no outer braces, each
/// line ending with a newline (an empty object prints as the empty string).
///
/// Printing recurses: trees built by hand thousands of levels deep can exhaust the stack.
pub fn to_string(root: &Object) -> String {
    printer::root_to_string(root)
}

/// Prints one value as it would appear after `key = ` on an unindented line.
pub fn value_to_string(value: &Value) -> String {
    printer::value_to_string(value)
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{FEFF}').unwrap_or(text)
}
