use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_authn::config::{authenticator_id, Chain};
use emqx_backup_plugin_authn::users::TABLES;
use emqx_backup_plugin_authn::Authn;
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{section_for, view_of};
use emqx_backup_plugin_sdk::testing::{check_archive, check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, SectionOut, TableRecords, Term, Warning};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn fixture(name: &str) -> Contents {
    let path = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap();
    Contents::read(&path, &Limits::default()).unwrap()
}

fn table(name: &str, records: Vec<Value>) -> TableRecords {
    TableRecords {
        table: name.into(),
        records,
        ..TableRecords::default()
    }
}

fn records(tables: Vec<TableRecords>, config: Value) -> Records {
    Records {
        domain: "authn".into(),
        tables,
        config: config.as_object().cloned().unwrap_or_default(),
        ..Records::default()
    }
}

fn encode(r: &Records) -> SectionOut {
    Authn.encode(r, &Options::default()).unwrap()
}

fn merge(current: &SectionOut, incoming: &SectionOut) -> emqx_backup_plugin_sdk::MergeResult {
    let options = Options {
        want_merged: true,
        ..Options::default()
    };
    Authn
        .merge(&view_of(current), &view_of(incoming), &options)
        .unwrap()
}

fn with(warnings: &[Warning], code: &str) -> Vec<Warning> {
    warnings
        .iter()
        .filter(|w| w.code == code)
        .cloned()
        .collect()
}

fn user(group: &str, id: &str) -> Value {
    json!({"user_group": group, "user_id": id, "password_hash": format!("hash-{id}"),
           "salt": "0123456789abcdef0123456789abcdef", "is_superuser": false})
}

fn password_db(name: &str, position: &str) -> Value {
    json!({"mechanism": "password_based", "backend": "built_in_database",
           "user_id_type": "username",
           "password_hash_algorithm": {"name": name, "salt_position": position}})
}

