//! The REST API of real nodes: authentication, the data backup endpoints (spec §6) and a
//! core + replicant cluster.

mod common;

use common::{answer, assert_error, fixture, Auth, Opts, Sim};
use emqx_archive::Edition;
use emqx_sim_api::{CtlReply, CTL_HEADER, CTL_TOKEN_FILE};
use erlang_term::Term;
use serde_json::{json, Value};

const UPLOAD_CE: &str = "emqx-export-upload-ce.tar.gz";
const UPLOAD_EE: &str = "emqx-export-upload-ee.tar.gz";
const RESTRICTED: &str =
    "API key import refused: backup contains restricted tables: dashboard_users, api_keys";

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

async fn export(sim: &Sim, auth: &Auth, body: Value) -> Value {
    let (s, v) = answer(
        auth.apply(sim.post("/api/v5/data/export"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "export: {v}");
    v
}

async fn import(sim: &Sim, auth: &Auth, body: Value) -> reqwest::Response {
    auth.apply(sim.post("/api/v5/data/import"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ctl(sim: &Sim, what: &str, body: Value) -> CtlReply {
    let token = std::fs::read_to_string(sim.data_dir.join(CTL_TOKEN_FILE)).unwrap();
    let r = sim
        .post(&format!("/internal/ctl/data/{what}"))
        .header(CTL_HEADER, token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_tokens_and_no_anonymous_access() {
    let sim = Sim::start(Opts::core()).await;
    let r = sim
        .post("/api/v5/login")
        .json(&json!({"username": "admin", "password": "public"}))
        .send()
        .await
        .unwrap();
    let (s, v) = answer(r).await;
    assert_eq!(s, 200);
    assert_eq!(v["version"], "5.8.6");
    assert_eq!(v["license"]["edition"], "opensource");
    assert_eq!(v["role"], "administrator");
    let token = v["token"].as_str().unwrap().to_owned();

    for (user, pass) in [("admin", "wrong"), ("nobody", "public")] {
        let r = sim
            .post("/api/v5/login")
            .json(&json!({"username": user, "password": pass}))
            .send()
            .await
            .unwrap();
        assert_error(r, 401, "BAD_USERNAME_OR_PWD", "Auth failed").await;
    }

    // Nothing but /login answers without credentials.
    for (method, path) in [
        ("GET", "/api/v5/nodes"),
        ("GET", "/api/v5/status"),
        ("GET", "/api/v5/data/files"),
        ("POST", "/api/v5/data/export"),
        ("POST", "/api/v5/data/import"),
        ("GET", "/api/v5/data/files/x.tar.gz"),
        ("DELETE", "/api/v5/data/files/x.tar.gz"),
        ("GET", "/api/v5/banned"),
        ("GET", "/api/v5/no/such/path"),
        ("POST", "/api/v5/logout"),
    ] {
        let r = sim
            .client
            .request(method.parse().unwrap(), sim.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["www-authenticate"],
            "Basic Realm=\"emqx-dashboard\"",
            "{method} {path}"
        );
        assert_error(
            r,
            401,
            "AUTHORIZATION_HEADER_ERROR",
            "Support authorization: basic/bearer ",
        )
        .await;
    }
    let r = sim
        .get("/api/v5/nodes")
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "BAD_TOKEN", "Get a token by POST /login").await;
    // Node-to-node and ctl endpoints want their own secrets.
    let r = sim.get("/internal/cluster/files").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = sim
        .post("/internal/ctl/data/export")
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let (s, v) = answer(
        sim.get("/api/v5/nodes")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["node"], "emqx@127.0.0.1");
    assert_eq!(v[0]["node_status"], "running");
    assert_eq!(v[0]["role"], "core");
    assert_eq!(v[0]["edition"], "Opensource");
    assert_eq!(v[0]["version"], "5.8.6");
    let r = sim
        .get("/api/v5/status")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "Node emqx@127.0.0.1 is started\nemqx is running"
    );
    let r = sim
        .get("/api/v5/no/such/path")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "NOT_FOUND", "Request Path Not Found").await;

    // Logout ends the token.
    let r = sim
        .post("/api/v5/logout")
        .bearer_auth(&token)
        .json(&json!({"username": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = sim
        .get("/api/v5/nodes")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "BAD_TOKEN", "Get a token by POST /login").await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_from_the_bootstrap_file() {
    let mut opts = Opts::core();
    opts.api_keys = Some("key1:secret1\n\nviewkey:viewsecret:viewer\n".into());
    let sim = Sim::start(opts).await;
    let admin = Auth::Basic("key1".into(), "secret1".into());
    let r = admin.apply(sim.get("/api/v5/nodes")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    for bad in [
        Auth::Basic("key1".into(), "nope".into()),
        Auth::Basic("nokey".into(), "secret1".into()),
    ] {
        let r = bad.apply(sim.get("/api/v5/nodes")).send().await.unwrap();
        assert_error(r, 401, "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret").await;
    }
    let r = admin.apply(sim.get("/api/v5/users")).send().await.unwrap();
    assert_error(
        r,
        401,
        "API_KEY_NOT_ALLOW",
        "Please use bearer Token instead, using API key/secret in users path is not permitted",
    )
    .await;
    // Viewers read, and only read.
    let viewer = Auth::Basic("viewkey".into(), "viewsecret".into());
    let r = viewer
        .apply(sim.get("/api/v5/data/files"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = viewer
        .apply(sim.post("/api/v5/data/export"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(
        r,
        403,
        "UNAUTHORIZED_ROLE",
        "This API Key don't have permission to access this resource",
    )
    .await;
    // The rows EMQX writes for bootstrap keys.
    let names: Vec<String> = sim
        .node
        .store
        .read(|tx| tx.scan("emqx_app"))
        .unwrap()
        .iter()
        .map(|r| {
            String::from_utf8_lossy(r.as_tuple().unwrap()[1].as_binary().unwrap()).into_owned()
        })
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names
        .iter()
        .all(|n| n.starts_with("from_bootstrap_file_") && n.len() == 36));
    // Disabled and expired keys are refused like wrong secrets.
    let row = |name: &str, key: &str, enable: bool, expired_at: Term| {
        Term::tuple(vec![
            Term::atom("emqx_app"),
            Term::binary(name),
            Term::binary(key),
            Term::binary(emqx_passwd::dashboard::hash_legacy(b"s3cret", b"00ff")),
            Term::boolean(enable),
            Term::Map(vec![(Term::atom("role"), Term::binary("administrator"))]),
            expired_at,
            Term::Int(1_700_000_000),
        ])
    };
    sim.node
        .store
        .write(|tx| -> Result<(), emqx_sim_store::StoreError> {
            tx.put(
                "emqx_app",
                &row("off", "offkey", false, Term::atom("infinity")),
            )?;
            tx.put(
                "emqx_app",
                &row("old", "oldkey", true, Term::Int(1_700_000_000)),
            )?;
            tx.put(
                "emqx_app",
                &row("ok", "okkey", true, Term::Int(4_000_000_000)),
            )
        })
        .unwrap();
    for key in ["offkey", "oldkey"] {
        let r = Auth::Basic(key.into(), "s3cret".into())
            .apply(sim.get("/api/v5/nodes"))
            .send()
            .await
            .unwrap();
        assert_error(r, 401, "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret").await;
    }
    let r = Auth::Basic("okkey".into(), "s3cret".into())
        .apply(sim.get("/api/v5/nodes"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_list_download_delete() {
    let sim = Sim::start(Opts::core()).await;
    let auth = Auth::Bearer(sim.token().await);
    let info = export(&sim, &auth, json!({})).await;
    let name = info["filename"].as_str().unwrap().to_owned();
    assert!(
        name.starts_with("emqx-export-") && name.ends_with(".tar.gz"),
        "{info}"
    );
    assert_eq!(info["node"], "emqx@127.0.0.1");
    assert!(info["size"].as_u64().unwrap() > 0);
    assert!(info["created_at"].is_string() && info["created_at_sec"].is_i64());
    assert_eq!(sim.backup_files(), vec![name.clone()]);

    let (s, v) = answer(
        auth.apply(sim.get("/api/v5/data/files"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["data"], json!([info]));
    assert_eq!(
        v["meta"],
        json!({"page": 1, "limit": 100, "count": 1, "hasnext": false})
    );

    let path = format!("/api/v5/data/files/{name}");
    let r = auth.apply(sim.get(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(
        bytes,
        std::fs::read(sim.data_dir.join("backup").join(&name)).unwrap()
    );
    let r = auth
        .apply(sim.get(&format!("{path}?node=emqx@127.0.0.1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = auth
        .apply(sim.get(&format!("{path}?node=ghost@host")))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "BAD_REQUEST", "Unknown node: ghost@host").await;

    let r = auth.apply(sim.delete(&path)).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(sim.backup_files().is_empty());
    for r in [
        auth.apply(sim.get(&path)).send().await.unwrap(),
        auth.apply(sim.delete(&path)).send().await.unwrap(),
    ] {
        assert_error(r, 404, "NOT_FOUND", "backup file not found").await;
    }

    // Unknown filters are refused with EMQX's messages.
    let r = auth
        .apply(sim.post("/api/v5/data/export"))
        .json(&json!({"root_keys": ["nope", "authorization"]}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "BAD_REQUEST", "Invalid root keys: nope").await;
    let r = auth
        .apply(sim.post("/api/v5/data/export"))
        .json(&json!({"table_sets": ["zz", "banned", "aa"]}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "BAD_REQUEST", "Invalid table sets: aa, zz").await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_import_as_emqx_does() {
    let mut opts = Opts::core();
    opts.api_keys = Some("key1:secret1\n".into());
    let sim = Sim::start(opts).await;
    let auth = Auth::Bearer(sim.token().await);
    let key = Auth::Basic("key1".into(), "secret1".into());

    let r = sim.upload(&auth, UPLOAD_CE, read(UPLOAD_CE)).await;
    assert_eq!(r.status(), 204);
    assert_eq!(sim.backup_files(), [UPLOAD_CE]);
    let r = sim.upload(&auth, UPLOAD_CE, read(UPLOAD_CE)).await;
    assert_error(
        r,
        400,
        "BAD_REQUEST",
        &format!("Backup file \"{UPLOAD_CE}\" already exists"),
    )
    .await;
    // An Enterprise archive on an open-source node.
    let r = sim.upload(&auth, UPLOAD_EE, read(UPLOAD_EE)).await;
    assert_error(
        r,
        400,
        "BAD_REQUEST",
        "importing EMQX Enterprise data backup to EMQX is not allowed",
    )
    .await;
    // A renamed archive: its top folder no longer matches its name.
    let r = sim
        .upload(&auth, "emqx-export-renamed.tar.gz", read(UPLOAD_CE))
        .await;
    assert_error(
        r,
        400,
        "BAD_REQUEST",
        "invalid backup archive content: all files in the archive must be under <backup name> directory",
    )
    .await;
    let r = sim.upload(&auth, "backup.zip", read(UPLOAD_CE)).await;
    assert_error(
        r,
        400,
        "BAD_REQUEST",
        "invalid backup name: file name must have .tar.gz extension",
    )
    .await;
    let r = auth
        .apply(sim.post("/api/v5/data/files"))
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    assert_error(
        r,
        400,
        "BAD_REQUEST",
        "Missing required parameter: filename",
    )
    .await;
    assert_eq!(
        sim.backup_files(),
        [UPLOAD_CE],
        "failed uploads leave nothing"
    );

    // Import refusals.
    let r = import(&sim, &auth, json!({"filename": "emqx-export-none.tar.gz"})).await;
    assert_error(r, 400, "BAD_REQUEST", "backup file not found").await;
    let r = import(&sim, &auth, json!({"filename": "backup.zip"})).await;
    assert_error(
        r,
        400,
        "BAD_REQUEST",
        "invalid backup name: file name must have .tar.gz extension",
    )
    .await;
    let r = import(
        &sim,
        &auth,
        json!({"filename": UPLOAD_CE, "node": "ghost@host"}),
    )
    .await;
    assert_error(r, 400, "BAD_REQUEST", "Unknown node: ghost@host").await;
    let r = import(&sim, &key, json!({"filename": UPLOAD_CE})).await;
    assert_error(r, 403, "FORBIDDEN", RESTRICTED).await;
    assert_eq!(
        sim.count("emqx_banned"),
        0,
        "a refused import changes nothing"
    );

    let r = import(
        &sim,
        &auth,
        json!({"filename": UPLOAD_CE, "node": "emqx@127.0.0.1"}),
    )
    .await;
    let (s, v) = answer(r).await;
    assert_eq!(s, 204, "{v}");
    assert!(sim.count("emqx_banned") > 0);
    assert!(
        sim.count("emqx_app") >= 2,
        "the archive's key joined the bootstrap key"
    );

    // API keys export without the sensitive tables, tokens with them.
    let with = export(&sim, &auth, json!({})).await;
    let without = export(&sim, &key, json!({})).await;
    let node = sim.node.clone();
    let (a, b) = (
        with["filename"].as_str().unwrap().to_owned(),
        without["filename"].as_str().unwrap().to_owned(),
    );
    let (ha, hb) = tokio::task::spawn_blocking(move || {
        (
            node.has_sensitive_tables(&a).unwrap(),
            node.has_sensitive_tables(&b).unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(ha && !hb);
    // The key may import what it exported.
    let r = import(&sim, &key, json!({"filename": without["filename"]})).await;
    assert_eq!(r.status(), 204);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages() {
    let sim = Sim::start(Opts::core()).await;
    let auth = Auth::Bearer(sim.token().await);
    let mut names = Vec::new();
    for _ in 0..3 {
        let info = export(&sim, &auth, json!({"table_sets": ["banned"]})).await;
        names.push(info["filename"].as_str().unwrap().to_owned());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Newest first; within a second, names descending (they hold the time).
    names.sort();
    names.reverse();
    let page = |q: &str| {
        let rb = auth.apply(sim.get(&format!("/api/v5/data/files{q}")));
        async move { answer(rb.send().await.unwrap()).await }
    };
    let (s, v) = page("?page=1&limit=2").await;
    assert_eq!(s, 200);
    let got: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert_eq!(got, names[..2]);
    assert_eq!(
        v["meta"],
        json!({"page": 1, "limit": 2, "count": 3, "hasnext": true})
    );
    let (_, v) = page("?page=2&limit=2").await;
    assert_eq!(v["data"][0]["filename"], names[2].as_str());
    assert_eq!(
        v["meta"],
        json!({"page": 2, "limit": 2, "count": 3, "hasnext": false})
    );
    let (_, v) = page("?page=5&limit=2").await;
    assert_eq!(v["data"], json!([]));
    for q in ["?page=0", "?limit=0", "?limit=10001", "?page=x"] {
        let (s, v) = page(q).await;
        assert_eq!(
            (s, &v["message"]),
            (400, &json!("page_limit_invalid")),
            "{q}"
        );
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_lines() {
    let sim = Sim::start(Opts::core()).await;
    let reply = ctl(&sim, "export", json!({"table_sets": ["banned"]})).await;
    assert!(reply.ok, "{:?}", reply.lines);
    let first = &reply.lines[0];
    assert!(
        first.starts_with("Exporting data to \"") && first.ends_with(".tar.gz\"..."),
        "{first}"
    );
    assert!(reply
        .lines
        .contains(&"Exporting cluster configuration...".to_owned()));
    assert!(reply
        .lines
        .contains(&"Exporting built-in database...".to_owned()));
    let last = reply.lines.last().unwrap();
    assert!(
        last.starts_with("Data has been successfully exported to ") && last.ends_with(".tar.gz."),
        "{last}"
    );

    let reply = ctl(&sim, "export", json!({"root_keys": ["nope"]})).await;
    assert!(!reply.ok);
    assert_eq!(reply.lines, ["Invalid root keys: nope"]);

    let reply = ctl(&sim, "import", json!({"file": "emqx-export-none.tar.gz"})).await;
    assert!(!reply.ok);
    assert_eq!(
        reply.lines.last().unwrap(),
        "[error] Data import failed, reason: \"backup file not found\"."
    );
    let reply = ctl(&sim, "import", json!({"file": fixture(UPLOAD_CE)})).await;
    assert!(reply.ok, "{:?}", reply.lines);
    assert!(
        reply.lines[0].starts_with("Importing data from \""),
        "{:?}",
        reply.lines
    );
    assert_eq!(
        reply.lines.last().unwrap(),
        "Data has been imported successfully."
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_and_replicant() {
    let mut opts = Opts::core();
    opts.api_keys = Some("key1:secret1\n".into());
    let core = Sim::start(opts).await;
    let rep = Sim::start(Opts::replicant("r1@127.0.0.1", &core)).await;
    // Login through the replicant: users and tokens are the core's.
    let auth = Auth::Bearer(rep.token().await);
    let key = Auth::Basic("key1".into(), "secret1".into());

    for sim in [&core, &rep] {
        let (s, v) = answer(auth.apply(sim.get("/api/v5/nodes")).send().await.unwrap()).await;
        assert_eq!(s, 200);
        let nodes: Vec<(&str, &str, &str)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["node"].as_str().unwrap(),
                    n["role"].as_str().unwrap(),
                    n["node_status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            nodes,
            [
                ("emqx@127.0.0.1", "core", "running"),
                ("r1@127.0.0.1", "replicant", "running")
            ]
        );
    }
    let r = auth.apply(rep.get("/api/v5/status")).send().await.unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        "Node r1@127.0.0.1 is started\nemqx is running"
    );

    // An upload to the replicant stays there; the list of any node shows it with its node.
    assert_eq!(
        rep.upload(&auth, UPLOAD_CE, read(UPLOAD_CE)).await.status(),
        204
    );
    assert_eq!(rep.backup_files(), [UPLOAD_CE]);
    assert!(core.backup_files().is_empty());
    for sim in [&core, &rep] {
        let (_, v) = answer(
            auth.apply(sim.get("/api/v5/data/files"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(v["data"][0]["filename"], UPLOAD_CE);
        assert_eq!(v["data"][0]["node"], "r1@127.0.0.1");
    }
    // An API key may not import the sensitive tables through the replicant either.
    let r = import(&rep, &key, json!({"filename": UPLOAD_CE})).await;
    assert_error(r, 403, "FORBIDDEN", RESTRICTED).await;
    // The import through the replicant runs on the core, which copies the file first.
    let r = import(&rep, &auth, json!({"filename": UPLOAD_CE})).await;
    let (s, v) = answer(r).await;
    assert_eq!(s, 204, "{v}");
    assert!(core.count("emqx_banned") > 0);
    assert_eq!(rep.count("emqx_banned"), 0, "a replicant holds no data");
    assert_eq!(core.backup_files(), [UPLOAD_CE]);
    // Data is the core's, seen on every node.
    let (s1, v1) = answer(auth.apply(core.get("/api/v5/banned")).send().await.unwrap()).await;
    let (s2, v2) = answer(auth.apply(rep.get("/api/v5/banned")).send().await.unwrap()).await;
    assert_eq!((s1, &v1), (s2, &v2));
    assert_eq!(s1, 200, "{v1}");
    // Writes through the replicant land on the core.
    let before = core.count("emqx_banned");
    let r = auth
        .apply(rep.post("/api/v5/banned"))
        .json(&json!({"as": "clientid", "who": "via-replicant"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(core.count("emqx_banned"), before + 1);
    assert_eq!(rep.count("emqx_banned"), 0);

    // The replicant's export: built by the core, stored on the replicant.
    let info = export(&rep, &auth, json!({})).await;
    let name = info["filename"].as_str().unwrap().to_owned();
    assert_eq!(info["node"], "r1@127.0.0.1");
    assert!(rep.backup_files().contains(&name));
    assert!(!core.backup_files().contains(&name));
    // Download and delete on the replicant's file through the core.
    let path = format!("/api/v5/data/files/{name}?node=r1@127.0.0.1");
    let r = auth.apply(core.get(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap(),
        std::fs::read(rep.data_dir.join("backup").join(&name)).unwrap()
    );
    assert_eq!(
        auth.apply(core.delete(&path))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(!rep.backup_files().contains(&name));
    let r = auth.apply(core.get(&path)).send().await.unwrap();
    assert_error(r, 404, "NOT_FOUND", "backup file not found").await;
    // The core's own file through the replicant.
    let r = auth
        .apply(rep.get(&format!(
            "/api/v5/data/files/{UPLOAD_CE}?node=emqx@127.0.0.1"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // ctl on a replicant: no imports.
    let reply = ctl(&rep, "import", json!({"file": UPLOAD_CE})).await;
    assert!(!reply.ok);
    assert_eq!(
        reply.lines,
        ["[error] Data import failed, reason: \"backup data import is only allowed on core EMQX nodes, but requested node 'r1@127.0.0.1' is not core\"."]
    );
    let reply = ctl(&rep, "export", json!({})).await;
    assert!(reply.ok, "{:?}", reply.lines);
    let rep_backup = rep.data_dir.join("backup").display().to_string();
    assert!(reply.lines[0].contains(&rep_backup), "{:?}", reply.lines);

    // A stopped replicant leaves the cluster.
    rep.stop().await;
    let (_, v) = answer(auth.apply(core.get("/api/v5/nodes")).send().await.unwrap()).await;
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    core.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_node_takes_enterprise_archives() {
    let mut opts = Opts::core();
    opts.edition = Edition::Ee;
    let sim = Sim::start(opts).await;
    let auth = Auth::Bearer(sim.token().await);
    assert_eq!(
        sim.upload(&auth, UPLOAD_EE, read(UPLOAD_EE)).await.status(),
        204
    );
    let (s, v) = answer(import(&sim, &auth, json!({"filename": UPLOAD_EE})).await).await;
    assert_eq!(s, 204, "{v}");
    let (_, v) = answer(auth.apply(sim.get("/api/v5/nodes")).send().await.unwrap()).await;
    assert_eq!(v[0]["edition"], "Enterprise");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_join_fails_the_start() {
    let core = Sim::start(Opts::core()).await;
    let dir = tempfile::tempdir().unwrap();
    let plugins = tokio::task::spawn_blocking(emqx_backup_tests::plugins::build)
        .await
        .unwrap();
    let info = emqx_sim_store::NodeInfo {
        // The core's own name.
        name: "emqx@127.0.0.1".into(),
        role: emqx_sim_store::Role::Replicant,
        edition: Edition::Ce,
        version: "5.8.6".into(),
        data_dir: dir.path().to_owned(),
    };
    let node =
        tokio::task::spawn_blocking(move || emqx_sim_store::Node::open(info, Some(&plugins)))
            .await
            .unwrap()
            .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config =
        emqx_sim_api::ServeConfig::new(format!("http://{}", listener.local_addr().unwrap()));
    config.cluster.core_url = Some(core.url.clone());
    let e = emqx_sim_api::Server::start(std::sync::Arc::new(node), config, listener)
        .await
        .err()
        .expect("the core refuses a second node of its name");
    assert!(e.to_string().contains("is taken by the core"), "{e}");
    assert!(!dir.path().join(CTL_TOKEN_FILE).exists());
    core.stop().await;
}
