//! Load on one core: ten exports, ten imports, two uploads of one name and a stream of seed
//! writes at the same time. Every request completes or is refused with EMQX's kind of
//! answer, every listed file verifies, and no write is lost.

mod common;

use common::synth::Synth;
use common::{answer, Auth, Opts, Sim};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

const ARCHIVE: &str = "emqx-export-2024-01-01-00-00-00.000.tar.gz";
const OTHER: &str = "emqx-export-2024-01-01-00-00-01.000.tar.gz";
const USERS: usize = 20_000;
const BANS: usize = 200;
const SEEDS: usize = 40;
const AUTHN: &str = "/api/v5/authentication/password_based:built_in_database";

/// What one concurrent request was and how it was answered.
enum Outcome {
    Export(u16, Value),
    Import(u16, Value),
    Upload(u16, Value),
    Seed(String, u16, Value),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_exports_imports_uploads_and_writes() {
    let sim = Arc::new(Sim::start(Opts::core()).await);
    let auth = Arc::new(Auth::Bearer(sim.token().await));
    let gen = tempfile::tempdir().unwrap();
    let archive = Synth {
        users: 0..USERS,
        superuser: true,
        salt_position: "suffix",
        bans: 0..BANS,
    }
    .write(gen.path(), ARCHIVE);
    let other = Synth {
        users: 0..50,
        superuser: false,
        salt_position: "suffix",
        bans: 0..5,
    }
    .write(gen.path(), OTHER);
    let r = sim
        .upload(&auth, ARCHIVE, std::fs::read(&archive).unwrap())
        .await;
    assert_eq!(r.status(), 204);
    let r = auth
        .apply(sim.post("/api/v5/authentication"))
        .json(&json!({
            "mechanism": "password_based",
            "backend": "built_in_database",
            "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let other_bytes = std::fs::read(&other).unwrap();

    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (s, a) = (sim.clone(), auth.clone());
        tasks.spawn(async move {
            let (sim, auth) = (s, a);
            let r = auth
                .apply(sim.post("/api/v5/data/export"))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let (s, v) = answer(r).await;
            (i, Outcome::Export(s, v))
        });
        let (sim, auth) = (sim.clone(), auth.clone());
        tasks.spawn(async move {
            let r = auth
                .apply(sim.post("/api/v5/data/import"))
                .json(&json!({"filename": ARCHIVE}))
                .send()
                .await
                .unwrap();
            let (s, v) = answer(r).await;
            (i, Outcome::Import(s, v))
        });
    }
    for i in 0..2 {
        let (sim, auth, bytes) = (sim.clone(), auth.clone(), other_bytes.clone());
        tasks.spawn(async move {
            let (s, v) = answer(sim.upload(&auth, OTHER, bytes).await).await;
            (i, Outcome::Upload(s, v))
        });
    }
    for i in 0..SEEDS {
        let (sim, auth) = (sim.clone(), auth.clone());
        tasks.spawn(async move {
            let who = format!("seed-{i:03}");
            let r = if i % 2 == 0 {
                auth.apply(sim.post("/api/v5/banned"))
                    .json(&json!({"as": "clientid", "who": who}))
            } else {
                auth.apply(sim.post(&format!("{AUTHN}/users")))
                    .json(&json!({"user_id": who, "password": "Seed-pass-1"}))
            };
            let (s, v) = answer(r.send().await.unwrap()).await;
            (i, Outcome::Seed(who, s, v))
        });
    }

    let mut exported = BTreeSet::new();
    let (mut imported, mut refused, mut uploaded, mut duplicates) = (0, 0, 0, 0);
    let mut seeded = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, outcome) = done.unwrap();
        match outcome {
            Outcome::Export(s, v) => {
                assert_eq!(s, 200, "export {i}: {v}");
                exported.insert(v["filename"].as_str().unwrap().to_owned());
            }
            Outcome::Import(204, _) => imported += 1,
            Outcome::Import(s, v) => {
                // Refused cleanly, naming the import in progress.
                let message = v["message"].as_str().unwrap_or_default();
                assert_eq!(
                    (s, v["code"].as_str()),
                    (400, Some("BAD_REQUEST")),
                    "import {i}: {v}"
                );
                assert_eq!(
                    message,
                    format!(
                        "backup data import is already in progress: \"{ARCHIVE}\"; only one \
                         import runs at a time, try again when it has finished"
                    ),
                    "import {i}"
                );
                refused += 1;
            }
            Outcome::Upload(204, _) => uploaded += 1,
            Outcome::Upload(s, v) => {
                assert_eq!(
                    (s, v["message"].as_str()),
                    (
                        400,
                        Some(format!("Backup file \"{OTHER}\" already exists").as_str())
                    ),
                    "upload {i}: {v}"
                );
                duplicates += 1;
            }
            Outcome::Seed(who, s, v) => {
                assert!(s == 200 || s == 201, "seed {who}: {s} {v}");
                seeded.push(who);
            }
        }
    }
    eprintln!(
        "load: {imported} imports ran, {refused} refused as in progress; all answered in {:?}",
        started.elapsed()
    );
    assert_eq!(exported.len(), 10, "ten exports, ten names: {exported:?}");
    assert!(imported >= 1 && imported + refused == 10);
    assert_eq!((uploaded, duplicates), (1, 1));
    assert_eq!(seeded.len(), SEEDS);

    // Every listed file is whole: the uploads byte for byte, the exports verify.
    let (s, v) = answer(
        auth.apply(sim.get("/api/v5/data/files?limit=100"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let listed: BTreeSet<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap().to_owned())
        .collect();
    let mut want = exported.clone();
    want.extend([ARCHIVE.to_owned(), OTHER.to_owned()]);
    assert_eq!(listed, want);
    let copies = tempfile::tempdir().unwrap();
    for name in &listed {
        let r = auth
            .apply(sim.get(&format!("/api/v5/data/files/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let bytes = r.bytes().await.unwrap();
        match name.as_str() {
            ARCHIVE => assert!(bytes == std::fs::read(&archive).unwrap(), "{name}"),
            OTHER => assert!(bytes == other_bytes, "{name}"),
            _ => {
                let copy = copies.path().join(name);
                std::fs::write(&copy, &bytes).unwrap();
                let tables = emqx_archive::inspect(&copy, &emqx_archive::Limits::default())
                    .unwrap_or_else(|e| panic!("{name} does not verify: {e}"))
                    .tables;
                assert!(tables.contains_key("emqx_authn_mnesia"), "{name}");
            }
        }
    }

    // No write was lost: every seed, every imported row.
    for who in &seeded {
        let n: usize = who[5..].parse().unwrap();
        let path = if n % 2 == 0 {
            format!("/api/v5/banned?clientid={who}")
        } else {
            format!("{AUTHN}/users/{who}")
        };
        let (s, v) = answer(auth.apply(sim.get(&path)).send().await.unwrap()).await;
        assert_eq!(s, 200, "{who}: {v}");
        if n % 2 == 0 {
            assert_eq!(v["data"].as_array().map(Vec::len), Some(1), "{who}: {v}");
        } else {
            assert_eq!(v["user_id"], who.as_str());
        }
    }
    assert_eq!(sim.count("emqx_authn_mnesia"), (USERS + SEEDS / 2) as u64);
    assert_eq!(sim.count("emqx_banned"), (BANS + SEEDS / 2) as u64);
    Arc::into_inner(sim).unwrap().stop().await;
}