#[test]
fn every_real_archive_decodes_readably_round_trips_and_validates() {
    let mut seen = 0;
    for path in emqx_backup_tests::fixture_archives() {
        let checked = check_archive::<Authn>(&path).unwrap();
        seen += checked.record_count();
        let errors = checked.errors();
        if path.ends_with("emqx-export-bad-upload.tar.gz") {
            let places: Vec<&str> = errors.iter().map(|p| p.place.as_str()).collect();
            assert!(places.contains(&"authentication[0].backend"), "{errors:?}");
            assert!(
                places.contains(&"authentication[0].mechanism"),
                "{errors:?}"
            );
            assert!(errors.iter().any(|p| p.message.contains("no_such_backend")));
            assert!(errors.iter().any(|p| p.message.contains("bad_mechanism")));
        } else {
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
    }
    assert!(seen > 0);
}

#[test]
fn readable_form_of_the_fixture_user() {
    let contents = fixture("emqx-export-upload-ce.tar.gz");
    let section = section_for(&Authn.manifest(), &contents);
    let records = Authn
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    let users = records
        .tables
        .iter()
        .find(|t| t.table == "emqx_authn_mnesia")
        .unwrap();
    assert_eq!(
        users.records,
        vec![json!({
            "user_group": "mqtt:global",
            "user_id": "authn-user-1",
            "password_hash": "5d751e87a8419b0a01521e0875f28fc8c81fdb8b328b834db53b3c95290b8b70",
            "salt": "10f45b7d8af9d37b7cda37c46fa2580b",
            "is_superuser": false
        })]
    );
    assert_eq!(
        records.config["authentication"][0]["backend"],
        json!("built_in_database")
    );
}

#[test]
fn scram_and_namespaced_forms() {
    let scram = json!({"user_group": "scram:built_in_database", "user_id": "u1",
        "stored_key": "4572af493ff784b2b484a514206609df122f9595e3e9fc91e29aed94296730a4",
        "server_key": "ef83396490499457878768e51f74b330f1639c6daba7f4aaf2cfcdc3abc1077b",
        "salt": "0123456789abcdef0123456789abcdef", "is_superuser": true});
    let ns = json!({"namespace": "ns1", "user_group": "mqtt:global", "user_id": "u",
        "password_hash": "h", "salt": "", "is_superuser": false, "extra": {"map": []}});
    let ns_scram = json!({"namespace": "ns1", "user_group": "scram:built_in_database",
        "user_id": "u", "stored_key": "00ff", "server_key": "ff00", "salt": "s",
        "is_superuser": false, "extra": {"map": [[{"atom": "k"}, "v"]]}});
    let r = records(
        vec![
            table("emqx_authn_mnesia_ns", vec![ns.clone()]),
            table("emqx_authn_scram_mnesia", vec![scram.clone()]),
            table("emqx_authn_scram_mnesia_ns", vec![ns_scram.clone()]),
        ],
        json!({}),
    );
    check_round_trip::<Authn>(&r).unwrap();
    let back = Authn
        .decode(&view_of(&encode(&r)), &Options::default())
        .unwrap();
    assert_eq!(back.tables[0].records, vec![ns]);
    assert_eq!(back.tables[1].records, vec![scram]);
    assert_eq!(back.tables[2].records, vec![ns_scram]);

    let formats = Authn.tables();
    let key = Term::tuple(vec![
        Term::atom("mqtt:global"),
        Term::binary("authn-user-1"),
    ]);
    assert_eq!(formats[0].key_text(&key), "mqtt:global/authn-user-1");
    let ns_key = Term::tuple(vec![
        Term::binary("ns1"),
        Term::atom("mqtt:global"),
        Term::binary("u"),
    ]);
    assert_eq!(formats[1].key_text(&ns_key), "ns1/mqtt:global/u");
    let scram_key = Term::tuple(vec![
        Term::binary("scram:built_in_database"),
        Term::binary("u1"),
    ]);
    assert_eq!(
        formats[2].key_text(&scram_key),
        "scram:built_in_database/u1"
    );
}

#[test]
fn odd_records_stay_lossless() {
    // A binary user group in the password table and a non-UTF-8 user id.
    let odd = Term::tuple(vec![
        Term::atom("emqx_authn_mnesia"),
        Term::tuple(vec![Term::binary("mqtt:global"), Term::binary("u")]),
        Term::binary("h"),
        Term::binary("s"),
        Term::atom("false"),
    ]);
    let bytes_id = Term::tuple(vec![
        Term::atom("emqx_authn_mnesia"),
        Term::tuple(vec![Term::atom("mqtt:global"), Term::binary([0xff, 0xfe])]),
        Term::binary([0x80]),
        Term::binary(""),
        Term::atom("true"),
    ]);
    let f = &Authn.tables()[0];
    let j = f.record_to_json(&odd);
    assert!(j.get("term").is_some(), "{j}");
    assert_eq!(f.record_from_json(&j).unwrap(), odd);
    let j = f.record_to_json(&bytes_id);
    assert!(j.get("term").is_none(), "{j}");
    assert_eq!(j["user_id"], json!({"base64": "//4="}));
    assert_eq!(f.record_from_json(&j).unwrap(), bytes_id);
    assert!(f
        .record_from_json(
            &json!({"user_group": "g", "user_id": "u", "password_hash": "h",
            "salt": "s", "is_superuser": false, "bogus": 1})
        )
        .unwrap_err()
        .contains("bogus"));
}

#[test]
fn hash_algorithm_change_counts_kept_users() {
    let current = encode(&records(
        vec![table(
            "emqx_authn_mnesia",
            vec![
                user("mqtt:global", "a"),
                user("mqtt:global", "b"),
                user("mqtt:global", "c"),
            ],
        )],
        json!({"authentication": [password_db("sha256", "suffix")]}),
    ));
    // The archive overwrites b and brings d: a and c stay, hashed for sha256/suffix.
    let incoming = encode(&records(
        vec![table(
            "emqx_authn_mnesia",
            vec![user("mqtt:global", "b"), user("mqtt:global", "d")],
        )],
        json!({"authentication": [password_db("sha256", "prefix")]}),
    ));
    let result = merge(&current, &incoming);
    let w = with(&result.plan.warnings, "authn.hash_algorithm_changed");
    assert_eq!(w.len(), 1, "{:?}", result.plan.warnings);
    assert_eq!(w[0].count, Some(2));
    assert_eq!(
        w[0].message,
        "2 existing users of chain mqtt:global would no longer log in: password_hash_algorithm sha256/suffix -> sha256/prefix"
    );
    assert!(with(&result.plan.warnings, "authn.users_unused").is_empty());

    // Same algorithm (defaults filled in): no warning.
    let same = encode(&records(
        vec![],
        json!({"authentication": {"mechanism": "password_based", "backend": "built_in_database",
            "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}}),
    ));
    assert!(merge(&current, &same).plan.warnings.is_empty());

    // pbkdf2 parameters count, dk_length defaults to the digest size.
    let pbkdf2 = |extra: Value| {
        let mut algo = json!({"name": "pbkdf2", "mac_fun": "sha256", "iterations": 1000});
        algo.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"authentication": [{"mechanism": "password_based",
            "backend": "built_in_database", "password_hash_algorithm": algo}]})
    };
    let cur = encode(&records(
        vec![table("emqx_authn_mnesia", vec![user("mqtt:global", "a")])],
        pbkdf2(json!({})),
    ));
    let same = encode(&records(vec![], pbkdf2(json!({"dk_length": 32}))));
    assert!(merge(&cur, &same).plan.warnings.is_empty());
    let more = encode(&records(vec![], pbkdf2(json!({"iterations": 2000}))));
    let w = with(
        &merge(&cur, &more).plan.warnings,
        "authn.hash_algorithm_changed",
    );
    assert_eq!(w[0].count, Some(1));
    assert!(w[0]
        .message
        .ends_with("pbkdf2/sha256/i=1000/dk=32 -> pbkdf2/sha256/i=2000/dk=32"));
}

#[test]
fn scram_algorithm_change_is_warned() {
    let scram = |id: &str| {
        json!({"user_group": "scram:built_in_database", "user_id": id,
            "stored_key": "00", "server_key": "11", "salt": "s", "is_superuser": false})
    };
    let current = encode(&records(
        vec![table(
            "emqx_authn_scram_mnesia",
            vec![scram("a"), scram("b")],
        )],
        json!({"authentication": [{"mechanism": "scram", "backend": "built_in_database"}]}),
    ));
    let incoming = encode(&records(
        vec![],
        json!({"authentication": [{"mechanism": "scram", "backend": "built_in_database",
            "algorithm": "sha512", "iteration_count": 4096}]}),
    ));
    let w = with(
        &merge(&current, &incoming).plan.warnings,
        "authn.scram_algorithm_changed",
    );
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].count, Some(2));
    assert!(w[0].message.contains("sha256/4096 -> sha512/4096"), "{w:?}");
}

