//! The HOCON parser: any text gives a tree or an error with a position, never a panic; a
//! parsed tree prints as text that parses back to the same tree and converts to JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = emqx_hocon::parse_value(text);
    let Ok(root) = emqx_hocon::parse(text) else {
        return;
    };
    let printed = emqx_hocon::to_string(&root);
    let again = emqx_hocon::parse(&printed)
        .unwrap_or_else(|e| panic!("printed text does not parse: {e}\n{printed}"));
    assert_eq!(again, root, "print/parse round trip of\n{printed}");
    let json = serde_json::Value::from(emqx_hocon::Value::Object(root));
    let _ = json.to_string();
});
