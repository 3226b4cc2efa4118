//! The conformance cases, written once against [`Broker`] and run for every kind of broker.

use crate::api::Api;
use crate::archive::{rewrite_meta, set_meta};
use crate::report::Cases;
use crate::seed::{differences, snapshot, DASHBOARD_USER};
use crate::transfer::{Exported, Transfer};
use crate::{Broker, BrokerKind, Role};
use anyhow::{anyhow, bail, ensure, Context};
use serde_json::json;

/// The cases every broker runs, in order.
pub const GENERIC: &[&str] = &[
    "seed",
    "export",
    "import",
    "state_equal",
    "dashboard_login",
    "mqtt_restored",
    "second_import_noop",
    "refuse_replicant_import",
    "refuse_edition",
    "refuse_version",
    "refuse_renamed",
    "refuse_api_key_sensitive",
    "refusals_change_nothing",
];

/// The cases only a cluster runs.
pub const CLUSTER: &[&str] = &[
    "cluster_export_on_replicant",
    "cluster_import_routed_to_core",
    "cluster_visible_everywhere",
    "cluster_files_node_names",
    "cluster_restart_core",
];

/// The cross-checks between emqx-sim and a real EMQX.
pub const CROSS: &[&str] = &["cross_sim_to_emqx", "cross_emqx_to_sim"];

/// The skip reason when an earlier case failed.
fn after(what: &str) -> anyhow::Error {
    anyhow!("not run: {what} failed")
}

/// A fresh, never used archive name.
fn fresh_name(n: u32) -> String {
    format!("emqx-export-2020-01-0{}-00-00-00.000.tar.gz", n % 9 + 1)
}

/// Uploads `bytes` as `name` and imports it through `api`; Ok(reply text) when refused,
/// Err when it was accepted.
fn expect_refusal(
    api: &Api,
    name: &str,
    bytes: Vec<u8>,
    status: Option<u16>,
    needle: &str,
) -> anyhow::Result<()> {
    let up = api.upload(name, bytes)?;
    let reply = if up.ok() { api.import(name, None)? } else { up };
    ensure!(!reply.ok(), "accepted ({})", reply.status);
    if let Some(s) = status {
        ensure!(
            reply.status == s,
            "refused with {} not {s}: {}",
            reply.status,
            reply.text
        );
    }
    ensure!(
        reply.text.to_lowercase().contains(needle),
        "refused ({}) without naming {needle:?}: {}",
        reply.status,
        reply.text
    );
    Ok(())
}

