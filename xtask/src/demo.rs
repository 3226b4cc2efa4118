//! `cargo xtask demo`: the whole job on simulated EMQX nodes. Starts node A and seeds every
//! domain through EMQX's REST API, backs it up with `emqx-backup export`, shows `inspect` and
//! `verify`, starts node B holding other data, shows the plan of importing A's archive into B,
//! imports it with `emqx-backup import`, and checks through B's REST API that A's data arrived
//! and B's own data stayed.

mod node;
mod seed;

use anyhow::{anyhow, ensure};
use node::SimNode;
use seed::{ACL_RULES, OPERATOR, PASSWORD_USERS, PSK_IDS, SCRAM_USERS};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The dashboard login every `emqx-backup` call of the demo uses.
const LOGIN: [(&str, &str); 2] = [
    ("EMQX_BACKUP_USERNAME", "admin"),
    ("EMQX_BACKUP_PASSWORD", "public"),
];

fn title(text: &str) {
    println!("\n==> {text}");
}

/// `path` relative to the workspace root when it lies below it.
fn shown(path: &Path) -> PathBuf {
    path.strip_prefix(crate::root())
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_owned())
}

/// Runs the release `emqx-backup` in the workspace root, echoing the command and its output
/// (its progress lines go straight to stderr); returns what it printed on stdout.
fn backup(args: &[&str]) -> anyhow::Result<String> {
    println!("$ emqx-backup {}", args.join(" "));
    let out = Command::new(crate::release_bin("emqx-backup"))
        .args(args)
        .envs(LOGIN)
        .current_dir(crate::root())
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    ensure!(
        out.status.success(),
        "emqx-backup {} failed ({})",
        args.join(" "),
        out.status
    );
    Ok(text)
}

/// Builds everything, runs the whole job on two simulated nodes, and prints the checks.
pub fn run() -> anyhow::Result<()> {
    crate::build_release_with_plugins()?;
    let started = Instant::now();
    let root = crate::target_dir().join("demo");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    println!(
        "\nemqx-backup logs in with {}",
        LOGIN.map(|(k, v)| format!("{k}={v}")).join(" ")
    );

    title("start node A (emqx-sim, a fresh EMQX 5.8.6 core) and seed every domain through its REST API");
    let a = SimNode::start(&root.join("a"))?;
    let tls = seed::tls()?;
    for line in seed::node_a(&a, &root, &tls)? {
        println!("  {line}");
    }

    title("back up node A: EMQX exports, emqx-backup downloads, verifies and adds a manifest");
    let backups = shown(&root.join("backups"));
    backup(&[
        "--node",
        &a.url,
        "export",
        "-o",
        &backups.display().to_string(),
    ])?;
    let archive = only_file(&crate::root().join(&backups))?;
    let archive = shown(&archive).display().to_string();

    title("what the archive holds");
    backup(&["inspect", &archive])?;
    title("the TLS material in it, as the certs plugin reads it");
    tls_items(&archive)?;
    title("check it the way EMQX will, and stricter");
    backup(&["verify", &archive])?;

    title("start node B, which already holds data of its own");
    let b = SimNode::start(&root.join("b"))?;
    for line in seed::node_b(&b)? {
        println!("  {line}");
    }

    title("the plan of importing A's archive into B (changes nothing)");
    backup(&["--node", &b.url, "plan", &archive])?;

    title("import: plan, upload, EMQX's import, then a check that B holds what the plan said");
    let imported = backup(&["--node", &b.url, "import", &archive, "--yes"])?;

    title("checks through node B's REST API");
    let mut checks = checks(&b, &tls)?;
    checks.push((
        "emqx-backup import verified B's state against the plan (PSK identities included)".into(),
        imported.contains("verified"),
    ));
    let again = backup_quiet(&["--node", &b.url, "plan", &archive])?;
    checks.push((
        "a second plan inserts and updates nothing".into(),
        again.contains("total: 0 to insert, 0 to update"),
    ));
    for (what, ok) in &checks {
        println!("  [{}] {what}", if *ok { "ok" } else { "FAILED" });
    }
    ensure!(checks.iter().all(|(_, ok)| *ok), "some checks failed");
    println!(
        "\ndemo finished in {:.1} s after the build; node data and the archive in {}",
        started.elapsed().as_secs_f64(),
        shown(&root).display()
    );
    drop(a);
    Ok(())
}