#[test]
fn users_without_an_authenticator_are_warned_about() {
    let empty = SectionOut::default();
    let incoming = encode(&records(
        vec![table(
            "emqx_authn_mnesia",
            vec![user("mqtt:global", "a"), user("mqtt:global", "b")],
        )],
        json!({"authentication": [{"mechanism": "jwt", "secret": "x"}]}),
    ));
    let w = with(
        &merge(&empty, &incoming).plan.warnings,
        "authn.users_unused",
    );
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].count, Some(2));
    assert!(w[0].message.contains("chain mqtt:global"), "{w:?}");

    // The node's authenticator stays after the import: the users are used.
    let current = encode(&records(
        vec![],
        json!({"authentication": [password_db("sha256", "prefix")]}),
    ));
    assert!(with(
        &merge(&current, &incoming).plan.warnings,
        "authn.users_unused"
    )
    .is_empty());

    // Disabled authenticator.
    let mut disabled = password_db("sha256", "prefix");
    disabled["enable"] = json!(false);
    let current = encode(&records(vec![], json!({"authentication": [disabled]})));
    let w = with(
        &merge(&current, &incoming).plan.warnings,
        "authn.authenticator_disabled",
    );
    assert_eq!(w[0].count, Some(2));
}

#[test]
fn gateway_and_listener_chains_read_their_roots() {
    assert_eq!(
        Chain::of_group("stomp:global").unwrap().path_text(),
        "gateway.stomp.authentication"
    );
    assert_eq!(
        Chain::of_group("mqtt-sn:global").unwrap().path_text(),
        "gateway.mqttsn.authentication"
    );
    assert_eq!(
        Chain::of_group("tcp:default").unwrap().path_text(),
        "listeners.tcp.default.authentication"
    );
    assert_eq!(
        Chain::of_group("stomp:tcp:default").unwrap().path_text(),
        "gateway.stomp.listeners.tcp.default.authentication"
    );
    assert_eq!(
        Chain::of_group("ssl:global").unwrap().path_text(),
        "listeners.ssl.global.authentication"
    );
    assert_eq!(
        Chain::of_group("mqtt-sn:global").unwrap().to_string(),
        "mqtt-sn:global"
    );

    let users = vec![
        user("stomp:global", "a"),
        user("stomp:global", "b"),
        user("tcp:default", "c"),
    ];
    let mut current = encode(&records(vec![table("emqx_authn_mnesia", users)], json!({})));
    let conf = |v: Value| -> Map<String, Value> { v.as_object().unwrap().clone() };
    current.config = conf(json!({
        "gateway": {"stomp": {"authentication": password_db("sha256", "suffix")}},
        "listeners": {"tcp": {"default": {"bind": "0.0.0.0:1883"}}}
    }));
    let incoming = SectionOut {
        config: conf(json!({
            "gateway": {"stomp": {"authentication": password_db("md5", "suffix")}}
        })),
        ..SectionOut::default()
    };
    let plan = merge(&current, &incoming).plan;
    let w = with(&plan.warnings, "authn.hash_algorithm_changed");
    assert_eq!(w.len(), 1, "{:?}", plan.warnings);
    assert_eq!(w[0].count, Some(2));
    assert!(w[0].message.contains("chain stomp:global"));
    // The archive brings no users, so nothing is unused.
    assert!(with(&plan.warnings, "authn.users_unused").is_empty());

    // The node's users of tcp:default re-imported: that listener has no authenticator.
    let mut incoming = encode(&records(
        vec![table("emqx_authn_mnesia", vec![user("tcp:default", "c")])],
        json!({}),
    ));
    incoming.config = conf(json!({"listeners": {"tcp": {"default": {"bind": "0.0.0.0:1883"}}}}));
    let w = with(
        &merge(&current, &incoming).plan.warnings,
        "authn.users_unused",
    );
    assert_eq!(w.len(), 1);
    assert!(w[0]
        .message
        .contains("listeners.tcp.default.authentication"));
}

