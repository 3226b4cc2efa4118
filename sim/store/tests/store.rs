//! The store alone: records, config, files, transactions and the files rendered from them.

use emqx_sim_store::{Store, StoreError};
use erlang_term::Term;
use serde_json::json;

fn bin(s: &str) -> Term {
    Term::binary(s)
}

fn banned(who: Term, reason: &str) -> Term {
    Term::tuple(vec![
        Term::atom("emqx_banned"),
        who,
        bin("mgmt_api"),
        bin(reason),
        Term::Int(1_700_000_000),
        Term::atom("infinity"),
    ])
}

fn clientid(c: &str) -> Term {
    Term::tuple(vec![Term::atom("clientid"), bin(c)])
}

#[test]
fn put_get_scan_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(dir.path().join("emqx-sim.sqlite3").is_file());
    store
        .write(|tx| -> Result<(), StoreError> {
            for c in ["c3", "c1", "c2"] {
                tx.put("emqx_banned", &banned(clientid(c), "r"))?;
            }
            tx.put(
                "emqx_banned",
                &banned(Term::tuple(vec![Term::atom("username"), bin("u")]), "user"),
            )?;
            // Same key: replaced.
            tx.put("emqx_banned", &banned(clientid("c2"), "again"))?;
            Ok(())
        })
        .unwrap();
    store
        .read(|tx| {
            assert_eq!(tx.count("emqx_banned")?, 4);
            assert_eq!(tx.count("emqx_acl")?, 0);
            let got = tx.get("emqx_banned", &clientid("c2"))?.unwrap();
            assert_eq!(got, banned(clientid("c2"), "again"));
            assert!(tx.get("emqx_banned", &clientid("nope"))?.is_none());
            // Erlang term order of the keys: {clientid, _} < {username, _}, binaries by bytes.
            let keys: Vec<String> = tx
                .scan("emqx_banned")?
                .iter()
                .map(|r| r.as_tuple().unwrap()[1].to_string())
                .collect();
            assert_eq!(
                keys,
                [
                    "{clientid,<<\"c1\">>}",
                    "{clientid,<<\"c2\">>}",
                    "{clientid,<<\"c3\">>}",
                    "{username,<<\"u\">>}"
                ]
            );
            Ok(())
        })
        .unwrap();
    store
        .write(|tx| -> Result<(), StoreError> {
            assert!(tx.delete("emqx_banned", &clientid("c1"))?);
            assert!(!tx.delete("emqx_banned", &clientid("c1"))?);
            assert_eq!(tx.clear("emqx_banned")?, 3);
            Ok(())
        })
        .unwrap();
    assert_eq!(store.read(|tx| tx.count("emqx_banned")).unwrap(), 0);
}

#[test]
fn scan_orders_integers_before_tuples() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let acl = |who: Term| Term::tuple(vec![Term::atom("emqx_acl"), who, Term::list(vec![])]);
    let user = |u: &str| Term::tuple(vec![Term::Int(1), bin(u)]);
    let client = |c: &str| Term::tuple(vec![Term::Int(2), bin(c)]);
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.put("emqx_acl", &acl(client("a")))?;
            tx.put("emqx_acl", &acl(user("b")))?;
            tx.put("emqx_acl", &acl(Term::Int(0)))?;
            tx.put("emqx_acl", &acl(user("a")))?;
            Ok(())
        })
        .unwrap();
    let keys: Vec<Term> = store
        .read(|tx| tx.scan("emqx_acl"))
        .unwrap()
        .into_iter()
        .map(|r| r.as_tuple().unwrap()[1].clone())
        .collect();
    assert_eq!(keys, [Term::Int(0), user("a"), user("b"), client("a")]);
}

