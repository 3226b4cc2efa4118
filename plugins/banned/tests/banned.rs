use emqx_archive::{Contents, Limits};
use emqx_backup_plugin_banned::Banned;
use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::select::{section_for, view_of};
use emqx_backup_plugin_sdk::testing::{check_archive, check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, TableRecords};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> Contents {
    let path = emqx_backup_tests::fixture_archives()
        .into_iter()
        .find(|p| p.ends_with(name))
        .unwrap();
    Contents::read(&path, &Limits::default()).unwrap()
}

#[test]
fn every_real_archive_decodes_and_round_trips() {
    let mut seen = 0;
    for path in emqx_backup_tests::fixture_archives() {
        let checked = check_archive::<Banned>(&path).unwrap();
        seen += checked.record_count();
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
    }
    assert!(seen > 0);
}

#[test]
fn readable_form_of_the_fixture() {
    let contents = fixture("emqx-export-upload-ce.tar.gz");
    let section = section_for(&Banned.manifest(), &contents);
    let records = Banned
        .decode(&view_of(&section), &Options::default())
        .unwrap();
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("\"who\":{\"clientid\":"), "{text}");
}

#[test]
fn expired_bans_are_warned_about() {
    let contents = fixture("emqx-export-upload-ce.tar.gz");
    let section = section_for(&Banned.manifest(), &contents);
    let empty = emqx_backup_plugin_sdk::SectionOut::default();
    let result = Banned
        .merge(&view_of(&empty), &view_of(&section), &Options::default())
        .unwrap();
    assert!(result
        .plan
        .warnings
        .iter()
        .any(|w| w.code == "banned.expired"));
    assert!(!result.plan.scopes[0].insert.is_empty());
}

fn who() -> impl Strategy<Value = (bool, Value)> {
    prop_oneof![
        "[a-z0-9]{1,8}".prop_map(|s| (false, json!({"clientid": s}))),
        "[a-z0-9]{1,8}".prop_map(|s| (false, json!({"username": s}))),
        (0u8..=255, 0u8..=255)
            .prop_map(|(a, b)| (false, json!({"peerhost": format!("10.{a}.{b}.1")}))),
        "[a-z^$.*]{1,8}".prop_map(|s| (true, json!({"clientid_re": s}))),
        (0u8..=255, 16u8..=32)
            .prop_map(|(a, l)| (true, json!({"peerhost_net": format!("10.{a}.0.0/{l}")}))),
    ]
}

fn bans() -> impl Strategy<Value = Records> {
    prop::collection::vec(
        (
            who(),
            "[a-z ]{0,6}",
            0i64..2_000_000_000,
            prop::option::of(0i64..2_000_000_000),
        ),
        0..12,
    )
    .prop_map(|items| {
        let mut exact = Vec::new();
        let mut rules = Vec::new();
        for ((rule, who), reason, at, until) in items {
            let rec = json!({"who": who, "by": "mgmt_api", "reason": reason, "at": at,
                    "until": until.map_or(json!("infinity"), Value::from)});
            if rule {
                rules.push(rec)
            } else {
                exact.push(rec)
            }
        }
        let table = |t: &str, records| TableRecords {
            table: t.into(),
            records,
            ..TableRecords::default()
        };
        Records {
            domain: "banned".into(),
            tables: vec![
                table("emqx_banned", exact),
                table("emqx_banned_rules", rules),
            ],
            ..Records::default()
        }
    })
}

fn dedup(mut r: Records) -> Records {
    for t in &mut r.tables {
        let mut seen = std::collections::HashSet::new();
        t.records.retain(|rec| seen.insert(rec["who"].to_string()));
    }
    r
}

proptest! {
    #[test]
    fn decode_encode_round_trip(records in bans()) {
        check_round_trip::<Banned>(&dedup(records)).unwrap();
    }

    #[test]
    fn merge_is_idempotent_and_loses_nothing(a in bans(), b in bans()) {
        let options = Options::default();
        let a = Banned.encode(&dedup(a), &options).unwrap();
        let b = Banned.encode(&dedup(b), &options).unwrap();
        check_merge_laws::<Banned>(&a, &b).unwrap();
    }
}