#[test]
fn authentication_list_merges_by_id() {
    let jwt = json!({"mechanism": "jwt", "secret": "old"});
    let current = encode(&records(
        vec![],
        json!({"authentication": [password_db("sha256", "suffix"), jwt,
            {"mechanism": "password_based", "backend": "http", "url": "http://a"}]}),
    ));
    let incoming = encode(&records(
        vec![],
        json!({"authentication": [
            {"mechanism": "scram", "backend": "built_in_database"},
            {"mechanism": "jwt", "secret": "new"}]}),
    ));
    let result = merge(&current, &incoming);
    let merged = &result.merged.unwrap().config["authentication"];
    let ids: Vec<String> = merged
        .as_array()
        .unwrap()
        .iter()
        .map(|a| authenticator_id(a).unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "password_based:built_in_database",
            "jwt",
            "password_based:http",
            "scram:built_in_database"
        ]
    );
    assert_eq!(merged[1]["secret"], json!("new"));
    let scope = result
        .plan
        .scopes
        .iter()
        .find(|s| s.name == "authentication")
        .unwrap();
    assert_eq!(
        scope.insert,
        vec!["authentication[scram:built_in_database]"]
    );
    assert_eq!(scope.update, vec!["authentication[jwt]"]);
    assert_eq!(scope.kept, 2);

    // A lone authenticator object is read as a one-element list, as EMQX does.
    let lone = encode(&records(
        vec![],
        json!({"authentication": {"mechanism": "jwt", "secret": "lone"}}),
    ));
    let merged = merge(&current, &lone).merged.unwrap().config["authentication"].clone();
    assert_eq!(merged.as_array().unwrap().len(), 3);
    assert_eq!(merged[1]["secret"], json!("lone"));
}

