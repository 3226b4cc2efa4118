use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_dashboard::Dashboard;
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{section_for, view_of};
use emqx_backup_plugin_sdk::testing::{check_archive, check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, SectionOut, TableRecords, Warning};
use proptest::prelude::*;
use serde_json::{json, Value};

const LEGACY_APP: [&str; 7] = [
    "name",
    "api_key",
    "api_secret_hash",
    "enable",
    "desc",
    "expired_at",
    "created_at",
];

fn fixture(name: &str) -> Contents {
    let path = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap();
    Contents::read(&path, &Limits::default()).unwrap()
}

fn section(name: &str) -> SectionOut {
    section_for(&Dashboard.manifest(), &fixture(name))
}

fn decode(section: &SectionOut) -> Records {
    Dashboard
        .decode(&view_of(section), &Options::default())
        .unwrap()
}

fn table<'r>(records: &'r Records, name: &str) -> &'r TableRecords {
    records.tables.iter().find(|t| t.table == name).unwrap()
}

fn merge_warnings(current: &SectionOut, incoming: &SectionOut) -> Vec<Warning> {
    Dashboard
        .merge(&view_of(current), &view_of(incoming), &Options::default())
        .unwrap()
        .plan
        .warnings
}

fn warning<'w>(warnings: &'w [Warning], code: &str) -> Option<&'w Warning> {
    warnings.iter().find(|w| w.code == code)
}

#[test]
fn every_real_archive_decodes_and_round_trips() {
    let mut seen = 0;
    for path in emqx_backup_tests::fixture_archives() {
        let checked = check_archive::<Dashboard>(&path).unwrap();
        seen += checked.record_count();
        let problems = &checked.problems;
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
    }
    assert!(seen > 0);
}