/// `emqx-backup` without echoing: its output, whatever the exit code.
fn backup_quiet(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(crate::release_bin("emqx-backup"))
        .args(args)
        .envs(LOGIN)
        .current_dir(crate::root())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One line per TLS file option in `archive` (`inspect --domain certs --records --json`).
fn tls_items(archive: &str) -> anyhow::Result<()> {
    let args = [
        "inspect",
        archive,
        "--domain",
        "certs",
        "--records",
        "--json",
    ];
    println!("$ emqx-backup {}  (summarised)", args.join(" "));
    let doc: serde_json::Value = serde_json::from_str(&backup_quiet(&args)?)?;
    for item in doc["records"]["certs"]["items"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let text = |k: &str| item[k].as_str().unwrap_or("-").to_owned();
        let what = if item["subject"].is_null() {
            format!("{} ({})", text("kind"), text("key_type"))
        } else {
            format!(
                "{} {}, issued by {}, until {}",
                text("kind"),
                text("subject"),
                text("issuer"),
                text("not_after")
            )
        };
        println!(
            "  {}: {what}; EMQX writes it to {}",
            text("path"),
            text("would_write")
        );
    }
    Ok(())
}

/// The one file in `dir`.
fn only_file(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    ensure!(
        files.len() == 1,
        "{} holds {} files, not one",
        dir.display(),
        files.len()
    );
    files
        .pop()
        .ok_or_else(|| anyhow!("no file in {}", dir.display()))
}

/// What B's REST API shows after the import, one named check each.
fn checks(b: &SimNode, tls: &seed::Tls) -> anyhow::Result<Vec<(String, bool)>> {
    let mut checks: Vec<(String, bool)> = Vec::new();
    let users = b.list(PASSWORD_USERS, "user_id")?;
    for u in ["alice", "bob", "carol"] {
        checks.push((
            format!("password user {u} is on B"),
            users.iter().any(|x| x == u),
        ));
    }
    let scram = b.get("/authentication/scram:built_in_database")?;
    checks.push((
        "SCRAM authenticator (SHA-512) and scram-user arrived".into(),
        scram["algorithm"] == "sha512" && b.list(SCRAM_USERS, "user_id")? == ["scram-user"],
    ));
    let rules = b.get(&format!("{ACL_RULES}/users/alice"))?;
    checks.push((
        "alice's 2 ACL rules arrived".into(),
        rules["rules"].as_array().is_some_and(|r| r.len() == 2),
    ));
    let banned = b.list("/banned", "who")?;
    for who in ["mallory", "spam-bot", "spammer"] {
        checks.push((format!("{who} is banned"), banned.iter().any(|x| x == who)));
    }
    let psk = b.get("/configs/psk_authentication")?;
    checks.push((
        format!("PSK authentication enabled ({} identities)", PSK_IDS.len()),
        psk["enable"] == true,
    ));
    checks.push((
        format!("dashboard login as {} works on B", OPERATOR.0),
        b.login(OPERATOR.0, OPERATOR.1).is_ok(),
    ));
    checks.push((
        "B's own dashboard account auditor stayed".into(),
        b.list("/users", "username")?.iter().any(|u| u == "auditor"),
    ));
    checks.push(("API key ci arrived".into(), b.get("/api_key/ci").is_ok()));
    checks.push((
        "connector, action and rule demo_rule arrived".into(),
        b.get("/connectors/http:hook").is_ok()
            && b.get("/actions/http:hook").is_ok()
            && b.get("/rules/demo_rule").is_ok(),
    ));
    let listener = b.get("/listeners/ssl:default")?;
    let certfile = listener["ssl_options"]["certfile"]
        .as_str()
        .unwrap_or_default();
    checks.push((
        format!(
            "listener ssl:default's certificate is in B's {}",
            shown(Path::new(certfile)).display()
        ),
        std::fs::read_to_string(certfile).is_ok_and(|pem| pem == tls.cert),
    ));
    Ok(checks)
}
