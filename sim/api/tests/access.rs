//! Access control of the API: every route of `emqx_sim_api::routes()` without credentials,
//! viewers, API keys and the sensitive table sets, hostile file names, the login lock.

mod common;

use common::{answer, assert_error, fixture, Auth, Opts, Sim};
use emqx_sim_api::{routes, Access, CTL_HEADER, CTL_TOKEN_FILE};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const UPLOAD_CE: &str = "emqx-export-upload-ce.tar.gz";
const BAD_NAME: &str = "invalid backup name: file name must have .tar.gz extension";
const VIEWER_DENIED: &str = "You don't have permission to access this resource";
const KEY_VIEWER_DENIED: &str = "This API Key don't have permission to access this resource";

/// A route's path with sample values for its parameters.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{filename}" | "{name}" if path.contains("/files/") => "x.tar.gz",
            "{id}" if path.contains("/authentication/") => "password_based:built_in_database",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn send(sim: &Sim, method: &Method, path: &str, auth: Option<&Auth>) -> reqwest::Response {
    let rb = sim.client.request(method.clone(), sim.url(path));
    let rb = match auth {
        Some(a) => a.apply(rb),
        None => rb,
    };
    rb.send().await.unwrap()
}

/// The status and EMQX error code of a response.
async fn status_code(r: reqwest::Response) -> (u16, String) {
    let (s, v) = answer(r).await;
    (s, v["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_but_login_answers_without_credentials() {
    let core = Sim::start(Opts::core()).await;
    let rep = Sim::start(Opts::replicant("r1@127.0.0.1", &core)).await;
    let admin = Auth::Bearer(core.token().await);
    let forged = [
        Auth::Bearer("forged".into()),
        Auth::Basic("nokey".into(), "nosecret".into()),
    ];
    let all = routes();
    assert!(all.len() > 80, "{} routes", all.len());
    for sim in [&core, &rep] {
        for route in &all {
            let path = concrete(&route.path);
            let what = format!("{} {} {path}", sim.name, route.method);
            let (s, code) = status_code(send(sim, &route.method, &path, None).await).await;
            match route.access {
                Access::Open => assert!(s == 200 || s == 400, "{what}: {s} {code}"),
                Access::Credentials => {
                    assert_eq!(
                        (s, code.as_str()),
                        (401, "AUTHORIZATION_HEADER_ERROR"),
                        "{what}"
                    )
                }
                Access::ClusterCookie => {
                    assert_eq!((s, code.as_str()), (401, "BAD_CLUSTER_COOKIE"), "{what}")
                }
                Access::CtlToken => {
                    assert_eq!((s, code.as_str()), (401, "BAD_CTL_TOKEN"), "{what}")
                }
            }
            if route.access == Access::Open {
                continue;
            }
            // Forged credentials, and a dashboard token where a node secret is needed.
            for auth in forged.iter().chain(
                (route.access != Access::Credentials)
                    .then_some(&admin)
                    .into_iter(),
            ) {
                let (s, code) =
                    status_code(send(sim, &route.method, &path, Some(auth)).await).await;
                assert_eq!(s, 401, "{what} with forged credentials: {code}");
            }
        }
        // Paths no route serves are behind the same door under /api/v5.
        for path in [
            "/api/v5/no/such/path",
            "/api/v5/data/files/a/b",
            "/api/v5/x",
        ] {
            let (s, code) = status_code(send(sim, &Method::GET, path, None).await).await;
            assert_eq!(
                (s, code.as_str()),
                (401, "AUTHORIZATION_HEADER_ERROR"),
                "{path}"
            );
        }
    }
    rep.stop().await;
    core.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_names_every_method_of_every_path() {
    let sim = Sim::start(Opts::core()).await;
    let admin = Auth::Bearer(sim.token().await);
    let mut methods: BTreeMap<String, Vec<Method>> = BTreeMap::new();
    for r in routes()
        .into_iter()
        .filter(|r| r.access == Access::Credentials)
    {
        methods.entry(r.path).or_default().push(r.method);
    }
    let every = [Method::GET, Method::POST, Method::PUT, Method::DELETE];
    let mut checked = 0;
    for (path, listed) in &methods {
        for m in every.iter().filter(|m| !listed.contains(m)) {
            let (s, code) = status_code(send(&sim, m, &concrete(path), Some(&admin)).await).await;
            assert_eq!(
                s, 405,
                "{m} {path} is not in the list but answers {s} {code}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
    sim.stop().await;
}

/// Starts an Enterprise core (dashboard roles are Enterprise's) with a viewer and an
/// administrator API key and a dashboard viewer `eve`.
async fn core_with_callers() -> (Sim, Auth, Auth, Auth, Auth) {
    let mut opts = Opts::core();
    opts.edition = emqx_archive::Edition::Ee;
    opts.api_keys = Some("adminkey:adminsecret\nviewkey:viewsecret:viewer\n".into());
    let sim = Sim::start(opts).await;
    let admin = Auth::Bearer(sim.token().await);
    let r = admin
        .apply(sim.post("/api/v5/users"))
        .json(&json!({"username": "eve", "password": "Viewer-pass-1", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = sim
        .post("/api/v5/login")
        .json(&json!({"username": "eve", "password": "Viewer-pass-1"}))
        .send()
        .await
        .unwrap();
    let (s, v) = answer(r).await;
    assert_eq!((s, v["role"].as_str()), (200, Some("viewer")), "{v}");
    let viewer = Auth::Bearer(v["token"].as_str().unwrap().to_owned());
    let admin_key = Auth::Basic("adminkey".into(), "adminsecret".into());
    let viewer_key = Auth::Basic("viewkey".into(), "viewsecret".into());
    (sim, admin, viewer, admin_key, viewer_key)
}

async fn listed(sim: &Sim, auth: &Auth) -> Vec<String> {
    let (s, v) = answer(
        auth.apply(sim.get("/api/v5/data/files"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let mut names: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_cannot_export_import_upload_or_delete() {
    let (sim, admin, viewer, _, viewer_key) = core_with_callers().await;
    assert_eq!(
        sim.upload(
            &admin,
            UPLOAD_CE,
            std::fs::read(fixture(UPLOAD_CE)).unwrap()
        )
        .await
        .status(),
        204
    );
    let before = listed(&sim, &admin).await;
    let users_before = sim.count("emqx_admin");
    for (auth, message) in [(&viewer, VIEWER_DENIED), (&viewer_key, KEY_VIEWER_DENIED)] {
        let r = auth
            .apply(sim.post("/api/v5/data/export"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "UNAUTHORIZED_ROLE", message).await;
        let r = auth
            .apply(sim.post("/api/v5/data/import"))
            .json(&json!({"filename": UPLOAD_CE}))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "UNAUTHORIZED_ROLE", message).await;
        let r = sim
            .upload(
                auth,
                "emqx-export-other.tar.gz",
                std::fs::read(fixture(UPLOAD_CE)).unwrap(),
            )
            .await;
        assert_error(r, 403, "UNAUTHORIZED_ROLE", message).await;
        let r = auth
            .apply(sim.delete(&format!("/api/v5/data/files/{UPLOAD_CE}")))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "UNAUTHORIZED_ROLE", message).await;
        // Reading stays open to viewers.
        assert_eq!(listed(&sim, auth).await, before);
    }
    let r = viewer
        .apply(sim.get(&format!("/api/v5/data/files/{UPLOAD_CE}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(listed(&sim, &admin).await, before);
    assert_eq!(
        sim.count("emqx_admin"),
        users_before,
        "nothing was imported"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_cannot_import_or_download_the_sensitive_sets() {
    let (sim, admin, _, key, _) = core_with_callers().await;
    let inspection =
        emqx_archive::inspect(&fixture(UPLOAD_CE), &emqx_archive::Limits::default()).unwrap();
    let sets: Vec<&str> = [("emqx_admin", "dashboard_users"), ("emqx_app", "api_keys")]
        .into_iter()
        .filter(|(t, _)| inspection.tables.contains_key(*t))
        .map(|(_, s)| s)
        .collect();
    assert!(!sets.is_empty(), "the fixture holds sensitive tables");
    assert_eq!(
        sim.upload(
            &admin,
            UPLOAD_CE,
            std::fs::read(fixture(UPLOAD_CE)).unwrap()
        )
        .await
        .status(),
        204
    );
    let path = format!("/api/v5/data/files/{UPLOAD_CE}");
    let r = key.apply(sim.get(&path)).send().await.unwrap();
    assert_error(
        r,
        403,
        "FORBIDDEN",
        &format!(
            "API key download refused: backup contains restricted tables: {}",
            sets.join(", ")
        ),
    )
    .await;
    let r = key
        .apply(sim.post("/api/v5/data/import"))
        .json(&json!({"filename": UPLOAD_CE}))
        .send()
        .await
        .unwrap();
    assert_error(
        r,
        403,
        "FORBIDDEN",
        "API key import refused: backup contains restricted tables: dashboard_users, api_keys",
    )
    .await;
    let r = admin.apply(sim.get(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // An API key's own export leaves the sensitive sets out, so it may download it.
    let (s, v) = answer(
        key.apply(sim.post("/api/v5/data/export"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let name = v["filename"].as_str().unwrap();
    let r = key
        .apply(sim.get(&format!("/api/v5/data/files/{name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(name);
    std::fs::write(&copy, r.bytes().await.unwrap()).unwrap();
    let tables = emqx_archive::inspect(&copy, &emqx_archive::Limits::default())
        .unwrap()
        .tables;
    assert!(tables.contains_key("emqx_banned"), "{:?}", tables.keys());
    assert!(!tables.contains_key("emqx_admin") && !tables.contains_key("emqx_app"));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_slashes_dots_or_nul_are_refused() {
    let core = Sim::start(Opts::core()).await;
    let rep = Sim::start(Opts::replicant("r1@127.0.0.1", &core)).await;
    let admin = Auth::Bearer(core.token().await);
    let bad = [
        "../x.tar.gz",
        "a/b.tar.gz",
        "/etc/x.tar.gz",
        "..tar.gz",
        "...tar.gz",
        "x\0.tar.gz",
        "x.tar.gz\0",
        "..\\x.tar.gz",
    ];
    for sim in [&core, &rep] {
        for name in bad {
            let encoded: String = name
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' => (b as char).to_string(),
                    other => format!("%{other:02X}"),
                })
                .collect();
            let path = format!("/api/v5/data/files/{encoded}");
            let what = format!("{} {name:?}", sim.name);
            for method in [Method::GET, Method::DELETE] {
                let r = send(sim, &method, &path, Some(&admin)).await;
                let (s, v) = answer(r).await;
                assert_eq!(
                    (s, v["code"].as_str(), v["message"].as_str()),
                    (400, Some("BAD_REQUEST"), Some(BAD_NAME)),
                    "{method} {what}"
                );
            }
            let r = admin
                .apply(sim.post("/api/v5/data/import"))
                .json(&json!({"filename": name}))
                .send()
                .await
                .unwrap();
            let (s, v) = answer(r).await;
            assert_eq!(
                (s, v["code"].as_str(), v["message"].as_str()),
                (400, Some("BAD_REQUEST"), Some(BAD_NAME)),
                "import {what}"
            );
            let part = reqwest::multipart::Part::bytes(std::fs::read(fixture(UPLOAD_CE)).unwrap())
                .file_name(name.to_owned());
            let form = reqwest::multipart::Form::new()
                .percent_encode_noop()
                .part("filename", part);
            let r = admin
                .apply(sim.post("/api/v5/data/files"))
                .multipart(form)
                .send()
                .await
                .unwrap();
            let (s, v) = answer(r).await;
            if name.contains('\0') {
                // The multipart parser refuses a NUL in the part's file name first.
                assert_eq!(
                    (s, v["code"].as_str()),
                    (400, Some("BAD_REQUEST")),
                    "upload {what}"
                );
            } else {
                assert_eq!(
                    (s, v["code"].as_str(), v["message"].as_str()),
                    (400, Some("BAD_REQUEST"), Some(BAD_NAME)),
                    "upload {what}"
                );
            }
        }
        assert!(sim.backup_files().is_empty(), "{:?}", sim.backup_files());
        let root = sim.data_dir.parent().unwrap();
        assert!(!root.join("x.tar.gz").exists() && !sim.data_dir.join("x.tar.gz").exists());
    }
    rep.stop().await;
    core.stop().await;
}

async fn login(sim: &Sim, user: &str, password: &str) -> (u16, Value) {
    answer(
        sim.post("/api/v5/login")
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_lock_the_username() {
    let (sim, admin, ..) = core_with_callers().await;
    for _ in 0..5 {
        let (s, v) = login(&sim, "admin", "wrong").await;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("BAD_USERNAME_OR_PWD")),
            "{v}"
        );
    }
    // Locked now, even with the right password; other users and issued tokens are not.
    let (s, v) = login(&sim, "admin", "public").await;
    assert_eq!(
        (s, v["code"].as_str(), v["message"].as_str()),
        (401, Some("LOGIN_LOCKED"), Some("Login locked")),
        "{v}"
    );
    let (s, v) = login(&sim, "eve", "Viewer-pass-1").await;
    assert_eq!(s, 200, "{v}");
    let r = admin.apply(sim.get("/api/v5/nodes")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Unknown users are never counted, so never locked.
    for _ in 0..8 {
        let (s, v) = login(&sim, "nobody", "wrong").await;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("BAD_USERNAME_OR_PWD")),
            "{v}"
        );
    }
    // Four failures and a success: the success clears them.
    for _ in 0..4 {
        assert_eq!(login(&sim, "eve", "wrong").await.0, 401);
    }
    assert_eq!(login(&sim, "eve", "Viewer-pass-1").await.0, 200);
    for _ in 0..4 {
        assert_eq!(login(&sim, "eve", "wrong").await.0, 401);
    }
    let (s, v) = login(&sim, "eve", "Viewer-pass-1").await;
    assert_eq!(s, 200, "{v}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_secrets_open_their_own_routes_only() {
    let sim = Sim::start(Opts::core()).await;
    let token = std::fs::read_to_string(sim.data_dir.join(CTL_TOKEN_FILE)).unwrap();
    // The ctl token is not the cluster cookie, and the other way round.
    let r = sim
        .get("/internal/cluster/files")
        .header(CTL_HEADER, token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(status_code(r).await, (401, "BAD_CLUSTER_COOKIE".to_owned()));
    let r = sim
        .post("/internal/ctl/data/export")
        .header("x-emqx-sim-cookie", emqx_sim_api::DEFAULT_COOKIE)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(status_code(r).await, (401, "BAD_CTL_TOKEN".to_owned()));
    let r = sim
        .get("/internal/cluster/files")
        .header("x-emqx-sim-cookie", emqx_sim_api::DEFAULT_COOKIE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sim.stop().await;
}