/// Runs every generic case (and the cluster cases when the broker has replicants) on fresh
/// brokers of `kind`, moving archives with `transfer`.
pub fn suite(kind: &dyn BrokerKind, transfer: &dyn Transfer, cases: &mut Cases) {
    let start = |edition: &str| kind.start(edition);
    let src = match start("ce") {
        Ok(b) => b,
        Err(e) => {
            cases.run("seed", || Err(e.context("starting the source broker")));
            return;
        }
    };
    let is_cluster = !src.replicants().is_empty();
    let mut ok = true;
    cases.run("seed", || {
        src.seed(&src.entry())?;
        // The comparison below means something only if the seeded data shows.
        let state = snapshot(&src.api(&src.core())?)?;
        for (domain, needle) in [
            ("authn.users.password_based:built_in_database", "alice"),
            ("authz.rules.users", "secret/#"),
            ("banned", "mallory"),
            ("dashboard.users", DASHBOARD_USER.0),
            ("dashboard.api_keys", "conformance"),
            ("rules.rules", "conformance_rule"),
        ] {
            let v = state.get(domain).map(|v| v.to_string()).unwrap_or_default();
            ensure!(v.contains(needle), "{domain} does not show {needle}: {v}");
        }
        Ok(None)
    });
    let mut exported: Option<Exported> = None;
    cases.run("export", || {
        exported = Some(transfer.export(src.as_ref(), &src.entry())?);
        Ok(None)
    });
    if is_cluster {
        cases.run("cluster_export_on_replicant", || {
            let e = exported.as_ref().ok_or_else(|| after("export"))?;
            let entry = src.entry();
            ensure!(
                entry.role == Role::Replicant,
                "the entry node is no replicant"
            );
            ensure!(
                e.node == entry.name,
                "the export was written by {} not by the replicant {}",
                e.node,
                entry.name
            );
            Ok(None)
        });
    }
    let Some(archive) = exported else {
        return;
    };
    let mut dst = match start("ce") {
        Ok(b) => b,
        Err(e) => {
            cases.run("import", || Err(e.context("starting the target broker")));
            return;
        }
    };
    cases.run("import", || {
        transfer
            .import(dst.as_ref(), &dst.entry(), &archive)
            .inspect_err(|_| ok = false)?;
        Ok(None)
    });
    let run_if = |ok: bool, f: &dyn Fn() -> anyhow::Result<Option<String>>| {
        if ok {
            f()
        } else {
            Err(after("import"))
        }
    };
    let src_state = src.api(&src.core()).and_then(|a| snapshot(&a)).ok();
    cases.run("state_equal", || {
        run_if(ok, &|| {
            let want = src_state.as_ref().context("source state unreadable")?;
            let got = snapshot(&dst.api(&dst.core())?)?;
            let diff = differences(want, &got);
            ensure!(diff.is_empty(), "state differs:\n{}", diff.join("\n"));
            Ok(None)
        })
    });
    cases.run("dashboard_login", || {
        run_if(ok, &|| {
            Api::login(&dst.entry().url, DASHBOARD_USER.0, DASHBOARD_USER.1)?;
            Ok(None)
        })
    });
    cases.run("mqtt_restored", || {
        run_if(ok, &|| {
            let (Some(from), Some(to)) = (src.core().mqtt, dst.core().mqtt) else {
                return Ok(Some(
                    "the broker serves no MQTT listener to the tests".into(),
                ));
            };
            let want = crate::mqtt::probe(&from).context("probing the source over MQTT")?;
            let got = crate::mqtt::probe(&to).context("probing the target over MQTT")?;
            let diff = crate::mqtt::differences(&want, &got);
            ensure!(diff.is_empty(), "MQTT answers differ:\n{}", diff.join("\n"));
            Ok(None)
        })
    });
    if is_cluster {
        cases.run("cluster_import_routed_to_core", || {
            run_if(ok, &|| {
                let api = dst.api(&dst.core())?;
                let files = api.files()?;
                let core = dst.core().name;
                ensure!(
                    files
                        .iter()
                        .any(|f| f["filename"] == json!(archive.filename)
                            && f["node"] == json!(core)),
                    "the core {core} holds no copy of {}: {files:?}",
                    archive.filename
                );
                Ok(None)
            })
        });
        cases.run("cluster_visible_everywhere", || {
            run_if(ok, &|| {
                let want = snapshot(&dst.api(&dst.core())?)?;
                for n in dst.replicants() {
                    let got = snapshot(&dst.api(&n)?)?;
                    let diff = differences(&want, &got);
                    ensure!(diff.is_empty(), "{} differs:\n{}", n.name, diff.join("\n"));
                }
                Ok(None)
            })
        });
        cases.run("cluster_files_node_names", || {
            run_if(ok, &|| {
                let files = dst.api(&dst.entry())?.files()?;
                let names: Vec<String> = dst.nodes().into_iter().map(|n| n.name).collect();
                for f in &files {
                    let node = f["node"].as_str().unwrap_or_default();
                    ensure!(
                        names.iter().any(|n| n == node),
                        "file {f} names no node of the cluster"
                    );
                }
                let entry = dst.entry().name;
                ensure!(
                    files.iter().any(|f| f["node"] == json!(entry)),
                    "no file listed on {entry}: {files:?}"
                );
                Ok(None)
            })
        });
    }
    cases.run("second_import_noop", || {
        run_if(ok, &|| {
            let api = dst.api(&dst.entry())?;
            let before = snapshot(&api)?;
            let r = api.import(&archive.filename, None)?;
            ensure!(r.ok(), "second import: {}: {}", r.status, r.text);
            let diff = differences(&before, &snapshot(&api)?);
            ensure!(
                diff.is_empty(),
                "the second import changed:\n{}",
                diff.join("\n")
            );
            Ok(None)
        })
    });
    if is_cluster {
        cases.run("cluster_restart_core", || {
            let before = snapshot(&dst.api(&dst.core())?)?;
            if !dst.restart_core()? {
                return Ok(Some("the broker cannot restart its core".into()));
            }
            for n in dst.nodes() {
                let got = crate::retry(30, || snapshot(&dst.api(&n)?))?;
                let diff = differences(&before, &got);
                ensure!(
                    diff.is_empty(),
                    "{} after the restart:\n{}",
                    n.name,
                    diff.join("\n")
                );
            }
            Ok(None)
        });
    }
    refusals(dst.as_ref(), &archive, cases);
}

