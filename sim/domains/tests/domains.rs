//! Authorization, bans, data integration, dashboard users, API keys, config roots and PSKs, and
//! an archive of a node seeded through these endpoints decoding through the plugins.

mod common;

use common::*;
use emqx_archive::{Contents, Edition, Limits};
use emqx_sim_store::{Caller, ExportOptions};
use erlang_term::Term;
use serde_json::{json, Value};

const RULES: &str = "/authorization/sources/built_in_database/rules";

fn qos_all() -> Term {
    t(vec![
        a("qos"),
        Term::List(vec![Term::Int(0), Term::Int(1), Term::Int(2)]),
    ])
}

#[tokio::test]
async fn authz_sources() {
    let s = ee58();
    assert_eq!(
        s.call("GET", "/authorization/sources", None).await.1,
        json!({"sources": []})
    );
    let r = s
        .call(
            "POST",
            "/authorization/sources",
            Some(json!({"type": "built_in_database", "enable": true})),
        )
        .await;
    assert_eq!(r.0, 204, "{:?}", r.1);
    let file = json!({"type": "file", "enable": true, "rules": "{allow, all}.\n"});
    assert_eq!(
        s.call("POST", "/authorization/sources", Some(file)).await.0,
        204
    );
    let list = s.call("GET", "/authorization/sources", None).await;
    let types: Vec<&str> = list.1["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["type"].as_str().unwrap())
        .collect();
    // POST prepends.
    assert_eq!(types, ["file", "built_in_database"]);
    assert_eq!(list.1["sources"][1]["max_rules"], 100);
    // The file source's rules become data/authz/acl.conf.
    assert_eq!(
        std::fs::read_to_string(s.node.info.data_dir.join("authz/acl.conf")).unwrap(),
        "{allow, all}.\n"
    );
    assert_error(
        &s.call(
            "POST",
            "/authorization/sources",
            Some(json!({"type": "file", "rules": ""})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "{duplicated_authz_source_type,file}",
    );
    assert_error(
        &s.call("GET", "/authorization/sources/http", None).await,
        404,
        "NOT_FOUND",
        "Not found: http",
    );
    assert_error(
        &s.call(
            "PUT",
            "/authorization/sources/file",
            Some(json!({"type": "http"})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "Type mismatch",
    );
    let r = s
        .call(
            "PUT",
            "/authorization/sources/built_in_database",
            Some(json!({"type": "built_in_database", "enable": false, "max_rules": 3})),
        )
        .await;
    assert_eq!(r.0, 204);
    let one = s
        .call("GET", "/authorization/sources/built_in_database", None)
        .await;
    assert_eq!(
        one.1,
        json!({"type": "built_in_database", "enable": false, "max_rules": 3})
    );
    assert_eq!(
        s.call("DELETE", "/authorization/sources/file", None)
            .await
            .0,
        204
    );
    // A file source given by path shows the file's text as `rules`.
    let acl = s.dir.path().join("acl.conf");
    std::fs::write(&acl, "{deny, all}.\n").unwrap();
    let by_path = json!({"type": "file", "path": acl.to_string_lossy()});
    assert_eq!(
        s.call("POST", "/authorization/sources", Some(by_path))
            .await
            .0,
        204
    );
    let shown = s.call("GET", "/authorization/sources/file", None).await;
    assert_eq!(
        shown.1,
        json!({"type": "file", "enable": true, "rules": "{deny, all}.\n"})
    );
    assert_eq!(
        s.call_as(
            viewer(),
            "DELETE",
            "/authorization/sources/built_in_database",
            None
        )
        .await
        .0,
        403
    );
}

fn rule_body() -> Value {
    json!([
        {"username": "u1", "rules": [
            {"topic": "t/1", "permission": "allow", "action": "publish", "qos": [0, 1], "retain": true},
            {"topic": "eq t/#", "permission": "deny", "action": "subscribe"}
        ]},
        {"username": "u2", "rules": [{"topic": "x", "permission": "allow", "action": "all"}]}
    ])
}

#[tokio::test]
async fn acl_rules_of_5_8() {
    let s = ee58();
    assert_error(
        &s.call("GET", &format!("{RULES}/users"), None).await,
        404,
        "NOT_FOUND",
        "Not found: built_in_database",
    );
    s.call(
        "POST",
        "/authorization/sources",
        Some(json!({"type": "built_in_database", "max_rules": 2})),
    )
    .await;

    assert_eq!(
        s.call("POST", &format!("{RULES}/users"), Some(rule_body()))
            .await
            .0,
        204
    );
    let row = s
        .get("emqx_acl", &t(vec![Term::Int(1), b("u1")]))
        .expect("row");
    assert_eq!(
        row,
        t(vec![
            a("emqx_acl"),
            t(vec![Term::Int(1), b("u1")]),
            Term::List(vec![
                t(vec![
                    a("allow"),
                    t(vec![
                        a("publish"),
                        Term::List(vec![
                            t(vec![a("qos"), Term::List(vec![Term::Int(0), Term::Int(1)])]),
                            t(vec![a("retain"), a("true")]),
                        ])
                    ]),
                    b("t/1"),
                ]),
                t(vec![
                    a("deny"),
                    t(vec![a("subscribe"), Term::List(vec![qos_all()])]),
                    t(vec![a("eq"), b("t/#")]),
                ]),
            ])
        ])
    );
    let list = s.call("GET", &format!("{RULES}/users?limit=1"), None).await;
    assert_eq!(
        list.1["meta"],
        json!({"page": 1, "limit": 1, "hasnext": true, "count": 2})
    );
    assert_eq!(
        list.1["data"][0]["rules"],
        json!([
            {"topic": "t/1", "permission": "allow", "action": "publish", "qos": [0, 1], "retain": true},
            {"topic": "eq t/#", "permission": "deny", "action": "subscribe", "qos": [0, 1, 2], "retain": "all"}
        ])
    );
    assert_error(
        &s.call(
            "POST",
            &format!("{RULES}/users"),
            Some(json!([{"username": "u2", "rules": []}])),
        )
        .await,
        409,
        "ALREADY_EXISTS",
        "User 'u2' already exist",
    );
    let three = Value::Array(vec![
        json!({"topic": "a", "permission": "allow", "action": "all"});
        3
    ]);
    assert_error(
        &s.call(
            "POST",
            &format!("{RULES}/users"),
            Some(json!([{"username": "u9", "rules": three}])),
        )
        .await,
        400,
        "BAD_REQUEST",
        "The rules length of User 'u9' exceeds the maximum limit.",
    );
    assert_error(
        &s.call(
            "PUT",
            &format!("{RULES}/users/u1"),
            Some(json!({"username": "u1", "rules": three})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "The rules length exceeds the maximum limit.",
    );
    let r = s
        .call("PUT", &format!("{RULES}/users/u3"), Some(json!({"username": "u3", "rules": [{"topic": "z", "permission": "deny", "action": "pub"}]})))
        .await;
    assert_eq!(r.0, 204);
    let one = s.call("GET", &format!("{RULES}/users/u3"), None).await;
    assert_eq!(
        one.1,
        json!({"username": "u3", "rules": [{"topic": "z", "permission": "deny", "action": "publish", "qos": [0, 1, 2], "retain": "all"}]})
    );
    assert_error(
        &s.call("GET", &format!("{RULES}/users/none"), None).await,
        404,
        "NOT_FOUND",
        "Not Found",
    );
    assert_error(
        &s.call("DELETE", &format!("{RULES}/users/none"), None).await,
        404,
        "NOT_FOUND",
        "Username Not Found",
    );
    assert_eq!(
        s.call("DELETE", &format!("{RULES}/users/u3"), None).await.0,
        204
    );
    let like = s
        .call("GET", &format!("{RULES}/users?like_username=2"), None)
        .await;
    assert_eq!(
        like.1["meta"],
        json!({"page": 1, "limit": 100, "hasnext": false})
    );
    assert_eq!(like.1["data"][0]["username"], "u2");

    // Clients.
    let r = s
        .call("POST", &format!("{RULES}/clients"), Some(json!([{"clientid": "c1", "rules": [{"topic": "c", "permission": "allow", "action": "all"}]}])))
        .await;
    assert_eq!(r.0, 204);
    assert!(s.get("emqx_acl", &t(vec![Term::Int(2), b("c1")])).is_some());
    assert_error(
        &s.call(
            "POST",
            &format!("{RULES}/clients"),
            Some(json!([{"clientid": "c1", "rules": []}])),
        )
        .await,
        409,
        "ALREADY_EXISTS",
        "Client 'c1' already exist",
    );
    assert_eq!(
        s.call("GET", &format!("{RULES}/clients"), None).await.1["data"][0]["clientid"],
        "c1"
    );
    assert_error(
        &s.call("DELETE", &format!("{RULES}/clients/c9"), None).await,
        404,
        "NOT_FOUND",
        "ClientID Not Found",
    );

    // All.
    assert_eq!(
        s.call("GET", &format!("{RULES}/all"), None).await.1,
        json!({"rules": []})
    );
    let r = s
        .call(
            "POST",
            &format!("{RULES}/all"),
            Some(json!({"rules": [{"topic": "#", "permission": "deny", "action": "all"}]})),
        )
        .await;
    assert_eq!(r.0, 204);
    assert_eq!(
        s.get("emqx_acl", &Term::Int(0)).unwrap(),
        t(vec![
            a("emqx_acl"),
            Term::Int(0),
            Term::List(vec![t(vec![
                a("deny"),
                t(vec![
                    a("all"),
                    Term::List(vec![qos_all(), t(vec![a("retain"), a("all")])])
                ]),
                b("#"),
            ])])
        ])
    );
    assert_eq!(s.call("DELETE", &format!("{RULES}/all"), None).await.0, 204);
    assert_eq!(
        s.get("emqx_acl", &Term::Int(0))
            .unwrap()
            .as_tuple()
            .unwrap()[2],
        Term::List(vec![])
    );

    // Purge only when the source is disabled.
    assert_error(
        &s.call("DELETE", RULES, None).await,
        400,
        "BAD_REQUEST",
        "'built_in_database' type source must be disabled before purge.",
    );
    s.call(
        "PUT",
        "/authorization/sources/built_in_database",
        Some(json!({"type": "built_in_database", "enable": false})),
    )
    .await;
    assert_eq!(s.call("DELETE", RULES, None).await.0, 204);
    assert!(s.scan("emqx_acl").is_empty());
    // Deleting the source clears the table (emqx_authz_mnesia:destroy/1).
    s.call(
        "PUT",
        "/authorization/sources/built_in_database",
        Some(json!({"type": "built_in_database"})),
    )
    .await;
    s.call("POST", &format!("{RULES}/users"), Some(rule_body()))
        .await;
    assert_eq!(
        s.call("DELETE", "/authorization/sources/built_in_database", None)
            .await
            .0,
        204
    );
    assert!(s.scan("emqx_acl").is_empty());
    assert_error(
        &s.call("DELETE", RULES, None).await,
        404,
        "BAD_REQUEST",
        "'built_in_database' type source is not found.",
    );
}

#[tokio::test]
async fn acl_rules_of_5_9_carry_who() {
    let s = sim("5.9.0", Edition::Ee);
    s.call(
        "POST",
        "/authorization/sources",
        Some(json!({"type": "built_in_database"})),
    )
    .await;
    let body = json!([{"username": "u1", "rules": [
        {"topic": "t/1", "permission": "allow", "action": "all"},
        {"topic": "t/2", "permission": "deny", "action": "publish", "clientid_re": "^c", "ipaddr": "10.0.0.0/8"}
    ]}]);
    assert_eq!(
        s.call("POST", &format!("{RULES}/users"), Some(body))
            .await
            .0,
        204
    );
    let row = s.get("emqx_acl", &t(vec![Term::Int(1), b("u1")])).unwrap();
    let rules = row.as_tuple().unwrap()[2].as_list().unwrap().to_vec();
    assert_eq!(rules[0].as_tuple().unwrap().len(), 4);
    assert_eq!(rules[0].as_tuple().unwrap()[1], a("all"));
    assert_eq!(
        rules[1].as_tuple().unwrap()[1],
        t(vec![
            a("and"),
            Term::List(vec![
                t(vec![a("ipaddr"), Term::charlist("10.0.0.0/8")]),
                t(vec![a("clientid"), t(vec![a("re"), b("^c")])]),
            ])
        ])
    );
    let got = s.call("GET", &format!("{RULES}/users/u1"), None).await;
    assert_eq!(got.1["rules"][1]["clientid_re"], "^c");
    assert_eq!(got.1["rules"][1]["ipaddr"], "10.0.0.0/8");
}

#[tokio::test]
async fn bans_of_every_kind() {
    let s = ee58();
    let cases = [
        (
            "clientid",
            "c1",
            "emqx_banned",
            t(vec![a("clientid"), b("c1")]),
            "c1",
        ),
        (
            "username",
            "u1",
            "emqx_banned",
            t(vec![a("username"), b("u1")]),
            "u1",
        ),
        (
            "peerhost",
            "10.0.0.1",
            "emqx_banned",
            t(vec![
                a("peerhost"),
                t(vec![
                    Term::Int(10),
                    Term::Int(0),
                    Term::Int(0),
                    Term::Int(1),
                ]),
            ]),
            "10.0.0.1",
        ),
        (
            "peerhost",
            "fe80::1",
            "emqx_banned",
            t(vec![
                a("peerhost"),
                t(vec![
                    Term::Int(0xfe80),
                    Term::Int(0),
                    Term::Int(0),
                    Term::Int(0),
                    Term::Int(0),
                    Term::Int(0),
                    Term::Int(0),
                    Term::Int(1),
                ]),
            ]),
            "fe80::1",
        ),
        (
            "clientid_re",
            "^dev-.*",
            "emqx_banned_rules",
            t(vec![a("clientid_re"), b("^dev-.*")]),
            "^dev-.*",
        ),
        (
            "username_re",
            "^bot[0-9]+$",
            "emqx_banned_rules",
            t(vec![a("username_re"), b("^bot[0-9]+$")]),
            "^bot[0-9]+$",
        ),
        (
            "peerhost_net",
            "192.168.7.9/16",
            "emqx_banned_rules",
            t(vec![
                a("peerhost_net"),
                t(vec![
                    t(vec![
                        Term::Int(192),
                        Term::Int(168),
                        Term::Int(0),
                        Term::Int(0),
                    ]),
                    t(vec![
                        Term::Int(192),
                        Term::Int(168),
                        Term::Int(255),
                        Term::Int(255),
                    ]),
                    Term::Int(16),
                ]),
            ]),
            "192.168.0.0/16",
        ),
    ];
    for (kind, who, table, key, shown) in &cases {
        let r = s
            .call("POST", "/banned", Some(json!({"as": kind, "who": who, "reason": "r", "at": 1700000000, "until": "2099-01-01T00:00:00Z"})))
            .await;
        assert_eq!(r.0, 200, "{kind}: {:?}", r.1);
        assert_eq!(r.1["as"], *kind);
        assert_eq!(r.1["who"], *shown);
        assert_eq!(r.1["by"], "mgmt_api");
        let row = s
            .get(table, key)
            .unwrap_or_else(|| panic!("{kind}: no row"));
        let items = row.as_tuple().unwrap();
        assert_eq!(items[0], a(table));
        assert_eq!(items[2], b("mgmt_api"));
        assert_eq!(items[3], b("r"));
        assert_eq!(items[4], Term::Int(1700000000));
        assert_eq!(items[5], Term::Int(4070908800));
    }
    let dup = s
        .call(
            "POST",
            "/banned",
            Some(json!({"as": "clientid", "who": "c1"})),
        )
        .await;
    assert_eq!(dup.0, 400);
    assert_eq!(dup.1["code"], "ALREADY_EXISTS");
    let old: Value = serde_json::from_str(dup.1["message"].as_str().unwrap()).unwrap();
    assert_eq!(old["who"], "c1");

    let expired = s
        .call(
            "POST",
            "/banned",
            Some(json!({"as": "clientid", "who": "c2", "at": 10, "until": 20})),
        )
        .await;
    assert_error(
        &expired,
        400,
        "BAD_REQUEST",
        "Cannot create expired banned, 10 to 20",
    );
    assert_error(
        &s.call(
            "POST",
            "/banned",
            Some(json!({"as": "peerhost", "who": "nope"})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "\"bad peerhost\"",
    );
    assert_eq!(
        s.call("POST", "/banned", Some(json!({"as": "ip", "who": "x"})))
            .await
            .0,
        400
    );
    let forever = s
        .call(
            "POST",
            "/banned",
            Some(json!({"as": "clientid", "who": "c3"})),
        )
        .await;
    assert_eq!(forever.1["until"], "infinity");
    assert_eq!(
        s.get("emqx_banned", &t(vec![a("clientid"), b("c3")]))
            .unwrap()
            .as_tuple()
            .unwrap()[5],
        a("infinity")
    );

    let all = s.call("GET", "/banned?limit=3", None).await;
    assert_eq!(all.1["meta"], json!({"page": 1, "limit": 3, "count": 8}));
    assert_eq!(all.1["data"].as_array().unwrap().len(), 3);
    let exact = s.call("GET", "/banned?peerhost=10.0.0.1", None).await;
    assert_eq!(
        exact.1["meta"],
        json!({"page": 1, "limit": 100, "hasnext": false, "count": 1})
    );
    let like = s.call("GET", "/banned?like_clientid=dev", None).await;
    assert_eq!(like.1["data"].as_array().unwrap().len(), 1, "{:?}", like.1);
    assert_eq!(like.1["data"][0]["as"], "clientid_re");
    let nets = s.call("GET", "/banned?like_peerhost_net=192", None).await;
    assert_eq!(nets.1["data"][0]["who"], "192.168.0.0/16");
    assert_error(
        &s.call("GET", "/banned?clientid=a&username=b", None).await,
        400,
        "BAD_REQUEST",
        "too_many_filters",
    );

    assert_eq!(
        s.call("DELETE", "/banned/peerhost_net/192.168.0.0%2F16", None)
            .await
            .0,
        204
    );
    assert_eq!(
        s.call("DELETE", "/banned/clientid_re/%5Edev-.%2A", None)
            .await
            .0,
        204
    );
    assert_eq!(
        s.call("DELETE", "/banned/peerhost/fe80%3A%3A1", None)
            .await
            .0,
        204
    );
    assert_error(
        &s.call("DELETE", "/banned/clientid/zz", None).await,
        404,
        "NOT_FOUND",
        "clientid: zz not found",
    );
    assert_eq!(s.scan("emqx_banned_rules").len(), 1);
    // A 5.x row keyed by `{Compiled, Pattern}` (from a real archive) is found by its pattern.
    let legacy_who = t(vec![
        a("username_re"),
        t(vec![t(vec![a("re_pattern"), Term::Int(0)]), b("^old")]),
    ]);
    let legacy = t(vec![
        a("emqx_banned_rules"),
        legacy_who,
        b("x"),
        b(""),
        Term::Int(1),
        a("infinity"),
    ]);
    s.node
        .store
        .write(|tx| tx.put("emqx_banned_rules", &legacy))
        .unwrap();
    let found = s.call("GET", "/banned?like_username=old", None).await;
    assert_eq!(found.1["data"][0]["who"], "^old");
    assert_eq!(
        s.call(
            "POST",
            "/banned",
            Some(json!({"as": "username_re", "who": "^old"}))
        )
        .await
        .1["code"],
        "ALREADY_EXISTS"
    );
    assert_eq!(
        s.call("DELETE", "/banned/username_re/%5Eold", None).await.0,
        204
    );
    assert_eq!(s.scan("emqx_banned_rules").len(), 1);
    assert_eq!(s.call_as(viewer(), "DELETE", "/banned", None).await.0, 403);
    assert_eq!(s.call("DELETE", "/banned", None).await.0, 204);
    assert!(s.scan("emqx_banned").is_empty() && s.scan("emqx_banned_rules").is_empty());
}

#[tokio::test]
async fn rules_connectors_actions_sources() {
    let s = ee58();
    let conn = json!({"type": "http", "name": "web", "url": "http://127.0.0.1:8080", "headers": {"x": "y"}});
    let r = s.call("POST", "/connectors", Some(conn)).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    assert_eq!(r.1["type"], "http");
    assert_eq!(r.1["status"], "connected");
    assert_eq!(
        s.config("connectors"),
        Some(json!({"http": {"web": {"url": "http://127.0.0.1:8080", "headers": {"x": "y"}}}}))
    );
    assert_error(
        &s.call(
            "POST",
            "/connectors",
            Some(json!({"type": "http", "name": "web"})),
        )
        .await,
        400,
        "ALREADY_EXISTS",
        "connector already exists",
    );
    assert_error(
        &s.call("GET", "/connectors/http:nope", None).await,
        404,
        "NOT_FOUND",
        "Connector lookup failed: connector named 'nope' of type http does not exist.",
    );
    assert_error(
        &s.call("GET", "/connectors/bad", None).await,
        404,
        "NOT_FOUND",
        "Invalid connector ID, should be of pattern {type}:{name}, but got: bad",
    );
    let r = s
        .call(
            "PUT",
            "/connectors/http%3Aweb",
            Some(json!({"url": "http://127.0.0.1:9090", "password": "pw"})),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["password"], "******");
    // Secrets sent back redacted keep their stored value.
    s.call(
        "PUT",
        "/connectors/http:web",
        Some(json!({"url": "http://h", "password": "******"})),
    )
    .await;
    assert_eq!(
        s.config("connectors").unwrap()["http"]["web"]["password"],
        "pw"
    );

    let action =
        json!({"type": "http", "name": "post1", "connector": "web", "parameters": {"path": "/x"}});
    assert_eq!(s.call("POST", "/actions", Some(action)).await.0, 201);
    let missing = s
        .call(
            "POST",
            "/actions",
            Some(json!({"type": "http", "name": "post2", "connector": "ghost"})),
        )
        .await;
    assert_eq!(missing.0, 400);
    assert_eq!(
        missing.1["message"]["reason"],
        "connector_not_found_or_wrong_type"
    );
    let source =
        json!({"type": "mqtt", "name": "in1", "connector": "web", "parameters": {"topic": "t/#"}});
    assert_eq!(s.call("POST", "/sources", Some(source)).await.0, 201);
    assert_eq!(
        s.call("GET", "/sources", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let rule = json!({"id": "r1", "sql": "SELECT * FROM \"t/#\", \"$bridges/mqtt:in1\"", "actions": ["http:post1"], "description": "d"});
    let r = s.call("POST", "/rules", Some(rule.clone())).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    assert_eq!(r.1["from"], json!(["t/#", "$bridges/mqtt:in1"]));
    assert_eq!(r.1["enable"], true);
    let stored = s.config("rule_engine").unwrap()["rules"]["r1"].clone();
    assert_eq!(stored["sql"], rule["sql"]);
    assert!(stored["metadata"]["created_at"].as_i64().unwrap() > 0);
    assert_error(
        &s.call("POST", "/rules", Some(rule)).await,
        400,
        "BAD_REQUEST",
        "rule id already exists",
    );
    assert_error(
        &s.call("POST", "/rules", Some(json!({"id": "", "sql": "x"})))
            .await,
        400,
        "BAD_REQUEST",
        "empty rule id is not allowed",
    );
    let gen = s
        .call(
            "POST",
            "/rules",
            Some(json!({"sql": "SELECT 1 FROM \"a\""})),
        )
        .await;
    assert_eq!(gen.0, 201);
    assert_eq!(gen.1["id"].as_str().unwrap().len(), 8);
    let list = s.call("GET", "/rules", None).await;
    assert_eq!(list.1["meta"]["count"], 2);
    let r = s
        .call(
            "PUT",
            "/rules/r1",
            Some(json!({"sql": "SELECT * FROM \"t/1\"", "enable": false})),
        )
        .await;
    assert_eq!(r.0, 200);
    assert_eq!(r.1["enable"], false);
    assert_error(
        &s.call("GET", "/rules/none", None).await,
        404,
        "NOT_FOUND",
        "Rule Id Not Found",
    );

    // Dependencies.
    s.call(
        "PUT",
        "/rules/r1",
        Some(json!({"sql": "SELECT * FROM \"t/1\"", "actions": ["http:post1"]})),
    )
    .await;
    let dep = s.call("DELETE", "/actions/http:post1", None).await;
    assert_eq!(dep.0, 400);
    assert_eq!(dep.1["rules"], json!(["r1"]));
    let conn_dep = s.call("DELETE", "/connectors/http:web", None).await;
    assert_eq!(conn_dep.0, 400);
    assert_eq!(
        s.call(
            "DELETE",
            "/actions/http:post1?also_delete_dep_actions=true",
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        s.config("rule_engine").unwrap()["rules"]["r1"]["actions"],
        json!([])
    );
    assert_eq!(s.call("DELETE", "/sources/mqtt:in1", None).await.0, 204);
    assert_eq!(
        s.call("PUT", "/connectors/http:web/enable/false", None)
            .await
            .0,
        204
    );
    assert_eq!(
        s.call("GET", "/connectors/http:web", None).await.1["status"],
        "stopped"
    );
    assert_eq!(s.call("DELETE", "/connectors/http:web", None).await.0, 204);
    assert_eq!(s.call("DELETE", "/rules/r1", None).await.0, 204);
    assert_eq!(s.call("GET", "/connectors", None).await.1, json!([]));
}

#[tokio::test]
async fn dashboard_users() {
    let s = ee58();
    let r = s
        .call("POST", "/users", Some(json!({"username": "ops", "password": "ops-pass1", "role": "viewer", "description": "d"})))
        .await;
    assert_eq!(
        r,
        (
            axum::http::StatusCode::OK,
            json!({"username": "ops", "description": "d", "role": "viewer", "backend": "local"})
        )
    );
    let row = s.get("emqx_admin", &b("ops")).unwrap();
    let items = row.as_tuple().unwrap();
    assert_eq!(items[0], a("emqx_admin"));
    let hash = items[2].as_binary().unwrap();
    assert_eq!(hash.len(), 36, "the legacy 5.x pwdhash");
    assert!(emqx_passwd::dashboard::verify(b"ops-pass1", hash));
    assert_eq!(items[3], b("d"));
    assert_eq!(items[4], b("viewer"));
    assert_eq!(items[5], Term::Map(vec![]));

    assert_error(
        &s.call(
            "POST",
            "/users",
            Some(json!({"username": "ops", "password": "ops-pass1"})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "username_already_exists",
    );
    assert_error(
        &s.call(
            "POST",
            "/users",
            Some(json!({"username": "x", "password": "short"})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "The range of password length is 8~64",
    );
    assert_error(
        &s.call(
            "POST",
            "/users",
            Some(json!({"username": "x", "password": ""})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "Username or password undefined",
    );
    assert_error(
        &s.call(
            "POST",
            "/users",
            Some(json!({"username": "x", "password": "pass-word1", "role": "boss"})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "Role does not exist",
    );
    let list = s.call("GET", "/users", None).await;
    let names: Vec<&str> = list
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "ops"]);

    let r = s
        .call(
            "PUT",
            "/users/ops",
            Some(json!({"role": "administrator", "description": "x"})),
        )
        .await;
    assert_eq!(r.1["role"], "administrator");
    assert_error(
        &s.call("PUT", "/users/ghost", Some(json!({"description": ""})))
            .await,
        404,
        "USER_NOT_FOUND",
        "username_not_found",
    );

    let me = Caller::Dashboard {
        username: "ops".into(),
        role: "viewer".into(),
    };
    assert_error(
        &s.call_as(
            me.clone(),
            "POST",
            "/users/ops/change_pwd",
            Some(json!({"old_pwd": "bad-pass1", "new_pwd": "new-pass1"})),
        )
        .await,
        400,
        "ERROR_PWD_NOT_MATCH",
        "Old password not match",
    );
    // A viewer may change their own password.
    assert_eq!(
        s.call_as(
            me.clone(),
            "POST",
            "/users/ops/change_pwd",
            Some(json!({"old_pwd": "ops-pass1", "new_pwd": "new-pass1"}))
        )
        .await
        .0,
        204
    );
    let hash = s.get("emqx_admin", &b("ops")).unwrap().as_tuple().unwrap()[2].clone();
    assert!(emqx_passwd::dashboard::verify(
        b"new-pass1",
        hash.as_binary().unwrap()
    ));
    assert_error(
        &s.call(
            "POST",
            "/users/ghost/change_pwd",
            Some(json!({"old_pwd": "a", "new_pwd": "b"})),
        )
        .await,
        404,
        "USER_NOT_FOUND",
        "User not found",
    );
    assert_error(
        &s.call("DELETE", "/users/admin", None).await,
        400,
        "NOT_ALLOWED",
        "Cannot delete user <<\"admin\">>",
    );
    let admin_ops = Caller::Dashboard {
        username: "ops".into(),
        role: "administrator".into(),
    };
    assert_error(
        &s.call_as(admin_ops, "DELETE", "/users/ops", None).await,
        400,
        "NOT_ALLOWED",
        "Cannot delete self",
    );
    assert_eq!(
        s.call_as(viewer(), "DELETE", "/users/ops", None).await.0,
        403
    );
    assert_eq!(s.call("DELETE", "/users/ops", None).await.0, 204);
    assert_error(
        &s.call("DELETE", "/users/ops", None).await,
        404,
        "USER_NOT_FOUND",
        "username_not_found",
    );

    // CE shows neither role nor backend, and knows only administrators.
    let ce = sim("5.8.6", Edition::Ce);
    let r = ce
        .call(
            "POST",
            "/users",
            Some(json!({"username": "ops", "password": "ops-pass1"})),
        )
        .await;
    assert_eq!(r.1, json!({"username": "ops", "description": ""}));
    assert_eq!(
        ce.call(
            "POST",
            "/users",
            Some(json!({"username": "v", "password": "ops-pass1", "role": "viewer"}))
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn api_keys() {
    let s = ee58();
    let r = s
        .call(
            "POST",
            "/api_key",
            Some(json!({"name": "test", "desc": "note", "enable": true, "role": "viewer"})),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(
        r.1["api_key"], "ee26b0dd4af7e749",
        "the 5.x derivation from the name"
    );
    assert_eq!(r.1["expired_at"], "infinity");
    assert_eq!(r.1["expired"], false);
    assert_eq!(r.1["role"], "viewer");
    let secret = r.1["api_secret"].as_str().unwrap().to_owned();
    let row = s.get("emqx_app", &b("test")).unwrap();
    let items = row.as_tuple().unwrap();
    assert_eq!(items.len(), 8);
    assert_eq!(items[0], a("emqx_app"));
    assert_eq!(items[2], b("ee26b0dd4af7e749"));
    let hash = items[3].as_binary().unwrap();
    assert_eq!(hash.len(), 36);
    assert!(emqx_passwd::dashboard::verify(secret.as_bytes(), hash));
    assert_eq!(items[4], a("true"));
    assert_eq!(
        items[5],
        Term::Map(vec![(a("desc"), b("note")), (a("role"), b("viewer"))])
    );
    assert_eq!(items[6], a("infinity"));
    assert!(items[7].as_i64().unwrap() > 1_700_000_000);

    assert_error(
        &s.call("POST", "/api_key", Some(json!({"name": "test"})))
            .await,
        400,
        "BAD_REQUEST",
        "name_already_existed",
    );
    assert_eq!(
        s.call("POST", "/api_key", Some(json!({"name": "1bad"})))
            .await
            .0,
        400
    );
    assert_error(
        &s.call(
            "POST",
            "/api_key",
            Some(json!({"name": "k2", "role": "boss"})),
        )
        .await,
        400,
        "BAD_REQUEST",
        "<<\"Role does not exist\">>",
    );
    let got = s.call("GET", "/api_key/test", None).await;
    assert!(got.1.get("api_secret").is_none());
    assert_eq!(got.1["desc"], "note");
    let r = s
        .call(
            "PUT",
            "/api_key/test",
            Some(json!({"enable": false, "expired_at": 4070908800i64})),
        )
        .await;
    assert_eq!(r.1["enable"], false);
    assert_eq!(
        r.1["role"], "administrator",
        "EMQX resets a role the body leaves out"
    );
    assert_eq!(r.1["desc"], "note");
    assert_eq!(
        s.get("emqx_app", &b("test")).unwrap().as_tuple().unwrap()[6],
        Term::Int(4070908800)
    );
    assert_eq!(
        s.call("GET", "/api_key", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_error(
        &s.call("GET", "/api_key/none", None).await,
        404,
        "NOT_FOUND",
        "Name NOT FOUND",
    );
    assert_eq!(s.call("DELETE", "/api_key/test", None).await.0, 204);
    assert_error(
        &s.call("DELETE", "/api_key/test", None).await,
        404,
        "NOT_FOUND",
        "Name NOT FOUND",
    );

    // 6.x keys are random; 6.3 hashes secrets with PBKDF2.
    let s6 = sim("6.3.0", Edition::Ee);
    let r = s6
        .call("POST", "/api_key", Some(json!({"name": "test"})))
        .await;
    assert_ne!(r.1["api_key"], "ee26b0dd4af7e749");
    let hash = s6.get("emqx_app", &b("test")).unwrap().as_tuple().unwrap()[3].clone();
    assert!(hash.as_binary().unwrap().starts_with(b"$1$1$"));
    assert!(emqx_passwd::dashboard::verify(
        r.1["api_secret"].as_str().unwrap().as_bytes(),
        hash.as_binary().unwrap()
    ));
}

#[tokio::test]
async fn config_roots_listeners_and_psk() {
    let s = ee58();
    assert_eq!(s.call("GET", "/configs/mqtt", None).await.0, 404);
    let mqtt = json!({"max_packet_size": "2MB", "retain_available": true});
    let r = s.call("PUT", "/configs/mqtt", Some(mqtt.clone())).await;
    assert_eq!(r, (axum::http::StatusCode::OK, mqtt.clone()));
    assert_eq!(s.call("GET", "/configs/mqtt", None).await.1, mqtt);
    assert_eq!(s.call("GET", "/configs", None).await.1["mqtt"], mqtt);
    assert_eq!(
        s.call("PUT", "/configs/Bad-Root", Some(json!({}))).await.0,
        400
    );

    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let listeners = json!({"ssl": {"default": {"bind": "0.0.0.0:8883", "ssl_options": {"certfile": pem, "password": "x"}}}});
    assert_eq!(
        s.call("PUT", "/configs/listeners", Some(listeners)).await.0,
        200
    );
    let l = s.call("GET", "/listeners/ssl:default", None).await;
    assert_eq!(l.1["id"], "ssl:default");
    // As EMQX's handlers do, the inline PEM moved to a file under data/certs.
    let certfile = l.1["ssl_options"]["certfile"].as_str().unwrap().to_owned();
    assert!(
        certfile.contains("/certs/listeners/ssl/default/cert-"),
        "{certfile}"
    );
    assert_eq!(std::fs::read_to_string(&certfile).unwrap(), pem);
    assert_eq!(l.1["ssl_options"]["password"], "******");
    let r = s
        .call("PUT", "/listeners/ssl:default", Some(json!({"bind": "0.0.0.0:9883", "ssl_options": {"certfile": pem, "password": "******"}})))
        .await;
    assert_eq!(r.0, 200);
    assert_eq!(
        s.config("listeners").unwrap()["ssl"]["default"]["ssl_options"]["password"],
        "x"
    );
    assert_eq!(s.call("GET", "/listeners/tcp:none", None).await.0, 404);

    // PSK: the init file is loaded when the root is set with enable = true.
    let file = s.dir.path().join("psk.txt");
    std::fs::write(&file, "id1:secret1\nid2:se:cret2\r\n").unwrap();
    let psk = json!({"enable": true, "init_file": file.to_string_lossy(), "separator": ":", "chunk_size": 1});
    assert_eq!(
        s.call("PUT", "/configs/psk_authentication", Some(psk))
            .await
            .0,
        200
    );
    assert_eq!(
        s.scan("emqx_psk"),
        vec![
            t(vec![a("emqx_psk"), b("id1"), b("secret1"), a("undefined")]),
            t(vec![a("emqx_psk"), b("id2"), b("se:cret2"), a("undefined")]),
        ]
    );
    // A malformed line: the chunks before it stay.
    std::fs::write(&file, "id3:s3\nbroken\nid4:s4\n").unwrap();
    let psk = json!({"enable": true, "init_file": file.to_string_lossy(), "chunk_size": 1});
    s.call("PUT", "/configs/psk_authentication", Some(psk))
        .await;
    assert!(s.get("emqx_psk", &b("id3")).is_some());
    assert!(s.get("emqx_psk", &b("id4")).is_none());
    assert_eq!(
        s.call_as(viewer(), "PUT", "/configs/mqtt", Some(json!({})))
            .await
            .0,
        403
    );
}

fn is_raw(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key("term"))
}

/// Seeds every domain through the endpoints, exports, and decodes the archive through the
/// plugins: every record reads as the plugins' readable JSON, none falls back to raw terms.
#[tokio::test]
async fn exported_archive_decodes_through_the_plugins() {
    for version in ["5.8.6", "5.9.0"] {
        let s = sim(version, Edition::Ee);
        let ok = |r: Reply| assert!(r.0.is_success(), "{version}: {:?}", r);
        ok(s.call(
            "POST",
            "/authentication",
            Some(
                json!({"mechanism": "password_based", "backend": "built_in_database",
            "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}),
            ),
        )
        .await);
        ok(s.call(
            "POST",
            "/authentication",
            Some(json!({"mechanism": "scram", "backend": "built_in_database"})),
        )
        .await);
        ok(s.call(
            "POST",
            "/authentication/password_based:built_in_database/users",
            Some(json!({"user_id": "u1", "password": "p1"})),
        )
        .await);
        ok(s.call(
            "POST",
            "/authentication/scram:built_in_database/users",
            Some(json!({"user_id": "s1", "password": "p1"})),
        )
        .await);
        ok(s.call(
            "POST",
            "/authorization/sources",
            Some(json!({"type": "built_in_database"})),
        )
        .await);
        ok(s.call(
            "POST",
            &format!("{RULES}/users"),
            Some(json!([{"username": "u1", "rules": [
            {"topic": "t/1", "permission": "allow", "action": "all", "username_re": "^u"},
            {"topic": "eq t/#", "permission": "deny", "action": "subscribe", "qos": [2]}]}])),
        )
        .await);
        ok(s.call(
            "POST",
            &format!("{RULES}/clients"),
            Some(json!([{"clientid": "c1", "rules": [
            {"topic": "c/#", "permission": "allow", "action": "publish", "retain": false}]}])),
        )
        .await);
        ok(s.call(
            "POST",
            &format!("{RULES}/all"),
            Some(json!({"rules": [{"topic": "#", "permission": "deny", "action": "all"}]})),
        )
        .await);
        for (kind, who) in [
            ("clientid", "c1"),
            ("username", "u1"),
            ("peerhost", "10.0.0.1"),
            ("clientid_re", "^x"),
            ("username_re", "^y"),
            ("peerhost_net", "10.1.0.0/16"),
        ] {
            ok(
                s.call("POST", "/banned", Some(json!({"as": kind, "who": who})))
                    .await,
            );
        }
        ok(s.call(
            "POST",
            "/users",
            Some(json!({"username": "ops", "password": "ops-pass1", "role": "viewer"})),
        )
        .await);
        ok(
            s.call("POST", "/api_key", Some(json!({"name": "k1", "desc": "d"})))
                .await,
        );
        ok(s.call(
            "POST",
            "/connectors",
            Some(json!({"type": "http", "name": "c", "url": "http://h"})),
        )
        .await);
        ok(s.call(
            "POST",
            "/actions",
            Some(json!({"type": "http", "name": "a", "connector": "c", "parameters": {}})),
        )
        .await);
        ok(s.call(
            "POST",
            "/rules",
            Some(json!({"id": "r", "sql": "SELECT * FROM \"t\"", "actions": ["http:a"]})),
        )
        .await);
        let file = s.dir.path().join("psk.txt");
        std::fs::write(&file, "p1:s1\n").unwrap();
        ok(s.call(
            "PUT",
            "/configs/psk_authentication",
            Some(json!({"enable": true, "init_file": file.to_string_lossy()})),
        )
        .await);

        let path = s
            .node
            .export(&ExportOptions::default(), &mut |_| {})
            .expect("export");
        let contents = Contents::read(&path, &Limits::default()).expect("archive reads");
        let config = contents.config.clone().unwrap_or_default();
        assert_eq!(
            config["rule_engine"]["rules"]["r"]["actions"],
            json!(["http:a"])
        );
        assert!(config.contains_key("authentication") && config.contains_key("connectors"));
        let split = emqx_backup_plugin_host::split(&s.node.plugins, contents);
        let mut tables = std::collections::BTreeMap::new();
        for (plugin, section) in s.node.plugins.plugins.iter().zip(&split.sections) {
            let records = plugin
                .decode(section, &emqx_backup_plugin_sdk::Options::default())
                .unwrap_or_else(|e| panic!("{version}: {}: {e}", plugin.name()));
            for table in records.tables {
                for r in &table.records {
                    assert!(
                        !is_raw(r),
                        "{version}: {}: unreadable record {r}",
                        table.table
                    );
                    if let Some(rules) = r.get("rules").and_then(Value::as_array) {
                        assert!(
                            rules.iter().all(|x| !is_raw(x)),
                            "{version}: unreadable rule in {r}"
                        );
                    }
                }
                tables.insert(table.table.clone(), table.records.clone());
            }
        }
        let count = |t: &str| tables.get(t).map_or(0, Vec::len);
        assert_eq!(count("emqx_authn_mnesia"), 1, "{version}");
        assert_eq!(count("emqx_authn_scram_mnesia"), 1);
        assert_eq!(count("emqx_acl"), 3);
        assert_eq!(count("emqx_banned"), 3);
        assert_eq!(count("emqx_banned_rules"), 3);
        assert_eq!(count("emqx_admin"), 2);
        assert_eq!(count("emqx_app"), 1);
        assert_eq!(count("emqx_psk"), 1);
        let user = &tables["emqx_authn_mnesia"][0];
        assert_eq!(user["user_group"], "mqtt:global");
        assert_eq!(user["user_id"], "u1");
        let acl_u1 = tables["emqx_acl"]
            .iter()
            .find(|r| r["who"] == json!({"username": "u1"}))
            .unwrap();
        let has_who = acl_u1["rules"][0].get("who").is_some();
        assert_eq!(has_who, version == "5.9.0", "{version}: {acl_u1}");
        assert_eq!(tables["emqx_psk"][0]["extra"], Value::Null);
    }
}
