//! What every plugin's tests show: the codec round trip and the laws of merge.

use emqx_backup_plugin_sdk::domain::Domain;
use emqx_backup_plugin_sdk::select::view_of;
use emqx_backup_plugin_sdk::testing::{check_merge_laws, check_round_trip};
use emqx_backup_plugin_sdk::{Options, Records, SectionOut, TableRecords};
use plugin_template::Namespaces;
use proptest::prelude::*;
use serde_json::json;

fn records(namespaces: &[(String, i64)]) -> Records {
    let mut seen = std::collections::HashSet::new();
    let rows = namespaces
        .iter()
        .filter(|(ns, _)| seen.insert(ns.clone()))
        .map(|(ns, max)| {
            json!({
                "namespace": ns,
                "configs": {"map": [[{"atom": "session"}, {"map": [[{"atom": "max_sessions"}, max]]}]]},
                "extra": {"map": []},
            })
        })
        .collect();
    Records {
        domain: "mt".into(),
        tables: vec![TableRecords {
            table: "emqx_mt_config".into(),
            records: rows,
            ..TableRecords::default()
        }],
        ..Records::default()
    }
}

#[test]
fn readable_records_and_plan() {
    let options = Options::default();
    let a = Namespaces
        .encode(&records(&[("ns1".into(), 10)]), &options)
        .unwrap();
    let b = Namespaces
        .encode(&records(&[("ns1".into(), 20), ("ns2".into(), 5)]), &options)
        .unwrap();
    let decoded = Namespaces.decode(&view_of(&b), &options).unwrap();
    assert_eq!(decoded.tables[0].records[0]["namespace"], "ns1");
    let plan = Namespaces
        .merge(&view_of(&a), &view_of(&b), &options)
        .unwrap()
        .plan;
    assert_eq!(plan.scopes[0].insert, ["ns2"]);
    assert_eq!(plan.scopes[0].update, ["ns1"]);
    let empty = SectionOut::default();
    assert!(Namespaces.validate(&view_of(&empty), &options).is_empty());
}

proptest! {
    #[test]
    fn round_trip(ns in prop::collection::vec(("[a-z]{1,6}", 0i64..1000), 0..8)) {
        check_round_trip::<Namespaces>(&records(&ns)).unwrap();
    }

    #[test]
    fn merge_laws(a in prop::collection::vec(("[a-z]{1,3}", 0i64..3), 0..8),
                  b in prop::collection::vec(("[a-z]{1,3}", 0i64..3), 0..8)) {
        let o = Options::default();
        check_merge_laws::<Namespaces>(
            &Namespaces.encode(&records(&a), &o).unwrap(),
            &Namespaces.encode(&records(&b), &o).unwrap(),
        ).unwrap();
    }
}