#[test]
fn put_checks_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let err = |table: &str, record: Term| {
        store
            .write(|tx| tx.put(table, &record))
            .expect_err("refused")
            .to_string()
    };
    assert!(err("no_such_table", banned(clientid("c"), "r")).contains("not a table"));
    assert!(err("emqx_banned", bin("x")).contains("not a tuple"));
    let wrong_tag = Term::tuple(vec![
        Term::atom("banned"),
        clientid("c"),
        bin(""),
        bin(""),
        Term::Int(0),
        Term::Int(0),
    ]);
    assert!(err("emqx_banned", wrong_tag).contains("not tagged"));
    let short = Term::tuple(vec![Term::atom("emqx_banned"), clientid("c")]);
    assert!(err("emqx_banned", short).contains("2 elements"));
    assert_eq!(store.read(|tx| tx.count("emqx_banned")).unwrap(), 0);
}

#[test]
fn error_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let result: Result<(), StoreError> = store.write(|tx| {
        tx.put("emqx_banned", &banned(clientid("c1"), "r"))?;
        tx.set_config("mqtt", &json!({"max_packet_size": "1MB"}))?;
        tx.put_file("certs/x/cert-1", b"pem")?;
        // Fails: the whole transaction goes.
        tx.put("emqx_banned", &bin("not a record"))
    });
    assert!(result.is_err());
    store
        .read(|tx| {
            assert_eq!(tx.count("emqx_banned")?, 0);
            assert!(tx.config("mqtt")?.is_none());
            assert!(tx.file("certs/x/cert-1")?.is_none());
            Ok(())
        })
        .unwrap();
    assert!(!dir.path().join("certs/x/cert-1").exists());
    // A panic inside a transaction rolls back too, and the store stays usable.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), StoreError> = store.write(|tx| {
            tx.put("emqx_banned", &banned(clientid("c1"), "r"))?;
            panic!("boom");
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(store.read(|tx| tx.count("emqx_banned")).unwrap(), 0);
    store
        .write(|tx| tx.put("emqx_banned", &banned(clientid("c1"), "r")))
        .unwrap();
    assert_eq!(store.read(|tx| tx.count("emqx_banned")).unwrap(), 1);
}

#[test]
fn config_and_rendered_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let rules = "{allow, all}.\n";
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.set_config("mqtt", &json!({"max_packet_size": "1MB"}))?;
            tx.set_config(
                "authorization",
                &json!({"no_match": "allow", "sources": [
                    {"type": "built_in_database", "enable": true},
                    {"type": "file", "enable": true, "rules": rules}
                ]}),
            )?;
            tx.set_config("retainer", &json!({"enable": true}))?;
            tx.put_file("certs/listeners/ssl/default/cert-0123", b"PEM")?;
            Ok(())
        })
        .unwrap();
    store
        .write(|tx| -> Result<(), StoreError> {
            assert!(tx.remove_config("retainer")?);
            assert!(!tx.remove_config("retainer")?);
            Ok(())
        })
        .unwrap();
    store
        .read(|tx| {
            let all = tx.config_all()?;
            assert_eq!(all.keys().collect::<Vec<_>>(), ["authorization", "mqtt"]);
            assert_eq!(
                tx.config("mqtt")?.unwrap(),
                json!({"max_packet_size": "1MB"})
            );
            assert_eq!(tx.file_paths()?, ["certs/listeners/ssl/default/cert-0123"]);
            Ok(())
        })
        .unwrap();
    let hocon = std::fs::read_to_string(dir.path().join("configs/cluster.hocon")).unwrap();
    let parsed = emqx_archive::parse_config(&hocon).unwrap();
    assert_eq!(parsed["mqtt"]["max_packet_size"], "1MB");
    assert!(parsed.get("retainer").is_none());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("authz/acl.conf")).unwrap(),
        rules
    );
    assert_eq!(
        std::fs::read(dir.path().join("certs/listeners/ssl/default/cert-0123")).unwrap(),
        b"PEM"
    );
    // Files outside certs/ are refused.
    for bad in ["configs/cluster.hocon", "certs/../x", "certs//x", "/etc/x"] {
        assert!(store.write(|tx| tx.put_file(bad, b"x")).is_err(), "{bad}");
    }
    // Removing a stored file removes its copy.
    store
        .write(|tx| tx.remove_file("certs/listeners/ssl/default/cert-0123"))
        .unwrap();
    assert!(!dir
        .path()
        .join("certs/listeners/ssl/default/cert-0123")
        .exists());
}

