//! Crash safety of the `emqx-sim` process: SIGKILL at random points while a large import, an
//! export and an upload run, then a restart. The node must hold exactly the state before the
//! import or exactly the state after it, every file `GET /data/files` lists must be whole, and
//! nothing temporary may be left in the data dir.
//!
//! `EMQX_SIM_CRASH_USERS`, `EMQX_SIM_CRASH_ROUNDS` and `EMQX_SIM_CRASH_SEED` change the size,
//! the number of kills and the random delays (the seed is printed).

mod common;

use common::synth::Synth;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OLD: &str = "emqx-export-2024-01-01-00-00-00.000.tar.gz";
const NEW: &str = "emqx-export-2024-01-01-00-00-01.000.tar.gz";
const UPLOADED: &str = "emqx-export-2024-01-01-00-00-02.000.tar.gz";
const AUTHN: &str = "/api/v5/authentication/password_based:built_in_database";
const OLD_USERS: usize = 2_000;
const OLD_BANS: usize = 20;
const NEW_BANS: usize = 200;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small xorshift generator: the delays are reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A running `emqx-sim start`; killed with SIGKILL when dropped.
struct Proc {
    child: Child,
    url: String,
}

impl Proc {
    fn start(data_dir: &Path) -> Proc {
        let bin = emqx_backup_tests::plugins::build();
        let _ = std::fs::remove_file(data_dir.join("node.json"));
        let mut child = Command::new(bin.join(format!("emqx-sim{}", std::env::consts::EXE_SUFFIX)))
            .arg("start")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--plugin-dir")
            .arg(&bin)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("emqx-sim starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let file = std::fs::read(data_dir.join("node.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            if let Some(v) = file.filter(|v| v["pid"] == child.id()) {
                let url = v["url"].as_str().unwrap().to_owned();
                return Proc { child, url };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "emqx-sim in {} exited at start: {status}",
                    data_dir.display()
                );
            }
            assert!(Instant::now() < deadline, "no node.json after 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, and the process is gone.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of one node, logged in as `admin`.
struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn login(p: &Proc) -> Api {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let r = http
            .post(format!("{}/api/v5/login", p.url))
            .json(&json!({"username": "admin", "password": "public"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login");
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        Api {
            http,
            url: p.url.clone(),
            token,
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    async fn upload(&self, name: &str, bytes: Vec<u8>) -> reqwest::Result<reqwest::Response> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        let form = reqwest::multipart::Form::new().part("filename", part);
        self.post("/api/v5/data/files").multipart(form).send().await
    }

    async fn import(&self, name: &str) -> reqwest::Result<reqwest::Response> {
        self.post("/api/v5/data/import")
            .json(&json!({"filename": name}))
            .send()
            .await
    }

    /// What the old and the new state differ in: users, superusers, bans and the
    /// authenticator's salt position.
    async fn state(&self) -> State {
        let count = |v: Value| v["meta"]["count"].as_u64().unwrap();
        State {
            users: count(self.json(&format!("{AUTHN}/users?limit=1")).await),
            superusers: count(
                self.json(&format!("{AUTHN}/users?limit=1&is_superuser=true"))
                    .await,
            ),
            bans: count(self.json("/api/v5/banned?limit=1").await),
            salt_position: self.json(AUTHN).await["password_hash_algorithm"]["salt_position"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    async fn files(&self) -> Vec<String> {
        self.json("/api/v5/data/files?limit=1000").await["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["filename"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    users: u64,
    superusers: u64,
    bans: u64,
    salt_position: String,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Files an interrupted write may leave: hidden `*.tmp` files and `.upload-*` entries.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".upload-") || (name.starts_with('.') && name.ends_with(".tmp")) {
            out.push(entry.path());
        } else if entry.file_type().unwrap().is_dir() {
            out.extend(temporaries(&entry.path()));
        }
    }
    out
}

/// The `salt_position` of the authenticator in the rendered `configs/cluster.hocon`.
fn rendered_salt_position(data_dir: &Path) -> String {
    let path = data_dir.join("configs/cluster.hocon");
    let text = std::fs::read_to_string(&path).unwrap();
    let config =
        emqx_archive::parse_config(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    config["authentication"][0]["password_hash_algorithm"]["salt_position"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Checks a restarted node: its state is one of `allowed`, the rendered config follows it,
/// every listed file is whole (the `sources` byte for byte, the rest verify) and no temporary
/// file is left. Returns the state.
async fn check_restarted(
    data_dir: &Path,
    allowed: &[&State],
    sources: &[(&str, &[u8])],
    round: &str,
) -> State {
    let p = Proc::start(data_dir);
    let left = temporaries(data_dir);
    assert!(
        left.is_empty(),
        "{round}: left behind after restart: {left:?}"
    );
    let api = Api::login(&p).await;
    let state = api.state().await;
    assert!(
        allowed.contains(&&state),
        "{round}: the node holds {state:?}, none of {allowed:?}"
    );
    assert_eq!(
        rendered_salt_position(data_dir),
        state.salt_position,
        "{round}: cluster.hocon does not follow the store"
    );
    let verified = tempfile::tempdir().unwrap();
    for name in api.files().await {
        let r = api
            .get(&format!("/api/v5/data/files/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{round}: {name}");
        let bytes = r.bytes().await.unwrap();
        if let Some((_, source)) = sources.iter().find(|(n, _)| *n == name) {
            assert!(bytes == *source, "{round}: {name} is not the file uploaded");
        } else {
            let copy = verified.path().join(&name);
            std::fs::write(&copy, &bytes).unwrap();
            emqx_archive::inspect(&copy, &emqx_archive::Limits::default())
                .unwrap_or_else(|e| panic!("{round}: {name} is listed but broken: {e}"));
        }
    }
    p.kill();
    state
}

/// What one launched operation was, its status (`None` when the node died first) and when it
/// was answered, counted from the launch.
type Done = (&'static str, Option<u16>, Duration);

/// Starts the import of the new archive, an export and an upload at once.
fn launch(api: &std::sync::Arc<Api>, uploaded: &[u8]) -> tokio::task::JoinSet<Done> {
    let started = Instant::now();
    let mut work = tokio::task::JoinSet::new();
    let a = api.clone();
    work.spawn(async move {
        let r = a.import(NEW).await;
        (
            "import",
            r.ok().map(|r| r.status().as_u16()),
            started.elapsed(),
        )
    });
    let a = api.clone();
    work.spawn(async move {
        let r = a.post("/api/v5/data/export").json(&json!({})).send().await;
        (
            "export",
            r.ok().map(|r| r.status().as_u16()),
            started.elapsed(),
        )
    });
    let (a, bytes) = (api.clone(), uploaded.to_vec());
    work.spawn(async move {
        let r = a.upload(UPLOADED, bytes).await;
        (
            "upload",
            r.ok().map(|r| r.status().as_u16()),
            started.elapsed(),
        )
    });
    work
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_import_export_and_upload() {
    let users = env_or("EMQX_SIM_CRASH_USERS", 50_000) as usize;
    let rounds = env_or("EMQX_SIM_CRASH_ROUNDS", 20);
    let seed = env_or(
        "EMQX_SIM_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    ) | 1;
    eprintln!("crash test: {users} users, {rounds} rounds, EMQX_SIM_CRASH_SEED={seed}");
    let tmp = tempfile::tempdir().unwrap();
    let gen = tmp.path().join("gen");
    let old_archive = Synth {
        users: 0..OLD_USERS,
        superuser: false,
        salt_position: "prefix",
        bans: 0..OLD_BANS,
    }
    .write(&gen, OLD);
    let new_synth = Synth {
        users: 0..users,
        superuser: true,
        salt_position: "suffix",
        bans: 0..NEW_BANS,
    };
    let new_archive = new_synth.write(&gen, NEW);
    let uploaded = std::fs::read(new_synth.write(&gen, UPLOADED)).unwrap();
    let old_bytes = std::fs::read(&old_archive).unwrap();
    let new_bytes = std::fs::read(&new_archive).unwrap();
    let old = State {
        users: OLD_USERS as u64,
        superusers: 0,
        bans: OLD_BANS as u64,
        salt_position: "prefix".into(),
    };
    let new = State {
        users: users.max(OLD_USERS) as u64,
        superusers: users as u64,
        bans: NEW_BANS.max(OLD_BANS) as u64,
        salt_position: "suffix".into(),
    };
    let sources: [(&str, &[u8]); 3] = [(OLD, &old_bytes), (NEW, &new_bytes), (UPLOADED, &uploaded)];

    // The state every round starts from: the old archive imported, the new one uploaded.
    let pristine = tmp.path().join("pristine");
    {
        let p = Proc::start(&pristine);
        let api = Api::login(&p).await;
        for (name, bytes) in [(OLD, &old_bytes), (NEW, &new_bytes)] {
            let r = api.upload(name, bytes.clone()).await.unwrap();
            assert_eq!(r.status(), 204, "upload {name}");
        }
        let r = api.import(OLD).await.unwrap();
        assert_eq!(r.status(), 204, "import {OLD}");
        assert_eq!(api.state().await, old);
        p.kill();
    }

    // A reference round without a kill: the new state, and how long the operations take
    // together and an export of the new state alone.
    let reference = tmp.path().join("reference");
    copy_dir(&pristine, &reference);
    let (import_time, export_time) = {
        let p = Proc::start(&reference);
        let api = std::sync::Arc::new(Api::login(&p).await);
        let mut import_time = Duration::ZERO;
        for (what, status, took) in launch(&api, &uploaded).join_all().await {
            let want = if what == "export" { 200 } else { 204 };
            assert_eq!(status, Some(want), "reference {what}");
            if what == "import" {
                import_time = took;
            }
        }
        assert_eq!(api.state().await, new);
        let started = Instant::now();
        let r = api
            .post("/api/v5/data/export")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "reference export");
        let export_time = started.elapsed();
        p.kill();
        (import_time, export_time)
    };
    eprintln!("crash test: import {import_time:?}, export of the new state {export_time:?}");
    assert_eq!(
        check_restarted(&reference, &[&new], &sources, "reference").await,
        new
    );

    // The kills, after random delays spread evenly over the work. Three quarters of the
    // rounds start from the old state and run the import, an export and an upload at once;
    // the rest start from the new state and run an export of it alone.
    let mut rng = Rng(seed);
    let import_rounds = rounds - rounds / 4;
    let (mut saw_old, mut saw_new) = (0, 0);
    for round in 0..rounds {
        let round_started = Instant::now();
        let dir = tmp.path().join(format!("round-{round}"));
        let importing = round < import_rounds;
        copy_dir(if importing { &pristine } else { &reference }, &dir);
        let p = Proc::start(&dir);
        let api = std::sync::Arc::new(Api::login(&p).await);
        let (work, delay, allowed) = if importing {
            let spread = (round as f64 + rng.unit()) / import_rounds as f64;
            let work = launch(&api, &uploaded);
            (work, import_time.mul_f64(spread * 1.2), vec![&old, &new])
        } else {
            let spread =
                ((round - import_rounds) as f64 + rng.unit()) / (rounds - import_rounds) as f64;
            let mut work = tokio::task::JoinSet::new();
            let (a, started) = (api.clone(), Instant::now());
            work.spawn(async move {
                let r = a.post("/api/v5/data/export").json(&json!({})).send().await;
                (
                    "export",
                    r.ok().map(|r| r.status().as_u16()),
                    started.elapsed(),
                )
            });
            (work, export_time.mul_f64(spread * 1.2), vec![&new])
        };
        tokio::time::sleep(delay).await;
        p.kill();
        work.join_all().await;
        let what = if importing { "import" } else { "export" };
        let name = format!("round {round} ({what}, killed after {delay:?})");
        let state = check_restarted(&dir, &allowed, &sources, &name).await;
        let is_new = state == new;
        if is_new {
            saw_new += 1;
        } else {
            saw_old += 1;
        }
        eprintln!(
            "crash test: {name}: {} state, round took {:?}",
            if is_new { "new" } else { "old" },
            round_started.elapsed()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("crash test: after the kills, {saw_old} nodes held the old state, {saw_new} the new");
}