#[test]
fn readable_form_of_a_5_3_archive() {
    let records = decode(&section("emqx-export-upload-ce.tar.gz"));
    let admins = table(&records, "emqx_admin");
    let admin = &admins.records[0];
    assert_eq!(admin["username"], "admin");
    assert_eq!(admin["pwdhash"]["format"], "legacy_sha256");
    assert_eq!(admin["pwdhash"]["salt"], "a468");
    assert_eq!(admin["pwdhash"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(admin["role"], "administrator");
    assert_eq!(admin["extra"], json!({}));
    assert_eq!(admins.records[1]["role"], "viewer");

    let app = &table(&records, "emqx_app").records[0];
    assert_eq!(
        app,
        &json!({
            "name": "test",
            "api_key": "ee26b0dd4af7e749",
            "api_secret_hash": app["api_secret_hash"].clone(),
            "enable": true,
            "extra": {"desc": "", "role": "administrator"},
            "expired_at": "infinity",
            "created_at": 1700823301,
        })
    );
    assert_eq!(app["api_secret_hash"]["format"], "legacy_sha256");
}

#[test]
fn the_5_1_archive_keeps_its_legacy_layout() {
    let original = section("emqx-export-test-bootstrap-ce.tar.gz");
    let records = decode(&original);
    let apps = table(&records, "emqx_app");
    assert_eq!(apps.attributes, LEGACY_APP);
    assert_eq!(apps.records.len(), 3);
    for r in &apps.records {
        assert!(r.get("desc").is_some() && r.get("extra").is_none(), "{r}");
    }
    assert_eq!(apps.records[0]["desc"], "key_to_export2");
    let admins = table(&records, "emqx_admin");
    assert_eq!(admins.records.len(), 4);
    for r in &admins.records {
        assert_eq!(r["role"], Value::Null, "{r}");
        assert_eq!(r["extra"], json!([]), "{r}");
    }

    let encoded = Dashboard.encode(&records, &Options::default()).unwrap();
    let again = decode(&encoded);
    assert_eq!(table(&again, "emqx_app").attributes, LEGACY_APP);
    assert_eq!(again, records);
    // Every record term is written back as it was read.
    let terms = |s: &SectionOut, t: &str| {
        let (_, bytes) = s
            .entries
            .iter()
            .find(|(n, _)| n == &format!("mnesia/{t}"))
            .unwrap();
        let mut out = Vec::new();
        emqx_backup_plugin_sdk::table::read_terms(t, bytes, |_, term| out.push(term.clone()))
            .unwrap();
        out
    };
    for t in ["emqx_admin", "emqx_app"] {
        assert_eq!(terms(&encoded, t), terms(&original, t), "{t}");
    }
}

#[test]
fn importing_accounts_warns_about_sensitive_tables_and_passwords() {
    let empty = SectionOut::default();
    let ce53 = section("emqx-export-upload-ce.tar.gz");
    let ce51 = section("emqx-export-test-bootstrap-ce.tar.gz");

    let w = merge_warnings(&empty, &ce53);
    let sensitive = warning(&w, "dashboard.sensitive").unwrap();
    assert_eq!(sensitive.count, Some(3));
    assert!(
        sensitive.message.contains(
            "the archive holds 2 dashboard accounts and 1 API keys: importing them replaces \
             passwords of existing accounts with the same name (0 would change)"
        ),
        "{}",
        sensitive.message
    );
    assert!(sensitive.message.contains("403"));
    assert!(warning(&w, "dashboard.password_overwritten").is_none());

    let w = merge_warnings(&ce53, &ce53);
    assert!(warning(&w, "dashboard.sensitive").is_some());
    assert!(warning(&w, "dashboard.password_overwritten").is_none());
    assert!(warning(&w, "dashboard.api_secret_overwritten").is_none());

    // Both archives have an `admin` account and a `test` API key, with different hashes.
    let w = merge_warnings(&ce53, &ce51);
    let sensitive = warning(&w, "dashboard.sensitive").unwrap();
    assert_eq!(sensitive.count, Some(7));
    assert!(sensitive.message.contains("(1 would change)"));
    let pw = warning(&w, "dashboard.password_overwritten").unwrap();
    assert_eq!(pw.count, Some(1));
    assert!(pw.message.ends_with(": admin"), "{}", pw.message);
    let secret = warning(&w, "dashboard.api_secret_overwritten").unwrap();
    assert_eq!(secret.count, Some(1));
    assert!(secret.message.ends_with(": test"), "{}", secret.message);

    // An archive without these tables warns about nothing.
    assert!(merge_warnings(&ce53, &empty).is_empty());
}

#[test]
fn plan_of_an_import_over_the_5_3_accounts() {
    let ce53 = section("emqx-export-upload-ce.tar.gz");
    let ce51 = section("emqx-export-test-bootstrap-ce.tar.gz");
    let plan = Dashboard
        .merge(&view_of(&ce53), &view_of(&ce51), &Options::default())
        .unwrap()
        .plan;
    let admins = plan.scopes.iter().find(|s| s.name == "emqx_admin").unwrap();
    assert_eq!(admins.update, vec!["admin"]);
    assert_eq!(admins.insert.len(), 3);
    assert_eq!(admins.kept, 1);
}

fn records(admins: Vec<Value>, apps: Vec<Value>) -> Records {
    Records {
        domain: "dashboard".into(),
        tables: vec![
            TableRecords {
                table: "emqx_admin".into(),
                records: admins,
                ..TableRecords::default()
            },
            TableRecords {
                table: "emqx_app".into(),
                records: apps,
                ..TableRecords::default()
            },
        ],
        ..Records::default()
    }
}

fn legacy_hash() -> Value {
    json!({"format": "legacy_sha256", "salt": "a468", "hash": "00".repeat(32)})
}

fn admin(name: Value, pwdhash: Value, role: Value) -> Value {
    json!({"username": name, "pwdhash": pwdhash, "description": "", "role": role, "extra": {}})
}

fn app(name: &str, key: &str, secret: Value, role: &str) -> Value {
    json!({"name": name, "api_key": key, "api_secret_hash": secret, "enable": true,
           "extra": {"desc": "d", "role": role}, "expired_at": 1_800_000_000, "created_at": 1_700_000_000})
}

#[test]
fn pbkdf2_hashes_and_sso_accounts_are_readable() {
    let pw = "$1$600000$AAAAAAAAAAAAAAAAAAAAAA$+Bwxm9XRCDMG7TZwQAF5qmfNaLlE1kd/looFdi4W8Is";
    let secret = "$1$1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA";
    let pbkdf2 = |text: &str| {
        let parts: Vec<&str> = text.split('$').collect();
        json!({"format": "pbkdf2", "iterations": parts[2].parse::<u64>().unwrap(),
               "salt": parts[3], "hash": parts[4]})
    };
    let mut sso = admin(
        json!({"backend": "ldap", "name": "alice"}),
        pbkdf2(pw),
        json!("ns:tenant-a::viewer"),
    );
    sso["extra"] = json!({"namespace": "tenant-a", "scopes": ["monitoring"], "password_ts": 1_700_000_000,
                          "mfa_state": {"map": [[{"atom": "mechanism"}, {"atom": "totp"}], [{"atom": "secret"}, "S3CR3T"]]}});
    let recs = records(
        vec![sso],
        vec![app("k", "Kx1y2z3a4b5c6d7e", pbkdf2(secret), "publisher")],
    );
    check_round_trip::<Dashboard>(&recs).unwrap();
    let section = Dashboard.encode(&recs, &Options::default()).unwrap();
    // The hash bytes are the `$1$` text itself.
    let back = decode(&section);
    assert_eq!(table(&back, "emqx_admin").records[0]["pwdhash"], pbkdf2(pw));
    assert!(Dashboard
        .validate(&view_of(&section), &Options::default())
        .is_empty());
    let w = merge_warnings(&SectionOut::default(), &section);
    assert_eq!(
        warning(&w, "dashboard.pbkdf2_hashes").unwrap().count,
        Some(2)
    );
    let plan = Dashboard
        .merge(
            &view_of(&SectionOut::default()),
            &view_of(&section),
            &Options::default(),
        )
        .unwrap()
        .plan;
    assert_eq!(plan.scopes[0].insert, vec!["ldap:alice"]);
}

#[test]
fn validate_warns_about_roles_hashes_and_api_keys() {
    let recs = records(
        vec![
            admin(json!("ok"), legacy_hash(), json!("administrator")),
            admin(json!("boss"), legacy_hash(), json!("superuser")),
            admin(
                json!("short"),
                json!({"format": "other", "value": "plaintext"}),
                json!("viewer"),
            ),
        ],
        vec![
            app("good", "ee26b0dd4af7e749", legacy_hash(), "viewer"),
            app("badkey", "not-a-key", legacy_hash(), "administrator"),
            app("badrole", "ee26b0dd4af7e749", legacy_hash(), "root"),
        ],
    );
    check_round_trip::<Dashboard>(&recs).unwrap();
    let section = Dashboard.encode(&recs, &Options::default()).unwrap();
    let problems = Dashboard.validate(&view_of(&section), &Options::default());
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems.iter().all(|p| p.severity == Severity::Warning));
    let has = |place: &str, text: &str| {
        problems
            .iter()
            .any(|p| p.place == place && p.message.contains(text))
    };
    assert!(has("mnesia/emqx_admin", "record boss: role \"superuser\""));
    assert!(has(
        "mnesia/emqx_admin",
        "record short: pwdhash: a 9-byte hash"
    ));
    assert!(has(
        "mnesia/emqx_app",
        "record badkey: api_key \"not-a-key\""
    ));
    assert!(has("mnesia/emqx_app", "record badrole: role \"root\""));
}

#[test]
fn config_roots_are_never_imported() {
    let mut current = SectionOut::default();
    current.config.insert(
        "dashboard".into(),
        json!({"listeners": {"http": {"bind": 18083}}}),
    );
    let mut incoming = SectionOut::default();
    incoming.config.insert(
        "dashboard".into(),
        json!({"listeners": {"http": {"bind": 18084}}}),
    );
    incoming
        .config
        .insert("api_key".into(), json!({"bootstrap_file": "keys.txt"}));
    let result = Dashboard
        .merge(
            &view_of(&current),
            &view_of(&incoming),
            &Options {
                want_merged: true,
                ..Options::default()
            },
        )
        .unwrap();
    assert_eq!(result.merged.unwrap().config, current.config);
    let (i, u, _) = result.plan.totals();
    assert_eq!((i, u), (0, 0));
    let w = warning(&result.plan.warnings, "dashboard.config_not_imported").unwrap();
    assert!(w.message.contains("dashboard and api_key"), "{}", w.message);

    let mut bad = serde_json::Map::new();
    bad.insert("api_key".into(), json!({"bootstrap_file": 1}));
    bad.insert("dashboard".into(), json!("x"));
    let problems = Dashboard.check_config(&bad);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn bad_json_names_the_field() {
    let recs = records(
        vec![
            json!({"username": "a", "pwdhash": {"format": "legacy_sha256", "salt": "a4", "hash": ""},
                    "description": "", "role": "viewer", "extra": {}}),
        ],
        vec![],
    );
    let err = Dashboard.encode(&recs, &Options::default()).unwrap_err();
    assert!(
        err.0.contains("mnesia/emqx_admin: record 0") && err.0.contains("pwdhash.salt"),
        "{}",
        err.0
    );
    let recs = records(
        vec![],
        vec![
            json!({"name": "a", "api_key": "ee26b0dd4af7e749", "api_secret_hash": legacy_hash(),
                    "enable": true, "expired_at": "infinity", "created_at": 1}),
        ],
    );
    let err = Dashboard.encode(&recs, &Options::default()).unwrap_err();
    assert!(err.0.contains("\"extra\""), "{}", err.0);
}

// ---- generated rows ----

fn pwdhash() -> impl Strategy<Value = Value> {
    prop_oneof![
        ("[0-9a-f]{4}", "[0-9a-f]{64}").prop_map(
            |(salt, hash)| json!({"format": "legacy_sha256", "salt": salt, "hash": hash})
        ),
        (1u64..1_000_000, "[A-Za-z0-9+/]{22}", "[A-Za-z0-9+/]{43}").prop_map(
            |(n, salt, hash)| json!({"format": "pbkdf2", "iterations": n, "salt": salt, "hash": hash})
        ),
        "[a-z]{0,10}".prop_map(|v| json!({"format": "other", "value": v})),
    ]
}

fn admin_extra() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!([])),
        (0i64..2_000_000_000).prop_map(|ts| json!({"password_ts": ts})),
        "[a-z]{1,6}".prop_map(|ns| json!({"namespace": ns, "scopes": ["monitoring"],
                                          "mfa_state": {"atom": "disabled"}})),
    ]
}