#[test]
fn config_checks_name_the_path() {
    let problems =
        |v: Value| Authn.check_config(json!({ "authentication": v }).as_object().unwrap());
    let p = problems(
        json!([{"mechanism": "password_based", "backend": "built_in_database",
        "password_hash_algorithm": {"name": "sha3", "salt_position": "suffix"}}]),
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].place, "authentication[0].password_hash_algorithm.name");
    let p = problems(json!([{"mechanism": "password_based", "backend": "mysql",
        "password_hash_algorithm": {"name": "sha256", "salt_position": "middle"}}]));
    assert_eq!(
        p[0].place,
        "authentication[0].password_hash_algorithm.salt_position"
    );
    let p = problems(
        json!([{"mechanism": "password_based", "backend": "built_in_database",
        "password_hash_algorithm": {"name": "pbkdf2", "mac_fun": "sha256"}}]),
    );
    assert_eq!(
        p[0].place,
        "authentication[0].password_hash_algorithm.iterations"
    );
    let p = problems(json!([{"mechanism": "scram", "backend": "mysql"},
        {"mechanism": "scram", "backend": "built_in_database", "algorithm": "md5"}]));
    let places: Vec<&str> = p.iter().map(|p| p.place.as_str()).collect();
    assert_eq!(
        places,
        ["authentication[0].backend", "authentication[1].algorithm"]
    );
    let p = problems(json!([{"mechanism": "jwt"}, {"mechanism": "jwt"}, {"backend": "http"}]));
    let places: Vec<&str> = p.iter().map(|p| p.place.as_str()).collect();
    assert_eq!(places, ["authentication[1]", "authentication[2]"]);
    let p = problems(json!([{"mechanism": "password_based", "backend": "ldap_bind"}]));
    assert_eq!(p[0].severity, Severity::Warning);
    assert!(
        problems(json!([{"mechanism": "gcp_device"}, {"mechanism": "cinfo"},
        {"mechanism": "gssapi", "backend": "kerberos"},
        {"mechanism": "password_based", "backend": "built_in_database",
         "password_hash_algorithm": {"name": "bcrypt", "salt_rounds": 10}}]))
        .is_empty()
    );
}

fn text() -> impl Strategy<Value = String> {
    "[a-z0-9_\\-]{1,8}"
}

fn group() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("mqtt:global".to_owned()),
        Just("stomp:global".to_owned()),
        Just("tcp:default".to_owned()),
    ]
}

fn password_user(ns: bool) -> impl Strategy<Value = Value> {
    (
        group(),
        text(),
        "[0-9a-f]{0,64}",
        "[0-9a-f]{0,32}",
        any::<bool>(),
        text(),
    )
        .prop_map(move |(g, u, h, s, su, n)| {
            let mut v = json!({"user_group": g, "user_id": u, "password_hash": h, "salt": s,
                "is_superuser": su});
            if ns {
                v["namespace"] = json!(n);
                v["extra"] = json!({"map": []});
            }
            v
        })
}

fn scram_user(ns: bool) -> impl Strategy<Value = Value> {
    (
        text(),
        prop::collection::vec(any::<u8>(), 32),
        prop::collection::vec(any::<u8>(), 32),
        "[0-9a-f]{32}",
        any::<bool>(),
        text(),
    )
        .prop_map(move |(u, stored, server, s, su, n)| {
            let mut v = json!({"user_group": "scram:built_in_database", "user_id": u,
                "stored_key": hex::encode(stored), "server_key": hex::encode(server),
                "salt": s, "is_superuser": su});
            if ns {
                v["namespace"] = json!(n);
                v["extra"] = json!({"map": []});
            }
            v
        })
}

fn key_of(v: &Value) -> String {
    format!("{}/{}/{}", v["namespace"], v["user_group"], v["user_id"])
}

fn dedup(mut records: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    records.retain(|r| seen.insert(key_of(r)));
    records
}

fn authenticators() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        prop_oneof![
            prop_oneof![Just("suffix"), Just("prefix")].prop_map(|p| password_db("sha256", p)),
            Just(json!({"mechanism": "jwt", "secret": "s"})),
            (1u32..3).prop_map(|i| json!({"mechanism": "scram",
                "backend": "built_in_database", "iteration_count": 4096 * i})),
        ],
        0..3,
    )
    .prop_map(|list| {
        let mut seen = std::collections::HashSet::new();
        Value::Array(
            list.into_iter()
                .filter(|a| seen.insert(authenticator_id(a)))
                .collect(),
        )
    })
}

fn sections() -> impl Strategy<Value = Records> {
    (
        prop::collection::vec(password_user(false), 0..8),
        prop::collection::vec(password_user(true), 0..4),
        prop::collection::vec(scram_user(false), 0..6),
        prop::collection::vec(scram_user(true), 0..4),
        prop::option::of(authenticators()),
    )
        .prop_map(|(p, pn, s, sn, auth)| {
            let tables = TABLES
                .iter()
                .zip([p, pn, s, sn])
                .map(|(t, recs)| table(t.table, dedup(recs)))
                .collect();
            let config = auth.map_or_else(|| json!({}), |a| json!({ "authentication": a }));
            records(tables, config)
        })
}

proptest! {
    #[test]
    fn decode_encode_round_trip(r in sections()) {
        check_round_trip::<Authn>(&r).unwrap();
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in sections(), b in sections()) {
        check_merge_laws::<Authn>(&encode(&a), &encode(&b)).unwrap();
    }
}
