//! Every archive of the hostile corpus (`emqx_backup_tests::hostile`) through `emqx-backup
//! verify`, `inspect`, `plan` and `import --yes` against a live `emqx-sim` node, and through
//! the node's own upload and import endpoints. Each must end with the documented exit code and
//! a message naming the entry (or the file), in bounded memory and time, writing nothing
//! outside its folders and leaving the node's state as it was.

use emqx_backup_tests::hostile::{self, Case, NodeAnswer, ESCAPE_MARK};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Highest peak resident memory allowed to one `emqx-backup` run, and to the node.
const MAX_RSS_KB: i64 = 512 * 1024;
/// Address space a child may reserve before its allocations fail (stops a runaway early).
const MAX_AS_BYTES: u64 = 8 << 30;
/// Longest one command may take.
const MAX_SECONDS: u64 = 90;

/// A running `emqx-sim start`, killed on drop.
struct Sim {
    child: Child,
    url: String,
    token: String,
    http: reqwest::blocking::Client,
    /// The node runs one import at a time and refuses a second meanwhile.
    imports: std::sync::Mutex<()>,
}

impl Sim {
    fn start(data_dir: &Path, tmp: &Path) -> Sim {
        let bin = emqx_backup_tests::plugins::build();
        let mut cmd = Command::new(bin.join("emqx-sim"));
        cmd.arg("start")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--plugin-dir")
            .arg(&bin)
            .args(["--listen", "127.0.0.1:0"])
            .env("TMPDIR", tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        limit_address_space(&mut cmd);
        let mut child = cmd.spawn().expect("emqx-sim starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            if let Some(v) = std::fs::read(data_dir.join("node.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            {
                break v["url"].as_str().expect("node.json has the url").to_owned();
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("emqx-sim start exited early: {status}");
            }
            assert!(Instant::now() < deadline, "no node.json after 60 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(MAX_SECONDS))
            .build()
            .expect("an HTTP client");
        let login = http
            .post(format!("{url}/api/v5/login"))
            .json(&json!({"username": "admin", "password": "public"}))
            .send()
            .expect("login answers")
            .json::<Value>()
            .expect("login JSON");
        let token = login["token"].as_str().expect("a token").to_owned();
        Sim {
            child,
            url,
            token,
            http,
            imports: std::sync::Mutex::new(()),
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v5{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = match req.send() {
            Ok(r) => r,
            Err(e) => return (0, Value::String(format!("{path}: no answer: {e}"))),
        };
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn upload(&self, path: &Path) -> (u16, String) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let part =
            reqwest::blocking::multipart::Part::bytes(std::fs::read(path).unwrap()).file_name(name);
        let form = reqwest::blocking::multipart::Form::new().part("filename", part);
        let resp = self
            .http
            .post(format!("{}/api/v5/data/files", self.url))
            .bearer_auth(&self.token)
            .multipart(form)
            .send();
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return (0, format!("upload: no answer: {e}")),
        };
        let status = resp.status().as_u16();
        (status, message(&resp.text().unwrap_or_default()))
    }

    fn import(&self, name: &str) -> (u16, String) {
        let _one = self.imports.lock().unwrap_or_else(|e| e.into_inner());
        let (s, body) = self.call(
            reqwest::Method::POST,
            "/data/import",
            Some(json!({ "filename": name })),
        );
        (s, message(&body.to_string()))
    }

    fn files(&self) -> Vec<String> {
        let (s, body) = self.call(reqwest::Method::GET, "/data/files?limit=10000", None);
        assert_eq!(s, 200, "{body}");
        body["data"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|f| f["filename"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The node's whole state through an export: per table the set of records, and the config.
    fn state(&self, scratch: &Path) -> (BTreeMap<String, Vec<Vec<u8>>>, Value) {
        let (s, info) = self.call(reqwest::Method::POST, "/data/export", Some(json!({})));
        assert_eq!(s, 200, "export: {info}");
        let name = info["filename"].as_str().expect("a file name").to_owned();
        let bytes = self
            .http
            .get(format!("{}/api/v5/data/files/{name}", self.url))
            .bearer_auth(&self.token)
            .send()
            .expect("download")
            .bytes()
            .expect("download");
        let (s, _) = self.call(
            reqwest::Method::DELETE,
            &format!("/data/files/{name}"),
            None,
        );
        assert_eq!(s, 204, "deleting the export {name}");
        std::fs::create_dir_all(scratch).unwrap();
        let path = scratch.join(&name);
        std::fs::write(&path, &bytes).unwrap();
        let contents = emqx_archive::Contents::read(&path, &emqx_archive::Limits::default())
            .expect("the node's export reads");
        std::fs::remove_file(&path).unwrap();
        let mut tables = BTreeMap::new();
        for (rel, bytes) in &contents.entries {
            let Some(table) = rel.strip_prefix("mnesia/") else {
                continue;
            };
            let mut reader = mnesia_backup::BackupReader::open(
                rel,
                bytes.as_slice(),
                mnesia_backup::ReadOptions::default(),
            )
            .expect("the node's table files read");
            let mut records = Vec::new();
            while let Some(r) = reader.next_raw().expect("records") {
                records.push(r.bytes.to_vec());
            }
            records.sort();
            tables.insert(table.to_owned(), records);
        }
        (tables, Value::Object(contents.config.unwrap_or_default()))
    }

    /// Peak resident memory of the node so far, in KiB.
    fn peak_rss_kb(&self) -> i64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the node's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `message` of an EMQX error body, or the text itself.
fn message(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => match m.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

fn limit_address_space(cmd: &mut Command) {
    // SAFETY: setrlimit is async-signal-safe and touches nothing of the parent.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MAX_AS_BYTES,
                rlim_max: MAX_AS_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// One finished `emqx-backup` run.
struct Run {
    code: i32,
    output: String,
    peak_rss_kb: i64,
    seconds: f64,
    killed: bool,
}

/// Runs `emqx-backup` in `cwd` with `TMPDIR=tmp`, under an address-space limit and a time
/// limit, and measures its peak resident memory.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reports its peak memory"
)]
fn cli(args: &[&str], cwd: &Path, tmp: &Path) -> Run {
    let bin = emqx_backup_tests::plugins::binary();
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("EMQX_BACKUP_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--plugin-dir")
        .arg(emqx_backup_tests::plugins::build())
        .args(args)
        .current_dir(cwd)
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    limit_address_space(&mut cmd);
    let started = Instant::now();
    let mut child = cmd.spawn().expect("emqx-backup starts");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if wait.recv_timeout(Duration::from_secs(MAX_SECONDS)).is_err() {
            // SAFETY: the child is not reaped until wait4 below returns.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet reaped; status and usage are valid pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let _ = done.send(());
    let killed = watchdog.join().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let output = format!("{}{}", reader.join().unwrap(), err_reader.join().unwrap());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Run {
        code,
        output,
        peak_rss_kb: usage.ru_maxrss,
        seconds,
        killed,
    }
}

/// Every file under `dir` (recursively), relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in read.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

/// Files a hostile entry name would have created outside its folder.
fn escapes(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = tree(root)
        .into_iter()
        .filter(|p| p.contains(ESCAPE_MARK))
        .map(|p| root.join(p))
        .collect();
    for dir in [Path::new("/tmp"), Path::new("/")] {
        if let Ok(read) = std::fs::read_dir(dir) {
            found.extend(
                read.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().contains(ESCAPE_MARK)),
            );
        }
    }
    found
}

/// The node's data dir without what changes on its own (the database, the backup folder).
fn data_files(data: &Path) -> Vec<(String, Vec<u8>)> {
    tree(data)
        .into_iter()
        .filter(|p| !p.starts_with("emqx-sim.sqlite3") && !p.starts_with("backup"))
        .filter(|p| data.join(p).is_file())
        .map(|p| {
            let bytes = std::fs::read(data.join(&p)).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

struct Outcome {
    id: String,
    lines: Vec<String>,
    failures: Vec<String>,
    peak_rss_kb: i64,
}

fn check_case(case: &Case, sim: &Sim, root: &Path, worker: usize) -> Outcome {
    let cwd = root.join(format!("cwd-{worker}"));
    let tmp = root.join(format!("tmp-{worker}"));
    for d in [&cwd, &tmp] {
        std::fs::create_dir_all(d).unwrap();
    }
    let file = case.path.to_str().unwrap();
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    let mut peak = 0;
    let mut expect = |what: &str, run: &Run, code: i32| {
        peak = peak.max(run.peak_rss_kb);
        let first = run
            .output
            .lines()
            .find(|l| l.starts_with("error:") || l.starts_with("ok:"))
            .unwrap_or_else(|| run.output.lines().last().unwrap_or(""));
        lines.push(format!(
            "  {what:<8} exit {} in {:.1} s, peak {} MiB: {}",
            run.code,
            run.seconds,
            run.peak_rss_kb / 1024,
            first.chars().take(200).collect::<String>()
        ));
        if run.killed {
            failures.push(format!("{what}: ran over {MAX_SECONDS} s and was killed"));
        } else if run.code != code {
            failures.push(format!(
                "{what}: exit {} instead of {code}: {}",
                run.code, run.output
            ));
        } else if code != 0 && !run.output.contains(&case.needle) {
            failures.push(format!(
                "{what}: the message does not name {:?}: {}",
                case.needle, run.output
            ));
        }
        if run.output.contains("panicked") || run.output.contains("RUST_BACKTRACE") {
            failures.push(format!("{what}: panicked: {}", run.output));
        }
        if run.peak_rss_kb > MAX_RSS_KB {
            failures.push(format!(
                "{what}: peak resident memory {} MiB over {} MiB",
                run.peak_rss_kb / 1024,
                MAX_RSS_KB / 1024
            ));
        }
    };
    let node = [
        "--node",
        &sim.url,
        "--username",
        "admin",
        "--password",
        "public",
    ];
    expect("verify", &cli(&["verify", file], &cwd, &tmp), case.offline);
    expect(
        "inspect",
        &cli(&["inspect", file], &cwd, &tmp),
        case.offline,
    );
    let plan = [&node[..], &["plan", file]].concat();
    expect("plan", &cli(&plan, &cwd, &tmp), case.live);
    let import = [&node[..], &["import", "--yes", file]].concat();
    expect("import", &cli(&import, &cwd, &tmp), case.live);
    let name = case
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (status, msg) = sim.upload(&case.path);
    lines.push(format!(
        "  upload   {status}: {}",
        msg.chars().take(200).collect::<String>()
    ));
    match &case.node {
        NodeAnswer::UploadRefused(needle) => {
            if status != 400 || !msg.contains(needle.as_str()) {
                failures.push(format!(
                    "upload: {status} {msg:?}, expected 400 naming {needle:?}"
                ));
            }
        }
        NodeAnswer::ImportRefused(needle) => {
            if status != 204 {
                failures.push(format!("upload: {status} {msg:?}, expected 204"));
            } else {
                let (status, msg) = sim.import(&name);
                lines.push(format!(
                    "  import   {status}: {}",
                    msg.chars().take(200).collect::<String>()
                ));
                if status != 400 || !msg.contains(needle.as_str()) {
                    failures.push(format!(
                        "node import: {status} {msg:?}, expected 400 naming {needle:?}"
                    ));
                }
                let (s, body) = sim.call(
                    reqwest::Method::DELETE,
                    &format!("/data/files/{name}"),
                    None,
                );
                if s != 204 {
                    failures.push(format!("deleting {name} from the node: {s} {body}"));
                }
            }
        }
    }
    for (what, dir) in [("working folder", &cwd), ("TMPDIR", &tmp)] {
        let left = tree(dir);
        if !left.is_empty() {
            failures.push(format!("files left in the {what}: {left:?}"));
        }
    }
    Outcome {
        id: case.id.clone(),
        lines,
        failures,
        peak_rss_kb: peak,
    }
}

#[test]
fn hostile_archives_are_refused_everywhere_in_bounded_memory() {
    let started = Instant::now();
    emqx_backup_tests::plugins::build();
    let root_dir = tempfile::tempdir().unwrap();
    let root = root_dir.path();
    let corpus_dir = root.join("corpus");
    let cases = hostile::generate(&corpus_dir);
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let generated = started.elapsed();
    let corpus_files = tree(&corpus_dir);
    let data = root.join("node");
    let sim_tmp = root.join("node-tmp");
    std::fs::create_dir_all(&sim_tmp).unwrap();
    let sim = Sim::start(&data, &sim_tmp);
    // Something for a half-applied import to change.
    let (s, b) = sim.call(
        reqwest::Method::POST,
        "/banned",
        Some(json!({"as": "clientid", "who": "seed-client", "reason": "seed"})),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = sim.call(
        reqwest::Method::POST,
        "/authentication",
        Some(
            json!({"mechanism": "password_based", "backend": "built_in_database",
                    "user_id_type": "username",
                    "password_hash_algorithm": {"name": "sha256", "salt_position": "suffix"}}),
        ),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = sim.call(
        reqwest::Method::POST,
        "/authentication/password_based:built_in_database/users",
        Some(json!({"user_id": "seed-user", "password": "seed-password"})),
    );
    assert_eq!(s, 201, "{b}");
    let before = sim.state(&root.join("state"));
    assert!(
        before.0.get("emqx_banned").is_some_and(|r| r.len() == 1),
        "the seeded ban is exported: {:?}",
        before.0.keys()
    );
    let files_before = data_files(&data);

    let workers = 2;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (cases, sim, next) = (&cases, &sim, &next);
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(case) = cases.get(i) else { break };
                        out.push(check_case(case, sim, root, w));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker"))
            .collect()
    });

    let mut failures = Vec::new();
    let mut report = String::new();
    for case in &cases {
        let o = outcomes.iter().find(|o| o.id == case.id).unwrap();
        report.push_str(&format!(
            "{} ({}), peak {} MiB{}\n",
            case.id,
            case.what,
            o.peak_rss_kb / 1024,
            if o.failures.is_empty() { "" } else { " FAILED" }
        ));
        for l in &o.lines {
            report.push_str(l);
            report.push('\n');
        }
        for f in &o.failures {
            failures.push(format!("{}: {f}", case.id));
        }
    }
    let after = sim.state(&root.join("state"));
    if after != before {
        failures.push(format!(
            "the node's state changed: tables before {:?}, after {:?}; config equal: {}",
            before
                .0
                .iter()
                .map(|(k, v)| (k, v.len()))
                .collect::<Vec<_>>(),
            after
                .0
                .iter()
                .map(|(k, v)| (k, v.len()))
                .collect::<Vec<_>>(),
            before.1 == after.1
        ));
    }
    let left = sim.files();
    if !left.is_empty() {
        failures.push(format!("backup files left on the node: {left:?}"));
    }
    let backup_dir = tree(&data.join("backup"));
    if !backup_dir.is_empty() {
        failures.push(format!("left in the node's backup folder: {backup_dir:?}"));
    }
    if data_files(&data) != files_before {
        failures.push("files of the node's data dir changed".into());
    }
    let sim_left = tree(&sim_tmp);
    if !sim_left.is_empty() {
        failures.push(format!("left in the node's TMPDIR: {sim_left:?}"));
    }
    if tree(&corpus_dir) != corpus_files {
        failures.push("files appeared in the corpus folder".into());
    }
    let escaped = escapes(root);
    if !escaped.is_empty() {
        failures.push(format!("written outside their folders: {escaped:?}"));
    }
    let node_peak = sim.peak_rss_kb();
    if node_peak > MAX_RSS_KB {
        failures.push(format!(
            "the node's peak resident memory is {} MiB, over {} MiB",
            node_peak / 1024,
            MAX_RSS_KB / 1024
        ));
    }
    eprintln!(
        "{report}{} cases in {:.1} s (corpus generated in {:.1} s); node peak {} MiB",
        cases.len(),
        started.elapsed().as_secs_f64(),
        generated.as_secs_f64(),
        node_peak / 1024
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