/// The refusals: replicant, edition, version, renamed file, sensitive sets with an API key;
/// and none of them changes anything.
fn refusals(dst: &dyn Broker, archive: &Exported, cases: &mut Cases) {
    let admin = match dst.api(&dst.entry()) {
        Ok(a) => a,
        Err(e) => {
            cases.run("refusals_change_nothing", || Err(e));
            return;
        }
    };
    // The API key is made first so that the state compared afterwards holds it.
    let key = admin.post(
        "/api_key",
        json!({"name": "conformance-importer", "desc": "refusal case", "enable": true}),
    );
    let before = snapshot(&admin).ok();
    cases.run("refuse_replicant_import", || {
        let Some(r) = dst.replicants().into_iter().next() else {
            return Ok(Some("the broker has no replicant".into()));
        };
        let Some(out) = dst.ctl_import(&r, &archive.filename)? else {
            return Ok(Some("the broker runs no ctl".into()));
        };
        ensure!(
            !out.ok,
            "ctl data import on {} succeeded: {}",
            r.name,
            out.text
        );
        ensure!(
            out.text.to_lowercase().contains("core"),
            "refused without naming the core: {}",
            out.text
        );
        Ok(None)
    });
    cases.run("refuse_edition", || {
        if dst.edition() != "ce" {
            return Ok(Some("the target is not a ce broker".into()));
        }
        let name = fresh_name(1);
        let bytes = rewrite_meta(&archive.bytes, &name, |m| set_meta(m, "edition", "ee"))?;
        expect_refusal(&admin, &name, bytes, None, "enterprise").map(|()| None)
    });
    cases.run("refuse_version", || {
        let name = fresh_name(2);
        let bytes = rewrite_meta(&archive.bytes, &name, |m| set_meta(m, "version", "9.9.9"))?;
        expect_refusal(&admin, &name, bytes, None, "version").map(|()| None)
    });
    cases.run("refuse_renamed", || {
        let name = fresh_name(3);
        let up = admin.upload(&name, archive.bytes.clone())?;
        let reply = if up.ok() {
            admin.import(&name, None)?
        } else {
            up
        };
        ensure!(
            !reply.ok(),
            "a renamed file was accepted ({})",
            reply.status
        );
        Ok(None)
    });
    cases.run("refuse_api_key_sensitive", || {
        let key = key
            .as_ref()
            .map_err(|e| anyhow!("creating an API key: {e:#}"))?;
        let (Some(k), Some(s)) = (key["api_key"].as_str(), key["api_secret"].as_str()) else {
            bail!("the API key reply has no key and secret: {key}");
        };
        let api = Api::with_api_key(&dst.entry().url, k, s);
        let r = api.import(&archive.filename, None)?;
        ensure!(
            r.status == 403,
            "an API key import answered {}: {}",
            r.status,
            r.text
        );
        Ok(None)
    });
    cases.run("refusals_change_nothing", || {
        let before = before
            .as_ref()
            .context("state unreadable before the refusals")?;
        let diff = differences(before, &snapshot(&admin)?);
        ensure!(
            diff.is_empty(),
            "the refusals changed:\n{}",
            diff.join("\n")
        );
        Ok(None)
    });
}

/// Seeds a broker of `from`, exports it, imports into a fresh broker of `to` and compares.
pub fn cross(
    from: &dyn BrokerKind,
    to: &dyn BrokerKind,
    transfer: &dyn Transfer,
) -> anyhow::Result<Option<String>> {
    let src = from.start("ce")?;
    src.seed(&src.entry())?;
    let archive = transfer.export(src.as_ref(), &src.entry())?;
    let dst = to.start("ce")?;
    transfer.import(dst.as_ref(), &dst.entry(), &archive)?;
    let diff = differences(
        &snapshot(&src.api(&src.core())?)?,
        &snapshot(&dst.api(&dst.core())?)?,
    );
    ensure!(diff.is_empty(), "state differs:\n{}", diff.join("\n"));
    if let (Some(from), Some(to)) = (src.core().mqtt, dst.core().mqtt) {
        let want = crate::mqtt::probe(&from).context("probing the source over MQTT")?;
        let diff = crate::mqtt::differences(&want, &crate::mqtt::probe(&to)?);
        ensure!(diff.is_empty(), "MQTT answers differ:\n{}", diff.join("\n"));
    }
    Ok(None)
}
