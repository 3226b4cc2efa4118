use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_authz::{aclconf, config, Authz};
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{section_for, view_of};
use emqx_backup_plugin_sdk::testing::{check_archive, check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, SectionOut, TableRecords};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn fixture(name: &str) -> SectionOut {
    let path = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap();
    let contents = Contents::read(&path, &Limits::default()).unwrap();
    section_for(&Authz.manifest(), &contents)
}

fn has_raw(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.contains_key("term") || o.values().any(has_raw),
        Value::Array(a) => a.iter().any(has_raw),
        _ => false,
    }
}

fn errors(problems: &[emqx_backup_plugin_sdk::Problem]) -> Vec<String> {
    problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| format!("{}: {}", p.place, p.message))
        .collect()
}

#[test]
fn every_real_archive_decodes_readably_and_round_trips() {
    let (mut rows, mut items) = (0, 0);
    for path in emqx_backup_tests::fixture_archives() {
        let checked = check_archive::<Authz>(&path).unwrap();
        let records = &checked.records;
        for t in &records.tables {
            rows += t.records.len();
            for r in &t.records {
                assert!(!has_raw(r), "{}: unmodelled record {r}", path.display());
            }
        }
        for item in &records.items {
            assert!(!has_raw(item), "{}: unmodelled rule {item}", path.display());
        }
        items += records.items.len();
        let problems = errors(&checked.problems);
        if path.ends_with("emqx-export-bad-upload.tar.gz") {
            assert_eq!(problems.len(), 1, "{problems:?}");
        } else {
            assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        }
    }
    assert!(rows > 0 && items > 0);
}

#[test]
fn readable_form_of_the_fixture() {
    let section = fixture("emqx-export-upload-ce.tar.gz");
    let records = Authz
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    let acl = &records.tables[0];
    assert_eq!(acl.table, "emqx_acl");
    assert_eq!(
        acl.records[0],
        json!({"who": {"username": "authn-user-1"}, "rules": [
            {"permission": "allow", "action": "all", "qos": [0, 1, 2], "retain": "all",
             "topic": "authn-user-1-allowed"},
            {"permission": "deny", "action": "all", "qos": [0, 1, 2], "retain": "all",
             "topic": "authn-user-1-denied"},
        ]})
    );
    assert_eq!(acl.records[1]["who"], json!({"clientid": "authn-client-1"}));
    assert_eq!(records.items.len(), 4);
    assert_eq!(
        records.items[0],
        json!({"source": "file", "index": 0, "line": 26, "permission": "allow",
               "who": {"username": {"re": "^dashboard$"}}, "action": "subscribe",
               "topics": ["$SYS/#"]})
    );
    assert_eq!(records.items[1]["who"], json!({"ipaddr": "127.0.0.1"}));
    assert_eq!(records.items[2]["topics"], json!(["$SYS/#", {"eq": "#"}]));
    assert_eq!(
        records.items[3],
        json!({"source": "file", "index": 3, "line": 32, "permission": "allow",
               "who": "all", "action": "all", "topics": "all"})
    );
}

#[test]
fn key_texts_name_the_row() {
    let section = fixture("emqx-export-upload-ce.tar.gz");
    let empty = SectionOut::default();
    let options = Options {
        list_kept: true,
        ..Options::default()
    };
    let plan = Authz
        .merge(&view_of(&empty), &view_of(&section), &options)
        .unwrap()
        .plan;
    let acl = plan.scopes.iter().find(|s| s.name == "emqx_acl").unwrap();
    assert_eq!(
        acl.insert,
        vec!["username:authn-user-1", "clientid:authn-client-1"]
    );
    let root = plan
        .scopes
        .iter()
        .find(|s| s.name == "authorization")
        .unwrap();
    assert!(root
        .insert
        .contains(&"authorization.sources[built_in_database]".to_owned()));
}

