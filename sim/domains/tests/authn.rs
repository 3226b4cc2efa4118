//! Authenticators, built-in database users of every hash algorithm, SCRAM users and bulk
//! imports, as EMQX 5.8 answers and stores them.

mod common;

use common::*;
use emqx_archive::Edition;
use erlang_term::Term;
use serde_json::{json, Value};

const PW: &str = "/authentication/password_based:built_in_database";
const PW_ENC: &str = "/authentication/password_based%3Abuilt_in_database";
const SCRAM: &str = "/authentication/scram:built_in_database";

fn pw_authenticator(alg: Value) -> Value {
    json!({
        "mechanism": "password_based",
        "backend": "built_in_database",
        "user_id_type": "username",
        "password_hash_algorithm": alg,
    })
}

fn user_key(user: &str) -> Term {
    t(vec![a("mqtt:global"), b(user)])
}

#[tokio::test]
async fn authenticator_configs() {
    let s = ee58();
    let r = s.call("GET", "/authentication", None).await;
    assert_eq!(r, (axum::http::StatusCode::OK, json!([])));

    let r = s
        .call(
            "POST",
            "/authentication",
            Some(pw_authenticator(
                json!({"name": "sha256", "salt_position": "suffix"}),
            )),
        )
        .await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    assert_eq!(r.1["id"], "password_based:built_in_database");
    assert_eq!(r.1["enable"], true);
    // Stored as given (EMQX keeps the raw config without defaults).
    assert_eq!(
        s.config("authentication"),
        Some(json!([pw_authenticator(
            json!({"name": "sha256", "salt_position": "suffix"})
        )]))
    );

    let dup = s
        .call(
            "POST",
            "/authentication",
            Some(pw_authenticator(json!({"name": "md5"}))),
        )
        .await;
    assert_error(
        &dup,
        409,
        "ALREADY_EXISTS",
        "Authenticator 'password_based:built_in_database' already exist",
    );

    let bad = s
        .call(
            "POST",
            "/authentication",
            Some(
                json!({"mechanism": "password_based", "backend": "built_in_database",
                        "password_hash_algorithm": {"name": "pbkdf2", "iterations": 10}}),
            ),
        )
        .await;
    assert_eq!(bad.0, 400);
    assert!(
        bad.1["message"].as_str().unwrap().contains("mac_fun"),
        "{:?}",
        bad.1
    );

    let unknown = s
        .call(
            "POST",
            "/authentication",
            Some(json!({"mechanism": "password_based", "backend": "nope"})),
        )
        .await;
    assert_eq!(unknown.0, 400);

    let scram = s
        .call(
            "POST",
            "/authentication",
            Some(json!({"mechanism": "scram", "backend": "built_in_database", "algorithm": "sha512"})),
        )
        .await;
    assert_eq!(scram.0, 200);
    assert_eq!(scram.1["iteration_count"], 4096);

    let list = s.call("GET", "/authentication", None).await;
    let ids: Vec<&str> = list
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "password_based:built_in_database",
            "scram:built_in_database"
        ]
    );

    let one = s.call("GET", PW_ENC, None).await;
    assert_eq!(one.0, 200);
    assert_eq!(one.1["password_hash_algorithm"]["salt_position"], "suffix");
    assert_error(
        &s.call("GET", "/authentication/jwt", None).await,
        404,
        "NOT_FOUND",
        "Authenticator 'jwt' does not exist",
    );

    let upd = s
        .call(
            "PUT",
            PW,
            Some(pw_authenticator(
                json!({"name": "sha512", "salt_position": "prefix"}),
            )),
        )
        .await;
    assert_eq!(upd.0, 204, "{:?}", upd.1);
    assert_eq!(
        s.config("authentication").unwrap()[0]["password_hash_algorithm"]["name"],
        "sha512"
    );
    let change = s
        .call(
            "PUT",
            PW,
            Some(json!({"mechanism": "password_based", "backend": "mysql"})),
        )
        .await;
    assert_error(
        &change,
        400,
        "BAD_REQUEST",
        "Change of authentication type is not allowed",
    );

    // Deleting an authenticator deletes its users (the provider's destroy/1).
    let r = s
        .call(
            "POST",
            &format!("{PW}/users"),
            Some(json!({"user_id": "u1", "password": "p"})),
        )
        .await;
    assert_eq!(r.0, 201);
    assert_eq!(s.call("DELETE", PW, None).await.0, 204);
    assert!(s.scan("emqx_authn_mnesia").is_empty());
    assert_error(
        &s.call("DELETE", PW, None).await,
        404,
        "NOT_FOUND",
        "Authenticator 'password_based:built_in_database' does not exist",
    );

    let denied = s
        .call_as(
            viewer(),
            "POST",
            "/authentication",
            Some(pw_authenticator(json!({"name": "md5"}))),
        )
        .await;
    assert_eq!(denied.0, 403);
    assert_eq!(denied.1["code"], "FORBIDDEN");
}

