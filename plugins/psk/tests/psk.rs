use emqx_backup_plugin_psk::Psk;
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::select::view_of;
use emqx_backup_plugin_sdk::testing::{check_archive, check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, SectionOut, TableRecords, Term, Warning};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn records(rows: Vec<Value>, config: Option<Value>) -> Records {
    let mut r = Records {
        domain: "psk".into(),
        tables: vec![TableRecords {
            table: "emqx_psk".into(),
            records: rows,
            ..TableRecords::default()
        }],
        ..Records::default()
    };
    if let Some(c) = config {
        r.config.insert("psk_authentication".into(), c);
    }
    r
}

fn encode(r: &Records) -> SectionOut {
    Psk.encode(r, &Options::default()).unwrap()
}

fn entry(id: &str, secret: &str) -> Value {
    json!({"psk_id": id, "shared_secret": secret, "extra": null})
}

fn warnings(current: &SectionOut, incoming: &SectionOut) -> Vec<Warning> {
    Psk.merge(&view_of(current), &view_of(incoming), &Options::default())
        .unwrap()
        .plan
        .warnings
}

fn warning<'w>(warnings: &'w [Warning], code: &str) -> Option<&'w Warning> {
    warnings.iter().find(|w| w.code == code)
}

#[test]
fn every_real_archive_decodes_and_round_trips() {
    let mut tables = 0;
    for path in emqx_backup_tests::fixture_archives() {
        let checked = check_archive::<Psk>(&path).unwrap();
        for t in &checked.records.tables {
            tables += 1;
            assert_eq!(t.attributes, ["psk_id", "shared_secret", "extra"]);
        }
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
    }
    // Every fixture carries an (empty) emqx_psk file.
    assert_eq!(tables, emqx_backup_tests::fixture_archives().len());
}

#[test]
fn extra_undefined_stays_distinct_from_other_terms() {
    let rows = vec![
        entry("id1", "secret1"),
        json!({"psk_id": "id2", "shared_secret": "s2", "extra": {"map": []}}),
        json!({"psk_id": "id3", "shared_secret": "s3", "extra": []}),
        json!({"psk_id": "id4", "shared_secret": "s4", "extra": {"atom": "undefined_not"}}),
        json!({"psk_id": {"base64": "/wA="}, "shared_secret": {"base64": "gIE="}, "extra": null}),
    ];
    let recs = records(rows, None);
    check_round_trip::<Psk>(&recs).unwrap();
    let section = encode(&recs);
    let mut extras = Vec::new();
    emqx_backup_plugin_sdk::table::read_terms("emqx_psk", &section.entries[0].1, |_, t| {
        extras.push(t.as_tuple().unwrap()[3].clone())
    })
    .unwrap();
    assert_eq!(extras[0], Term::atom("undefined"));
    assert_eq!(extras[1], Term::Map(vec![]));
    assert_eq!(extras[2], Term::List(vec![]));
    let back = Psk.decode(&view_of(&section), &Options::default()).unwrap();
    assert_eq!(back.tables[0].records[0], entry("id1", "secret1"));
}

#[test]
fn entries_with_psk_disabled_are_warned_about() {
    let empty = SectionOut::default();
    let incoming = encode(&records(vec![entry("a", "1"), entry("b", "2")], None));
    // Nothing enables PSK: EMQX's default is false.
    let w = warnings(&empty, &incoming);
    let d = warning(&w, "psk.disabled").unwrap();
    assert_eq!(d.count, Some(2));
    assert!(d.message.contains("default is false"), "{}", d.message);

    // The node enables it and the archive does not touch `enable`: no warning.
    let enabled = encode(&records(vec![], Some(json!({"enable": true}))));
    let w = warnings(&enabled, &incoming);
    assert!(warning(&w, "psk.disabled").is_none(), "{w:?}");

    // The archive disables it over the node's `enable = true` (first-level merge).
    let disabling = encode(&records(
        vec![entry("a", "1")],
        Some(json!({"enable": false, "separator": ":"})),
    ));
    let w = warnings(&enabled, &disabling);
    let d = warning(&w, "psk.disabled").unwrap();
    assert!(d.message.contains("enable is false"), "{}", d.message);

    // An archive without entries warns about nothing.
    let only_config = encode(&records(vec![], Some(json!({"enable": false}))));
    assert!(warnings(&empty, &only_config).is_empty());
}