#[test]
fn bad_upload_is_refused_for_its_deny_action() {
    let section = fixture("emqx-export-bad-upload.tar.gz");
    let problems = Authz.validate(&view_of(&section), &Options::default());
    let p = problems
        .iter()
        .find(|p| p.place == "authorization.deny_action")
        .expect("deny_action flagged");
    assert_eq!(p.severity, Severity::Error);
    assert!(p.message.contains("unknown_action"), "{}", p.message);
}

fn with_authz(root: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("authorization".into(), root);
    m
}

#[test]
fn config_checks_name_the_path() {
    let problems = Authz.check_config(&with_authz(json!({
        "no_match": "maybe",
        "deny_action": "disconnect",
        "sources": [
            {"type": "built_in_database"},
            {"type": "kafka"},
            {"enable": true},
            {"type": "built_in_database"},
            {"type": "file", "rules": "{allow, all}.\n{allow, {ipaddr, \"10.0.0.0/40\"}, all, [\"#\"]}.\n"},
        ]
    })));
    let places: Vec<&str> = problems.iter().map(|p| p.place.as_str()).collect();
    assert_eq!(
        places,
        vec![
            "authorization.no_match",
            "authorization.sources[#1].type",
            "authorization.sources[#2].type",
            "authorization.sources[built_in_database]",
            "authorization.sources[file].rules",
        ]
    );
    assert!(
        problems[4].message.starts_with("line 2: rule 1:"),
        "{}",
        problems[4].message
    );
    let fine = Authz.check_config(&with_authz(json!({
        "no_match": "deny", "deny_action": "ignore",
        "sources": [{"type": "file", "path": "etc/acl.conf"}, {"type": "ldap"}]
    })));
    assert!(fine.is_empty(), "{fine:?}");
}

#[test]
fn malformed_file_rules_fail_validation_with_a_line() {
    let mut section = fixture("emqx-export-upload-ce.tar.gz");
    let sources = section.config["authorization"]["sources"]
        .as_array_mut()
        .unwrap();
    sources[1]["rules"] = json!("{allow, all}.\n\n{deny, all, subscribe, [\"#\"}.\n");
    let problems = Authz.validate(&view_of(&section), &Options::default());
    let p = problems
        .iter()
        .find(|p| p.place == "authorization.sources[file].rules")
        .unwrap();
    assert!(
        p.message.starts_with("line 3: syntax error"),
        "{}",
        p.message
    );
    // Decoding still works, without items.
    let records = Authz
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    assert!(records.items.is_empty());
}

#[test]
fn edited_items_are_refused_on_encode() {
    let section = fixture("emqx-export-upload-ce.tar.gz");
    let mut records = Authz
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    records.items[0]["permission"] = json!("deny");
    let err = Authz.encode(&records, &Options::default()).unwrap_err();
    assert!(err.0.contains("authorization.sources[file].rules"), "{err}");
    records.items.clear();
    assert!(Authz.encode(&records, &Options::default()).is_ok());
}

// ---------------------------------------------------------------- acl.conf

const DEFAULT_ACL: &str = r##"%%--------------------------------------------------------------------
%% -type(ipaddr() :: {ipaddr, string()}).
%%
%% -type(rule() :: {permission(), who(), action(), topics()} | {permission(), all}).
%%--------------------------------------------------------------------

{allow, {username, {re, "^dashboard$"}}, subscribe, ["$SYS/#"]}.

{allow, {ipaddr, "127.0.0.1"}, all, ["$SYS/#", "#"]}.

{deny, all, subscribe, ["$SYS/#", {eq, "#"}]}.

{allow, all}.
"##;

#[test]
fn the_default_acl_conf_parses() {
    let terms = aclconf::parse(DEFAULT_ACL).unwrap();
    let lines: Vec<usize> = terms.iter().map(|t| t.line).collect();
    assert_eq!(lines, vec![7, 9, 11, 13]);
    assert_eq!(
        terms[0].term.to_string(),
        r##"{allow,{username,{re,"^dashboard$"}},subscribe,["$SYS/#"]}"##
    );
    assert!(config::check_acl_text(DEFAULT_ACL).is_empty());
}