#[test]
fn open_renders_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|tx| -> Result<(), StoreError> {
                tx.set_config("mqtt", &json!({"idle_timeout": "15s"}))?;
                tx.put_file("certs/a/key-1", b"KEY")?;
                tx.put("emqx_banned", &banned(clientid("c"), "r"))
            })
            .unwrap();
    }
    // As if the node died between commit and rendering.
    std::fs::remove_file(dir.path().join("configs/cluster.hocon")).unwrap();
    std::fs::remove_file(dir.path().join("certs/a/key-1")).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let hocon = std::fs::read_to_string(dir.path().join("configs/cluster.hocon")).unwrap();
    assert!(hocon.contains("idle_timeout"), "{hocon}");
    assert_eq!(
        std::fs::read(dir.path().join("certs/a/key-1")).unwrap(),
        b"KEY"
    );
    assert_eq!(store.read(|tx| tx.count("emqx_banned")).unwrap(), 1);
}

/// The child side of `survives_kill_9`: writes transactions until killed, each adding one
/// record and setting `mqtt.n` to the record count.
fn write_until_killed(dir: &std::path::Path) -> ! {
    let store = Store::open(dir).unwrap();
    let mut i: u64 = store.read(|tx| tx.count("emqx_banned")).unwrap();
    loop {
        i += 1;
        store
            .write(|tx| -> Result<(), StoreError> {
                tx.put("emqx_banned", &banned(clientid(&format!("c{i}")), "r"))?;
                tx.put_file(&format!("certs/k/cert-{i}"), format!("{i}").as_bytes())?;
                tx.set_config("mqtt", &json!({ "n": i }))
            })
            .unwrap();
    }
}

#[test]
fn survives_kill_9() {
    const CHILD: &str = "EMQX_SIM_STORE_KILL_CHILD";
    if let Some(dir) = std::env::var_os(CHILD) {
        write_until_killed(std::path::Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut last = 0;
    for round in 0..4u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "survives_kill_9",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300 + 170 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Old or new state, never a mix: the count, the config and the files agree.
        let store = Store::open(dir.path()).unwrap();
        let (count, n, files) = store
            .read(|tx| {
                let n = tx.config("mqtt")?.map_or(0, |v| v["n"].as_u64().unwrap());
                Ok((tx.count("emqx_banned")?, n, tx.file_paths()?.len() as u64))
            })
            .unwrap();
        assert_eq!(count, n, "round {round}");
        assert_eq!(files, n, "round {round}");
        assert!(count >= last, "round {round}: {count} < {last}");
        last = count;
        // The rendered files follow the database after the reopen.
        let hocon = std::fs::read_to_string(dir.path().join("configs/cluster.hocon")).unwrap();
        let parsed = emqx_archive::parse_config(&hocon).unwrap();
        if n > 0 {
            assert_eq!(parsed["mqtt"]["n"].as_u64(), Some(n), "round {round}");
            assert_eq!(
                std::fs::read_to_string(dir.path().join(format!("certs/k/cert-{n}"))).unwrap(),
                n.to_string()
            );
        }
        drop(store);
    }
    assert!(last > 0, "the child never committed");
}

#[test]
fn inline_pem_in_config_moves_to_a_file_under_certs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUW\n-----END CERTIFICATE-----\n";
    let listeners = json!({"ssl": {"default": {"bind": "0.0.0.0:8883",
        "ssl_options": {"certfile": pem, "keyfile": "data/certs/key.pem"}}}});
    store
        .write(|tx| tx.set_config("listeners", &listeners))
        .unwrap();
    let stored = store.read(|tx| tx.config("listeners")).unwrap().unwrap();
    let path = stored["ssl"]["default"]["ssl_options"]["certfile"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        path.contains("/certs/listeners/ssl/default/cert-"),
        "{path}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
    assert_eq!(
        stored["ssl"]["default"]["ssl_options"]["keyfile"],
        "data/certs/key.pem"
    );
}