/// Every `password_hash_algorithm`: rows that `emqx_passwd::verify` accepts with the right
/// password and refuses with a wrong one, salts as EMQX generates them.
#[tokio::test]
async fn users_of_every_hash_algorithm() {
    let s = ee58();
    let mut algs = Vec::new();
    for name in ["plain", "md5", "sha", "sha256", "sha512"] {
        for pos in ["prefix", "suffix", "disable"] {
            algs.push(json!({"name": name, "salt_position": pos}));
        }
    }
    algs.push(json!({"name": "pbkdf2", "mac_fun": "sha256", "iterations": 1000, "dk_length": 32}));
    algs.push(json!({"name": "pbkdf2", "mac_fun": "sha512", "iterations": 10}));
    algs.push(json!({"name": "pbkdf2", "mac_fun": "md5", "iterations": 10, "dk_length": 16}));
    algs.push(json!({"name": "bcrypt", "salt_rounds": 5}));
    for alg_json in algs {
        let _ = s.call("DELETE", PW, None).await;
        let r = s
            .call(
                "POST",
                "/authentication",
                Some(pw_authenticator(alg_json.clone())),
            )
            .await;
        assert_eq!(r.0, 200, "{alg_json}: {:?}", r.1);
        let alg = emqx_passwd::Algorithm::from_config(&alg_json).unwrap();
        let r = s
            .call(
                "POST",
                &format!("{PW}/users"),
                Some(json!({"user_id": "alice", "password": "p@ss-1", "is_superuser": true})),
            )
            .await;
        assert_eq!(r.0, 201, "{alg_json}: {:?}", r.1);
        assert_eq!(r.1, json!({"user_id": "alice", "is_superuser": true}));
        let row = s
            .get("emqx_authn_mnesia", &user_key("alice"))
            .expect("row stored");
        let [tag, key, hash, salt, superuser] = row.as_tuple().unwrap() else {
            panic!("{alg_json}: row {row}");
        };
        assert_eq!(tag, &a("emqx_authn_mnesia"));
        assert_eq!(key, &user_key("alice"));
        assert_eq!(superuser, &a("true"));
        let (hash, salt) = (hash.as_binary().unwrap(), salt.as_binary().unwrap());
        assert!(
            emqx_passwd::verify(&alg, "p@ss-1", hash, salt),
            "{alg_json}: {row}"
        );
        assert!(
            !emqx_passwd::verify(&alg, "wrong", hash, salt),
            "{alg_json}"
        );
        match alg_json["name"].as_str().unwrap() {
            "bcrypt" => assert_eq!(hash, salt),
            "plain" => {
                assert!(salt.is_empty() || alg_json["salt_position"] != "disable");
            }
            _ if alg_json["salt_position"] == "disable" => assert!(salt.is_empty()),
            _ => {
                assert_eq!(salt.len(), 32, "{alg_json}");
                assert!(salt
                    .iter()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            }
        }
        // A new password through PUT verifies, the old one no longer does.
        let r = s
            .call(
                "PUT",
                &format!("{PW}/users/alice"),
                Some(json!({"password": "n3w-pass"})),
            )
            .await;
        assert_eq!(
            r,
            (
                axum::http::StatusCode::OK,
                json!({"user_id": "alice", "is_superuser": true})
            )
        );
        let row = s.get("emqx_authn_mnesia", &user_key("alice")).unwrap();
        let items = row.as_tuple().unwrap();
        let (hash, salt) = (items[2].as_binary().unwrap(), items[3].as_binary().unwrap());
        assert!(
            emqx_passwd::verify(&alg, "n3w-pass", hash, salt),
            "{alg_json}"
        );
        assert!(
            !emqx_passwd::verify(&alg, "p@ss-1", hash, salt),
            "{alg_json}"
        );
    }
}

#[tokio::test]
async fn user_endpoints_and_errors() {
    let s = ee58();
    let users = format!("{PW_ENC}/users");
    // No authenticator at all: the chain does not exist.
    assert_error(
        &s.call(
            "POST",
            &users,
            Some(json!({"user_id": "u", "password": "p"})),
        )
        .await,
        404,
        "NOT_FOUND",
        "Authenticator not found in the 'global' scope",
    );
    s.call(
        "POST",
        "/authentication",
        Some(json!({"mechanism": "jwt", "secret": "s"})),
    )
    .await;
    // The chain exists, the authenticator does not.
    assert_error(
        &s.call("GET", &users, None).await,
        400,
        "BAD_REQUEST",
        "User error: {not_found,{authenticator,<<\"password_based:built_in_database\">>}}",
    );
    assert_error(
        &s.call("GET", "/authentication/jwt/users", None).await,
        400,
        "BAD_REQUEST",
        "User error: unsupported_operation",
    );
    // Secrets are redacted in replies.
    assert_eq!(
        s.call("GET", "/authentication/jwt", None).await.1["secret"],
        "******"
    );

    s.call(
        "POST",
        "/authentication",
        Some(pw_authenticator(json!({"name": "sha256"}))),
    )
    .await;
    assert_error(
        &s.call("POST", &users, Some(json!({"user_id": "u"}))).await,
        400,
        "BAD_REQUEST",
        "Missing required parameter: password",
    );
    assert_error(
        &s.call("POST", &users, Some(json!({"password": "p"}))).await,
        400,
        "BAD_REQUEST",
        "Missing required parameter: user_id",
    );
    for i in 0..5 {
        let r = s
            .call(
                "POST",
                &users,
                Some(
                    json!({"user_id": format!("user{i}"), "password": "p", "is_superuser": i == 0}),
                ),
            )
            .await;
        assert_eq!(r.0, 201);
    }
    assert_error(
        &s.call(
            "POST",
            &users,
            Some(json!({"user_id": "user1", "password": "p"})),
        )
        .await,
        409,
        "ALREADY_EXISTS",
        "User already exists",
    );
    let page = s
        .call("GET", &format!("{users}?page=2&limit=2"), None)
        .await;
    assert_eq!(page.0, 200);
    assert_eq!(
        page.1,
        json!({
            "data": [{"user_id": "user2", "is_superuser": false}, {"user_id": "user3", "is_superuser": false}],
            "meta": {"page": 2, "limit": 2, "hasnext": true, "count": 5}
        })
    );
    let like = s
        .call("GET", &format!("{users}?like_user_id=er4"), None)
        .await;
    assert_eq!(
        like.1["data"],
        json!([{"user_id": "user4", "is_superuser": false}])
    );
    assert_eq!(
        like.1["meta"],
        json!({"page": 1, "limit": 100, "hasnext": false})
    );
    let supers = s
        .call("GET", &format!("{users}?is_superuser=true"), None)
        .await;
    assert_eq!(
        supers.1["data"],
        json!([{"user_id": "user0", "is_superuser": true}])
    );
    assert_eq!(s.call("GET", &format!("{users}?page=0"), None).await.0, 400);

    assert_eq!(
        s.call("GET", &format!("{users}/user0"), None).await,
        (
            axum::http::StatusCode::OK,
            json!({"user_id": "user0", "is_superuser": true})
        )
    );
    assert_error(
        &s.call("GET", &format!("{users}/nobody"), None).await,
        404,
        "NOT_FOUND",
        "User not found",
    );
    assert_error(
        &s.call("PUT", &format!("{users}/user0"), Some(json!({})))
            .await,
        400,
        "BAD_REQUEST",
        "Missing required parameter: password",
    );
    let r = s
        .call(
            "PUT",
            &format!("{users}/user0"),
            Some(json!({"is_superuser": false})),
        )
        .await;
    assert_eq!(r.1, json!({"user_id": "user0", "is_superuser": false}));
    assert_error(
        &s.call(
            "PUT",
            &format!("{users}/nobody"),
            Some(json!({"password": "x"})),
        )
        .await,
        404,
        "NOT_FOUND",
        "User not found",
    );
    assert_eq!(
        s.call("DELETE", &format!("{users}/user0"), None).await.0,
        204
    );
    assert_error(
        &s.call("DELETE", &format!("{users}/user0"), None).await,
        404,
        "NOT_FOUND",
        "User not found",
    );
    assert_eq!(s.scan("emqx_authn_mnesia").len(), 4);
    assert_eq!(
        s.call_as(viewer(), "DELETE", &format!("{users}/user1"), None)
            .await
            .0,
        403
    );
    // Readers may still read.
    assert_eq!(s.call_as(viewer(), "GET", &users, None).await.0, 200);
}

#[tokio::test]
async fn scram_users() {
    for (version, shown) in [("5.8.6", "scram:built_in_database"), ("6.1.2", "carol")] {
        let s = sim(version, Edition::Ee);
        let r = s
            .call(
                "POST",
                "/authentication",
                Some(json!({"mechanism": "scram", "backend": "built_in_database",
                            "algorithm": "sha512", "iteration_count": 4096})),
            )
            .await;
        assert_eq!(r.0, 200);
        let r = s
            .call(
                "POST",
                &format!("{SCRAM}/users"),
                Some(json!({"user_id": "carol", "password": "s3cret"})),
            )
            .await;
        assert_eq!(r.0, 201);
        // EMQX before 6.0.2 answers with the user group as user_id.
        assert_eq!(
            r.1,
            json!({"user_id": shown, "is_superuser": false}),
            "{version}"
        );
        let key = t(vec![b("scram:built_in_database"), b("carol")]);
        let row = s.get("emqx_authn_scram_mnesia", &key).expect("row");
        let [tag, _, stored, server, salt, superuser] = row.as_tuple().unwrap() else {
            panic!("row {row}");
        };
        assert_eq!(tag, &a("emqx_authn_scram_mnesia"));
        assert_eq!(superuser, &a("false"));
        assert_eq!(stored.as_binary().unwrap().len(), 64);
        assert_eq!(server.as_binary().unwrap().len(), 64);
        let salt = salt.as_binary().unwrap();
        assert_eq!(salt.len(), 32);
        let alg = emqx_passwd::scram::Algorithm::Sha512;
        assert!(emqx_passwd::scram::verify(
            alg,
            4096,
            "s3cret",
            salt,
            stored.as_binary().unwrap()
        ));
        assert!(!emqx_passwd::scram::verify(
            alg,
            4096,
            "nope",
            salt,
            stored.as_binary().unwrap()
        ));

        let r = s.call("GET", &format!("{SCRAM}/users/carol"), None).await;
        assert_eq!(r.1, json!({"user_id": "carol", "is_superuser": false}));
        let r = s
            .call(
                "PUT",
                &format!("{SCRAM}/users/carol"),
                Some(json!({"password": "other", "is_superuser": true})),
            )
            .await;
        assert_eq!(r.1, json!({"user_id": "carol", "is_superuser": true}));
        let row = s.get("emqx_authn_scram_mnesia", &key).unwrap();
        let items = row.as_tuple().unwrap();
        assert!(emqx_passwd::scram::verify(
            alg,
            4096,
            "other",
            items[4].as_binary().unwrap(),
            items[2].as_binary().unwrap()
        ));
        let list = s.call("GET", &format!("{SCRAM}/users"), None).await;
        assert_eq!(
            list.1["data"],
            json!([{"user_id": "carol", "is_superuser": true}])
        );
        // SCRAM has no bulk import in 5.x.
        assert_error(
            &s.call(
                "POST",
                &format!("{SCRAM}/import_users"),
                Some(json!([{"user_id": "x", "password_hash": "h"}])),
            )
            .await,
            400,
            "BAD_REQUEST",
            "Operation not supported in this authentication type",
        );
    }
}

#[tokio::test]
async fn bulk_imports() {
    let s = ee58();
    let import = format!("{PW}/import_users");
    assert_error(
        &s.call("POST", &import, Some(json!([]))).await,
        404,
        "NOT_FOUND",
        "Authenticator not found in the 'global' scope",
    );
    s.call(
        "POST",
        "/authentication",
        Some(json!({"mechanism": "jwt", "secret": "s"})),
    )
    .await;
    assert_error(
        &s.call("POST", &import, Some(json!([]))).await,
        404,
        "NOT_FOUND",
        "Authenticator 'password_based:built_in_database' does not exist",
    );
    let alg_json = json!({"name": "sha256", "salt_position": "suffix"});
    s.call(
        "POST",
        "/authentication",
        Some(pw_authenticator(alg_json.clone())),
    )
    .await;
    let alg = emqx_passwd::Algorithm::from_config(&alg_json).unwrap();

    // The fixture's user, by hash (spec §4.1).
    let hash = "5d751e87a8419b0a01521e0875f28fc8c81fdb8b328b834db53b3c95290b8b70";
    let salt = "10f45b7d8af9d37b7cda37c46fa2580b";
    let users = json!([
        {"user_id": "authn-user-1", "password_hash": hash, "salt": salt, "is_superuser": "true"},
        {"user_id": "u2", "password_hash": "abc"}
    ]);
    let r = s
        .call("POST", &format!("{import}?type=hash"), Some(users.clone()))
        .await;
    assert_eq!(
        r,
        (
            axum::http::StatusCode::OK,
            json!({"total": 2, "success": 2, "override": 0, "skipped": 0, "failed": 0})
        )
    );
    let row = s
        .get("emqx_authn_mnesia", &user_key("authn-user-1"))
        .unwrap();
    assert_eq!(
        row,
        t(vec![
            a("emqx_authn_mnesia"),
            user_key("authn-user-1"),
            b(hash),
            b(salt),
            a("true")
        ])
    );
    assert!(emqx_passwd::verify(&alg, "authn-user-1", hash, salt));
    assert_eq!(
        s.get("emqx_authn_mnesia", &user_key("u2"))
            .unwrap()
            .as_tuple()
            .unwrap()[3],
        b("")
    );
    // Again: identical rows are skipped; a changed one is overridden.
    let again = json!([users[0], {"user_id": "u2", "password_hash": "def"}]);
    let r = s.call("POST", &import, Some(again)).await;
    assert_eq!(
        r.1,
        json!({"total": 2, "success": 0, "override": 1, "skipped": 1, "failed": 0})
    );

    // Plain CSV through multipart: hashed with the authenticator's algorithm.
    let csv = b"user_id,password,is_superuser\nu3,pw3,true\nu4,pw4,false\n";
    let r = s
        .upload(
            &format!("{import}?type=plain"),
            "filename",
            "users.csv",
            csv,
        )
        .await;
    assert_eq!(
        r.1,
        json!({"total": 2, "success": 2, "override": 0, "skipped": 0, "failed": 0}),
        "{:?}",
        r
    );
    let row = s.get("emqx_authn_mnesia", &user_key("u3")).unwrap();
    let items = row.as_tuple().unwrap();
    assert!(emqx_passwd::verify(
        &alg,
        "pw3",
        items[2].as_binary().unwrap(),
        items[3].as_binary().unwrap()
    ));
    assert_eq!(items[4], a("true"));

    // JSON file, hash type.
    let file = json!([{"user_id": "u5", "password_hash": "h5", "salt": "s5"}]).to_string();
    let r = s
        .upload(&import, "filename", "users.json", file.as_bytes())
        .await;
    assert_eq!(r.1["success"], 1, "{:?}", r);

    // Errors as EMQX words them.
    assert_error(
        &s.call(
            "POST",
            &format!("{import}?type=hash"),
            Some(json!([{"user_id": "x", "password": "p"}])),
        )
        .await,
        400,
        "BAD_REQUEST",
        "\"hash_import_requires_password_hash_field\"",
    );
    assert_error(
        &s.call(
            "POST",
            &format!("{import}?type=plain"),
            Some(json!([{"user_id": "x", "password_hash": "h"}])),
        )
        .await,
        400,
        "BAD_REQUEST",
        "\"plain_import_requires_password_field\"",
    );
    assert_error(
        &s.call("POST", &import, Some(json!([]))).await,
        400,
        "BAD_REQUEST",
        "empty_users",
    );
    assert_error(
        &s.upload(&import, "filename", "users.txt", b"x").await,
        400,
        "BAD_REQUEST",
        "{unsupported_file_format,<<\".txt\">>}",
    );
    assert_error(
        &s.upload(&import, "other", "users.csv", csv).await,
        400,
        "BAD_REQUEST",
        "Missing required parameter: filename",
    );
    assert_error(
        &s.upload(
            &import,
            "filename",
            "bad.csv",
            b"user_id,password_hash\nonly-one\n",
        )
        .await,
        400,
        "BAD_REQUEST",
        "bad_format",
    );
    assert_eq!(s.scan("emqx_authn_mnesia").len(), 5);
}

#[tokio::test]
async fn bootstrap_file_on_create() {
    let s = ee58();
    let file = s.dir.path().join("bootstrap.csv");
    std::fs::write(
        &file,
        "user_id,password,is_superuser\nboot1,secret1,false\n",
    )
    .unwrap();
    let mut conf = pw_authenticator(json!({"name": "sha512", "salt_position": "prefix"}));
    conf["bootstrap_file"] = json!(file.to_string_lossy());
    conf["bootstrap_type"] = json!("plain");
    assert_eq!(s.call("POST", "/authentication", Some(conf)).await.0, 200);
    let row = s
        .get("emqx_authn_mnesia", &user_key("boot1"))
        .expect("bootstrapped user");
    let items = row.as_tuple().unwrap();
    let alg = emqx_passwd::Algorithm::from_config(&json!({"name": "sha512"})).unwrap();
    assert!(emqx_passwd::verify(
        &alg,
        "secret1",
        items[2].as_binary().unwrap(),
        items[3].as_binary().unwrap()
    ));
}