#[test]
fn the_fixture_rules_text_parses() {
    let section = fixture("emqx-export-test-bootstrap-ce.tar.gz");
    let text = config::file_rules_text(&section.config["authorization"]).unwrap();
    assert_eq!(aclconf::parse(text).unwrap().len(), 4);
    assert!(config::check_acl_text(text).is_empty());
}

#[test]
fn acl_conf_richer_rules() {
    let text = "{allow, {'and', [{user, \"u\"}, {client, {re, <<\"^c\">>}}]}, {publish, [{qos, 1}, {retain, false}]}, [<<\"t/${username}\">>, \"eq a/#\"]}.\n\
                {deny, {'or', [{ipaddrs, [\"10.0.0.0/8\", \"::1\"]}, {zone, default}]}, all, all}.\n\
                {allow, {client_attr, \"tier\", \"gold\"}, {subscribe, [{qos, [1, 2]}]}, [\"g/#\"]}.\n\
                {deny, {security_profile, hardened}}. % trailing comment\n";
    assert_eq!(config::check_acl_text(text), Vec::<String>::new());
    let items = config::file_rule_items(&with_authz(
        json!({"sources": [{"type": "file", "rules": text}]}),
    ));
    assert_eq!(
        items[0]["who"],
        json!({"and": [{"user": "u"}, {"client": {"re": "^c"}}]})
    );
    assert_eq!(items[0]["qos"], json!(1));
    assert_eq!(items[0]["retain"], json!(false));
    assert_eq!(items[1]["who"]["or"][1], json!({"zone": "default"}));
    assert_eq!(items[1]["topics"], json!("all"));
    assert_eq!(
        items[2]["who"],
        json!({"client_attr": {"name": "tier", "value": "gold"}})
    );
    assert_eq!(items[3]["who"], json!({"security_profile": "hardened"}));
}

#[test]
fn acl_conf_syntax_errors_carry_lines() {
    let cases = [
        ("{allow, all}.\n{allow, all}", 2, "unexpected end of file"),
        ("\n\n{allow, \"open}.\n", 3, "unterminated string"),
        (
            "{allow, all}.{deny, all}.",
            1,
            "must be followed by white space",
        ),
        ("{allow, Who, all, all}.", 1, "variable Who"),
        ("{allow, {and, []}, all, all}.", 1, "reserved word"),
        ("{allow, all}\n{deny, all}.", 2, "must end with '.'"),
        (
            "{allow, all, publish, [\"t\" | ]}.",
            1,
            "syntax error before: ']'",
        ),
        ("{allow, all, publish, [16#G]}.", 1, "base-16 digit"),
        ("{allow, @}.", 1, "unexpected character '@'"),
        ("{allow, 'unterminated}.\n\n", 1, "unterminated quoted atom"),
    ];
    for (text, line, needle) in cases {
        let e = aclconf::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn acl_conf_rules_emqx_cannot_compile() {
    let cases = [
        ("{permit, all}.", "permission"),
        ("{allow, nobody}.", "two-element"),
        ("{allow, all, publish}.", "a rule must be"),
        (
            "{allow, {ipaddr, \"300.0.0.1\"}, all, [\"#\"]}.",
            "not an IP address",
        ),
        (
            "{allow, {peer, \"x\"}, all, [\"#\"]}.",
            "invalid client match condition",
        ),
        ("{allow, all, read, [\"#\"]}.", "invalid action"),
        (
            "{allow, all, {publish, [{qos, 3}]}, [\"#\"]}.",
            "invalid qos",
        ),
        (
            "{allow, all, {publish, [{retain, sometimes}]}, [\"#\"]}.",
            "invalid retain",
        ),
        ("{allow, all, publish, \"t\"}.", "not a string"),
        ("{allow, all, publish, t}.", "must be a list or all"),
    ];
    for (text, needle) in cases {
        let problems = config::check_acl_text(text);
        assert_eq!(problems.len(), 1, "{text}: {problems:?}");
        assert!(problems[0].starts_with("line 1: rule 0: "), "{problems:?}");
        assert!(problems[0].contains(needle), "{text}: {problems:?}");
    }
}

// ---------------------------------------------------------------- warnings

fn codes(current: &SectionOut, incoming: &SectionOut) -> Vec<(String, Option<u64>)> {
    Authz
        .merge(&view_of(current), &view_of(incoming), &Options::default())
        .unwrap()
        .plan
        .warnings
        .into_iter()
        .map(|w| (w.code, w.count))
        .collect()
}

#[test]
fn import_warnings() {
    let archive = fixture("emqx-export-upload-ce.tar.gz");
    // A node on EMQX's defaults: no_match deny, acl.conf from its path.
    let fresh = SectionOut::default();
    assert_eq!(
        codes(&fresh, &archive),
        vec![
            ("authz.no_match_opened".to_owned(), None),
            ("authz.file_rules_changed".to_owned(), Some(4)),
        ]
    );
    // The node already has what the archive brings.
    assert!(codes(&archive, &archive).is_empty());
    // The archive without its built_in_database source, over a node without one either.
    let mut no_db = archive.clone();
    no_db.config["authorization"]["sources"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    let mut node = no_db.clone();
    node.entries.clear();
    node.config["authorization"]["sources"][0]["rules"] = json!("{allow, all}.\n");
    assert_eq!(
        codes(&node, &no_db),
        vec![
            ("authz.acl_rules_unused".to_owned(), Some(2)),
            ("authz.file_rules_changed".to_owned(), Some(4)),
        ]
    );
    let w = Authz
        .merge(&view_of(&node), &view_of(&no_db), &Options::default())
        .unwrap()
        .plan
        .warnings;
    assert!(
        w[1].message.contains("from 1 to 4 rules"),
        "{}",
        w[1].message
    );
}

// ---------------------------------------------------------------- properties

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{1,8}"
}

fn who() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("all")),
        name().prop_map(|s| json!({"username": s})),
        name().prop_map(|s| json!({"clientid": s})),
    ]
}

