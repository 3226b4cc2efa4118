//! Banned clients: `emqx_banned` (clientid, username, peerhost) and `emqx_banned_rules`
//! (clientid and username regexes, peerhost networks), table set `banned`. No config root is
//! imported for this domain (`banned.bootstrap_file` is not applied by EMQX).

mod who;

use emqx_backup_plugin_sdk::domain::{merge_default, Domain, MergeResult, SectionView};
use emqx_backup_plugin_sdk::table::{readable_or_raw, TableFormat};
use emqx_backup_plugin_sdk::{export_domain, Manifest, Options, PluginError, Term};
use serde_json::{json, Value};

/// The banned domain.
#[derive(Default)]
pub struct Banned;

/// Both tables hold `#banned{who, by, reason, at, until}`.
pub struct BannedTable(pub &'static str);

impl TableFormat for BannedTable {
    fn table(&self) -> &'static str {
        self.0
    }

    fn record_to_json(&self, record: &Term) -> Value {
        readable_or_raw(self, record, readable(self.0, record))
    }

    fn record_from_json(&self, value: &Value) -> Result<Term, String> {
        if let Some(raw) = emqx_backup_plugin_sdk::table::from_raw_record(value) {
            return raw;
        }
        let o = value.as_object().ok_or("a ban must be an object")?;
        let field = |k: &str| o.get(k).ok_or_else(|| format!("missing \"{k}\""));
        let text = |k: &str| -> Result<Term, String> {
            field(k)?
                .as_str()
                .map(Term::binary)
                .ok_or_else(|| format!("\"{k}\" must be a string"))
        };
        let time = |k: &str| -> Result<Term, String> {
            match field(k)? {
                Value::String(s) if s == "infinity" => Ok(Term::atom("infinity")),
                v => v
                    .as_i64()
                    .map(Term::Int)
                    .ok_or_else(|| format!("\"{k}\" must be epoch seconds or \"infinity\"")),
            }
        };
        Ok(Term::tuple(vec![
            Term::atom(self.0),
            who::from_json(field("who")?)?,
            text("by")?,
            text("reason")?,
            time("at")?,
            time("until")?,
        ]))
    }

    fn key_text(&self, key: &Term) -> String {
        match who::to_json(key) {
            Some(Value::Object(o)) => o
                .iter()
                .find(|(k, _)| *k != "compiled")
                .map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default()))
                .unwrap_or_else(|| key.to_string()),
            _ => key.to_string(),
        }
    }

    fn check_record(&self, record: &Term) -> Option<String> {
        let who = record.as_tuple()?.get(1)?;
        let rule = who::is_rule(who)?;
        match (self.0, rule) {
            ("emqx_banned", true) => Some("a rule ban (regex or network) in emqx_banned; EMQX looks for those in emqx_banned_rules".into()),
            ("emqx_banned_rules", false) => Some("an exact ban in emqx_banned_rules; EMQX looks for those in emqx_banned".into()),
            _ => None,
        }
    }
}

/// Backup files tag every record with its table's name, not the record name.
fn readable(table: &str, record: &Term) -> Option<Value> {
    match record.as_tuple()? {
        [tag, who, by, reason, at, until] if tag.as_atom() == Some(table) => Some(json!({
            "who": who::to_json(who)?,
            "by": std::str::from_utf8(by.as_binary()?).ok()?,
            "reason": std::str::from_utf8(reason.as_binary()?).ok()?,
            "at": time_json(at)?,
            "until": time_json(until)?,
        })),
        _ => None,
    }
}

fn time_json(t: &Term) -> Option<Value> {
    match t {
        Term::Int(i) => Some(json!(i)),
        t if t.as_atom() == Some("infinity") => Some(json!("infinity")),
        _ => None,
    }
}

fn until_of(record: &Term) -> Option<i64> {
    record.as_tuple()?.get(5)?.as_i64()
}

fn now(options: &Options) -> i64 {
    options.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    })
}

impl Domain for Banned {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "banned".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "banned clients, usernames, addresses, regexes and networks".into(),
            table_sets: vec!["banned".into()],
            tables: vec!["emqx_banned".into(), "emqx_banned_rules".into()],
            roots: vec![],
            reads_roots: vec![],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        vec![
            Box::new(BannedTable("emqx_banned")),
            Box::new(BannedTable("emqx_banned_rules")),
        ]
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let mut result = merge_default(self, current, incoming, options, &mut |_, _, _| {})?;
        let now = now(options);
        let mut expired = 0u64;
        for table in ["emqx_banned", "emqx_banned_rules"] {
            if let Some(bytes) = incoming.table(table) {
                emqx_backup_plugin_sdk::table::read_terms(
                    &format!("mnesia/{table}"),
                    bytes,
                    |_, r| {
                        if until_of(r).is_some_and(|u| u <= now) {
                            expired += 1;
                        }
                    },
                )?;
            }
        }
        if expired > 0 {
            result.plan.warnings.push(emqx_backup_plugin_sdk::domain::counted(
                "banned.expired",
                expired,
                format!("{expired} bans in the archive have already expired: EMQX imports them and purges them within a minute, so they ban no one"),
            ));
        }
        Ok(result)
    }
}

export_domain!(Banned);