#[test]
fn changed_secrets_are_counted() {
    let current = encode(&records(
        vec![entry("a", "1"), entry("b", "2"), entry("c", "3")],
        Some(json!({"enable": true})),
    ));
    let incoming = encode(&records(
        vec![
            entry("a", "1"),
            entry("b", "NEWSECRET1"),
            entry("c", "NEWSECRET2"),
            entry("d", "4"),
        ],
        None,
    ));
    let result = Psk
        .merge(&view_of(&current), &view_of(&incoming), &Options::default())
        .unwrap();
    let w = warning(&result.plan.warnings, "psk.secret_changed").unwrap();
    assert_eq!(w.count, Some(2));
    assert!(
        !w.message.contains("NEWSECRET"),
        "secrets must not be in warnings"
    );
    let scope = &result.plan.scopes[0];
    assert_eq!(scope.update, ["b", "c"]);
    assert_eq!(scope.insert, ["d"]);
    assert!(warning(&result.plan.warnings, "psk.disabled").is_none());
}

#[test]
fn config_is_merged_on_the_first_level_and_checked() {
    let current = encode(&records(
        vec![],
        Some(json!({"enable": true, "init_file": "/data/init.psk"})),
    ));
    let incoming = encode(&records(
        vec![],
        Some(json!({"enable": false, "chunk_size": 10})),
    ));
    let merged = Psk
        .merge(
            &view_of(&current),
            &view_of(&incoming),
            &Options {
                want_merged: true,
                ..Options::default()
            },
        )
        .unwrap()
        .merged
        .unwrap();
    assert_eq!(
        merged.config["psk_authentication"],
        json!({"enable": false, "init_file": "/data/init.psk", "chunk_size": 10})
    );

    let mut bad = Map::new();
    bad.insert(
        "psk_authentication".into(),
        json!({"enable": "yes", "separator": "", "chunk_size": 0, "init_file": 3}),
    );
    let problems = Psk.check_config(&bad);
    let places: Vec<&str> = problems.iter().map(|p| p.place.as_str()).collect();
    assert_eq!(
        places,
        [
            "psk_authentication.enable",
            "psk_authentication.init_file",
            "psk_authentication.separator",
            "psk_authentication.chunk_size"
        ]
    );
}

#[test]
fn unmodelled_rows_stay_lossless_and_are_reported() {
    let raw = json!({"term": {"tuple": [{"atom": "emqx_psk"}, "id", 42, {"atom": "undefined"}]}});
    let recs = records(vec![raw.clone()], None);
    check_round_trip::<Psk>(&recs).unwrap();
    let section = encode(&recs);
    let problems = Psk.validate(&view_of(&section), &Options::default());
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].severity,
        emqx_backup_plugin_sdk::model::Severity::Warning
    );
    assert!(
        problems[0].place == "mnesia/emqx_psk" && problems[0].message.contains("record id"),
        "{problems:?}"
    );
    let err = Psk
        .encode(
            &records(vec![json!({"psk_id": "a"})], None),
            &Options::default(),
        )
        .unwrap_err();
    assert!(err.0.contains("mnesia/emqx_psk: record 0") && err.0.contains("shared_secret"));
}

fn psk_records() -> impl Strategy<Value = Records> {
    let extra = prop_oneof![
        3 => Just(Value::Null),
        1 => Just(json!({"map": []})),
        1 => "[a-z]{1,4}".prop_map(|s| json!({"map": [[{"atom": "note"}, s]]})),
    ];
    let config = prop::option::of(
        (any::<bool>(), prop::option::of("[:;,]"), 1u64..100).prop_map(|(enable, sep, chunk)| {
            let mut o = json!({"enable": enable, "chunk_size": chunk});
            if let Some(s) = sep {
                o["separator"] = json!(s);
            }
            o
        }),
    );
    (
        prop::collection::vec(("[a-z0-9]{1,6}", "[A-Za-z0-9+/=]{0,12}", extra), 0..12),
        config,
    )
        .prop_map(|(rows, config)| {
            let mut seen = std::collections::HashSet::new();
            let rows = rows
                .into_iter()
                .filter(|(id, _, _)| seen.insert(id.clone()))
                .map(|(id, secret, extra)| {
                    json!({"psk_id": id, "shared_secret": secret, "extra": extra})
                })
                .collect();
            records(rows, config)
        })
}

proptest! {
    #[test]
    fn decode_encode_round_trip(records in psk_records()) {
        check_round_trip::<Psk>(&records).unwrap();
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in psk_records(), b in psk_records()) {
        check_merge_laws::<Psk>(&encode(&a), &encode(&b)).unwrap();
    }
}