fn simple_cond() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z^$.*]{1,6}".prop_map(|s| json!({"username": {"re": s}})),
        "[a-z^$.*]{1,6}".prop_map(|s| json!({"clientid": {"re": s}})),
        name().prop_map(|s| json!({"zone": s})),
        name().prop_map(|s| json!({"zone": {"re": s}})),
        name().prop_map(|s| json!({"listener": s})),
        name().prop_map(|s| json!({"listener": {"re": s}})),
        (0u8..=255, 8u8..=32).prop_map(|(a, l)| json!({"ipaddr": format!("10.{a}.0.0/{l}")})),
        Just(json!({"ipaddr": "127.0.0.1"})),
    ]
}

fn cond() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("all")),
        simple_cond(),
        prop::collection::vec(simple_cond(), 2..4).prop_map(|l| json!({ "and": l })),
    ]
}

fn topic() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z]{1,4}(/[a-z#+]{1,3})?".prop_map(Value::from),
        "[a-z]{1,4}/#".prop_map(|t| json!({ "eq": t })),
    ]
}

fn qos() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!([0, 1, 2])),
        prop::sample::subsequence(vec![0, 1, 2], 1..=3).prop_map(|q| json!(q)),
    ]
}

fn retain() -> impl Strategy<Value = Value> {
    prop_oneof![Just(json!("all")), Just(json!(true)), Just(json!(false))]
}

fn rule(with_who: bool) -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("allow"), Just("deny")],
        cond(),
        prop_oneof![Just("publish"), Just("subscribe"), Just("all")],
        qos(),
        retain(),
        topic(),
        any::<bool>(),
    )
        .prop_map(move |(p, w, a, q, r, t, bare)| {
            let mut o = Map::new();
            o.insert("permission".into(), json!(p));
            if with_who {
                o.insert("who".into(), w);
            }
            o.insert("action".into(), json!(a));
            if !bare {
                o.insert("qos".into(), q);
                if a != "subscribe" {
                    o.insert("retain".into(), r);
                }
            }
            o.insert("topic".into(), t);
            Value::Object(o)
        })
}