fn admins() -> impl Strategy<Value = Vec<Value>> {
    let name = prop_oneof![
        "[a-z0-9_]{1,8}".prop_map(Value::from),
        (
            prop_oneof![Just("ldap"), Just("saml"), Just("oidc")],
            "[a-z]{1,6}"
        )
            .prop_map(|(b, n)| json!({"backend": b, "name": n})),
    ];
    let role = prop_oneof![
        Just(json!("administrator")),
        Just(json!("viewer")),
        Just(Value::Null),
        "[a-z]{1,6}".prop_map(|ns| json!(format!("ns:{ns}::administrator"))),
    ];
    prop::collection::vec((name, pwdhash(), "[a-z ]{0,8}", role, admin_extra()), 0..8).prop_map(
        |rows| {
            rows.into_iter()
            .map(|(u, p, d, r, e)| {
                json!({"username": u, "pwdhash": p, "description": d, "role": r, "extra": e})
            })
            .collect()
        },
    )
}

fn apps() -> impl Strategy<Value = Vec<Value>> {
    let fifth = prop_oneof![
        "[a-z ]{0,8}".prop_map(|d| ("desc", json!(d))),
        (
            "[a-z ]{0,8}",
            prop_oneof![Just("administrator"), Just("viewer"), Just("publisher")]
        )
            .prop_map(|(d, r)| ("extra", json!({"desc": d, "role": r}))),
    ];
    let expiry = prop_oneof![
        Just(json!("infinity")),
        Just(Value::Null),
        (0i64..2_000_000_000).prop_map(Value::from),
    ];
    prop::collection::vec(
        (
            "[a-z0-9_-]{1,8}",
            "[0-9a-f]{16}",
            pwdhash(),
            any::<bool>(),
            fifth,
            expiry,
            0i64..2_000_000_000,
        ),
        0..8,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .map(|(name, key, secret, enable, (k, v), expired, created)| {
                let mut o = json!({"name": name, "api_key": key, "api_secret_hash": secret,
                                   "enable": enable, "expired_at": expired, "created_at": created});
                o[k] = v;
                o
            })
            .collect()
    })
}

fn dashboard_records() -> impl Strategy<Value = Records> {
    (admins(), apps(), any::<bool>()).prop_map(|(admins, apps, legacy)| {
        let mut r = records(admins, apps);
        if legacy {
            r.tables[1].attributes = LEGACY_APP.iter().map(|a| (*a).to_owned()).collect();
        }
        dedup(r)
    })
}

fn dedup(mut r: Records) -> Records {
    for (t, key) in r.tables.iter_mut().zip(["username", "name"]) {
        let mut seen = std::collections::HashSet::new();
        t.records.retain(|rec| seen.insert(rec[key].to_string()));
    }
    r
}

proptest! {
    #[test]
    fn decode_encode_round_trip(records in dashboard_records()) {
        check_round_trip::<Dashboard>(&records).unwrap();
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in dashboard_records(), b in dashboard_records()) {
        let options = Options::default();
        let a = Dashboard.encode(&a, &options).unwrap();
        let b = Dashboard.encode(&b, &options).unwrap();
        check_merge_laws::<Dashboard>(&a, &b).unwrap();
    }
}