fn rules() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(rule(false), 0..4),
        prop::collection::vec(rule(true), 0..4),
    ]
    .prop_map(Value::Array)
}

fn rows() -> impl Strategy<Value = (Vec<Value>, Vec<Value>)> {
    (
        prop::collection::vec((who(), rules()), 0..6),
        prop::collection::vec(("[a-z]{1,4}", who(), rules()), 0..4),
    )
        .prop_map(|(global, ns)| {
            let global = global
                .into_iter()
                .map(|(w, r)| json!({"who": w, "rules": r}))
                .collect();
            let ns = ns
                .into_iter()
                .map(
                    |(n, w, r)| json!({"namespace": n, "who": w, "rules": r, "extra": {"map": []}}),
                )
                .collect();
            (global, ns)
        })
}

fn file_rules() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop_oneof![Just("allow"), Just("deny")],
            prop_oneof![
                Just("all".to_owned()),
                name().prop_map(|n| format!("{{username, \"{n}\"}}")),
                name().prop_map(|n| format!("{{clientid, {{re, \"^{n}\"}}}}")),
            ],
            prop_oneof![Just("publish"), Just("subscribe"), Just("all")],
            "[a-z]{1,4}/#",
        ),
        0..4,
    )
    .prop_map(|rules| {
        let mut text = String::from("%% generated\n");
        for (p, w, a, t) in rules {
            text.push_str(&format!("{{{p}, {w}, {a}, [\"{t}\", {{eq, \"{t}\"}}]}}.\n"));
        }
        text.push_str("{deny, all}.\n");
        text
    })
}

fn authorization() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(
        (
            prop_oneof![Just("allow"), Just("deny")],
            prop_oneof![Just("ignore"), Just("disconnect")],
            prop::option::of(any::<bool>()),
            prop::option::of(file_rules()),
            prop::option::of(0u8..4),
        )
            .prop_map(|(no_match, deny_action, db, file, http)| {
                let mut sources = Vec::new();
                if let Some(enable) = db {
                    sources.push(json!({"type": "built_in_database", "enable": enable}));
                }
                if let Some(rules) = file {
                    sources.push(json!({"type": "file", "enable": true, "rules": rules}));
                }
                if let Some(n) = http {
                    sources.push(json!({"type": "http", "url": format!("http://h{n}:80")}));
                }
                json!({"no_match": no_match, "deny_action": deny_action,
                       "cache": {"enable": true, "max_size": 32, "ttl": "1m"},
                       "sources": sources})
            }),
    )
}

fn dedup(mut rows: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| seen.insert(format!("{}{}", r["namespace"], r["who"])));
    rows
}

fn records() -> impl Strategy<Value = Records> {
    (rows(), authorization()).prop_map(|((global, ns), root)| {
        let table = |t: &str, records| TableRecords {
            table: t.into(),
            records,
            ..TableRecords::default()
        };
        let mut config = Map::new();
        if let Some(root) = root {
            config.insert("authorization".into(), root);
        }
        Records {
            domain: "authz".into(),
            tables: vec![
                table("emqx_acl", dedup(global)),
                table("emqx_acl_ns", dedup(ns)),
            ],
            items: config::file_rule_items(&config),
            config,
        }
    })
}

proptest! {
    #[test]
    fn decode_encode_round_trip(records in records()) {
        check_round_trip::<Authz>(&records).unwrap();
        let section = Authz.encode(&records, &Options::default()).unwrap();
        let problems = Authz.validate(&view_of(&section), &Options::default());
        prop_assert!(problems.is_empty(), "{:?}", problems);
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in records(), b in records()) {
        let options = Options::default();
        let a = Authz.encode(&a, &options).unwrap();
        let b = Authz.encode(&b, &options).unwrap();
        check_merge_laws::<Authz>(&a, &b).unwrap();
    }

    #[test]
    fn the_parser_never_panics(text in "[{}\\[\\]a-z\"'., %\n$#0-9<>=|_-]{0,40}") {
        let _ = aclconf::parse(&text);
        let _ = config::check_acl_text(&text);
    }
}
