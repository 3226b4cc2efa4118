//! Bans, as `emqx_banned:check/1` applies them at CONNECT: the exact kinds of `emqx_banned`
//! (`{clientid, Bin}`, `{username, Bin}`, `{peerhost, Ip}`) looked up in that order, then the
//! rules of `emqx_banned_rules` (`{clientid_re, Re}`, `{username_re, Re}`,
//! `{peerhost_net, {Start, End, Len}}`). A ban is in force while its `until` (epoch seconds, or
//! `infinity`) is later than now.
//!
//! Records are `{Table, Who, By, Reason, At, Until}`. A regex is 6.1's pattern binary or 5.x's
//! `{CompiledRE, Pattern}` (only the pattern is used). Patterns are PCRE in EMQX and run here
//! with Rust's `regex` syntax, which lacks look-around and back-references.

use crate::net::{ip_term, Cidr};
use crate::{AccessError, ClientInfo};
use emqx_sim_store::Tx;
use erlang_term::Term;

/// The table of exact bans.
pub const INDIVIDUAL: &str = "emqx_banned";
/// The table of rule bans.
pub const RULES: &str = "emqx_banned_rules";

/// A ban in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ban {
    /// The banned kind and value, as the REST API names them (`clientid:c1`,
    /// `peerhost_net:10.0.0.0/8` shown as its start address).
    pub who: String,
    /// The reason recorded with the ban.
    pub reason: String,
    /// Epoch seconds the ban ends at; `None` for `infinity`.
    pub until: Option<i64>,
}

fn text(t: &Term) -> Option<String> {
    t.as_binary()
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(str::to_owned)
        .or_else(|| t.as_charlist())
}

/// The pattern of a regex ban: a binary, or 5.x's `{CompiledRE, Pattern}`.
fn pattern(v: &Term) -> Option<String> {
    match v.as_tuple() {
        Some([_, p]) => text(p),
        _ => text(v),
    }
}

fn re_matches(pattern: &str, subject: Option<&str>) -> Result<bool, String> {
    let re = regex::Regex::new(pattern)
        .map_err(|e| format!("pattern {pattern:?} does not compile: {e}"))?;
    Ok(subject.is_some_and(|s| re.is_match(s)))
}

/// Whether the who part of a ban names the client; the error says why the record is bad.
fn names(who: &Term, client: &ClientInfo) -> Result<bool, String> {
    let bad = || format!("who {who} is not a ban EMQX writes");
    let [kind, value] = who.as_tuple().ok_or_else(bad)? else {
        return Err(bad());
    };
    let username = client.username.as_deref();
    match kind.as_atom().ok_or_else(bad)? {
        "clientid" => Ok(value.as_binary() == Some(client.clientid.as_bytes())),
        "username" => Ok(username.is_some() && value.as_binary() == username.map(str::as_bytes)),
        "peerhost" => Ok(*value == ip_term(client.peerhost)),
        "clientid_re" => re_matches(&pattern(value).ok_or_else(bad)?, Some(&client.clientid)),
        "username_re" => re_matches(&pattern(value).ok_or_else(bad)?, username),
        "peerhost_net" => Ok(Cidr::from_term(value)
            .ok_or_else(bad)?
            .contains(client.peerhost)),
        _ => Err(bad()),
    }
}

fn who_text(who: &Term) -> String {
    let Some([kind, value]) = who.as_tuple() else {
        return who.to_string();
    };
    let kind = kind.as_atom().unwrap_or("?");
    let value = match kind {
        "peerhost" => crate::net::ip_of(value).map(|ip| ip.to_string()),
        "peerhost_net" => Cidr::from_term(value).map(|c| c.start.to_string()),
        "clientid_re" | "username_re" => pattern(value),
        _ => text(value),
    };
    format!("{kind}:{}", value.unwrap_or_else(|| "?".into()))
}

/// The ban a record (of either table) puts on `client` at `now`, if it is in force and names
/// the client.
pub fn record_bans(record: &Term, client: &ClientInfo, now: i64) -> Result<Option<Ban>, String> {
    let Some([_, who, _by, reason, _at, until]) = record.as_tuple() else {
        return Err(format!("{record} is not a banned record of 6 elements"));
    };
    let until = match until {
        Term::Int(t) => Some(*t),
        t if t.as_atom() == Some("infinity") => None,
        t => return Err(format!("until {t} is neither epoch seconds nor infinity")),
    };
    if until.is_some_and(|t| t <= now) || !names(who, client)? {
        return Ok(None);
    }
    Ok(Some(Ban {
        who: who_text(who),
        reason: text(reason).unwrap_or_default(),
        until,
    }))
}

fn checked(
    table: &str,
    record: &Term,
    client: &ClientInfo,
    now: i64,
) -> Result<Option<Ban>, AccessError> {
    record_bans(record, client, now).map_err(|message| AccessError::Record {
        table: table.to_owned(),
        record: record.to_string(),
        message,
    })
}

/// The first ban in force on `client` at `now` (epoch seconds), in EMQX's order.
pub fn find_ban(tx: &Tx<'_>, client: &ClientInfo, now: i64) -> Result<Option<Ban>, AccessError> {
    let key = |kind: &str, value: Term| Term::Tuple(vec![Term::atom(kind), value]);
    let mut keys = vec![key("clientid", Term::binary(&client.clientid))];
    if let Some(u) = &client.username {
        keys.push(key("username", Term::binary(u)));
    }
    keys.push(key("peerhost", ip_term(client.peerhost)));
    for k in keys {
        if let Some(record) = tx.get(INDIVIDUAL, &k)? {
            if let Some(ban) = checked(INDIVIDUAL, &record, client, now)? {
                return Ok(Some(ban));
            }
        }
    }
    for record in tx.scan(RULES)? {
        if let Some(ban) = checked(RULES, &record, client, now)? {
            return Ok(Some(ban));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    const NOW: i64 = 1_800_000_000;

    fn client(id: &str, user: Option<&str>, ip: &str) -> ClientInfo {
        let mut c = ClientInfo::new(id, ip.parse::<IpAddr>().unwrap(), "tcp:default");
        c.username = user.map(str::to_owned);
        c
    }

    fn record(table: &str, kind: &str, value: Term, until: Term) -> Term {
        Term::Tuple(vec![
            Term::atom(table),
            Term::Tuple(vec![Term::atom(kind), value]),
            Term::binary("mgmt_api"),
            Term::binary("test"),
            Term::Int(NOW - 100),
            until,
        ])
    }

    fn bans(r: &Term, c: &ClientInfo) -> bool {
        record_bans(r, c, NOW).unwrap().is_some()
    }

    #[test]
    fn exact_kinds_and_expiry() {
        let c = client("c1", Some("u1"), "10.0.0.7");
        let future = Term::Int(NOW + 60);
        assert!(bans(
            &record(INDIVIDUAL, "clientid", Term::binary("c1"), future.clone()),
            &c
        ));
        assert!(!bans(
            &record(INDIVIDUAL, "clientid", Term::binary("c2"), future.clone()),
            &c
        ));
        assert!(bans(
            &record(INDIVIDUAL, "username", Term::binary("u1"), future.clone()),
            &c
        ));
        assert!(!bans(
            &record(INDIVIDUAL, "username", Term::binary("u1"), future.clone()),
            &client("c1", None, "10.0.0.7")
        ));
        let ip = ip_term("10.0.0.7".parse().unwrap());
        assert!(bans(&record(INDIVIDUAL, "peerhost", ip, future), &c));
        // Expired exactly now or before: not in force; infinity always is.
        assert!(!bans(
            &record(INDIVIDUAL, "clientid", Term::binary("c1"), Term::Int(NOW)),
            &c
        ));
        let forever = record(
            INDIVIDUAL,
            "clientid",
            Term::binary("c1"),
            Term::atom("infinity"),
        );
        let ban = record_bans(&forever, &c, NOW).unwrap().unwrap();
        assert_eq!(
            ban,
            Ban {
                who: "clientid:c1".into(),
                reason: "test".into(),
                until: None
            }
        );
    }

    #[test]
    fn rule_kinds() {
        let c = client("dev-42", Some("ops"), "192.168.1.9");
        let future = Term::Int(NOW + 60);
        let re61 = record(
            RULES,
            "clientid_re",
            Term::binary("^dev-[0-9]+$"),
            future.clone(),
        );
        assert!(bans(&re61, &c));
        // 5.x keys a regex by {CompiledRE, Pattern}; only the pattern counts.
        let compiled = Term::Tuple(vec![Term::atom("re_pattern"), Term::Int(0)]);
        let re5 = Term::Tuple(vec![compiled, Term::binary("^op")]);
        assert!(bans(&record(RULES, "username_re", re5, future.clone()), &c));
        assert!(!bans(
            &record(RULES, "username_re", Term::binary("."), future.clone()),
            &client("x", None, "192.168.1.9")
        ));
        let net = Cidr::parse("192.168.0.0/16").unwrap();
        let net_term = Term::Tuple(vec![ip_term(net.start), ip_term(net.end), Term::Int(16)]);
        let r = record(RULES, "peerhost_net", net_term, future);
        assert!(bans(&r, &c));
        assert!(!bans(&r, &client("x", None, "10.0.0.1")));
        assert_eq!(
            record_bans(&r, &c, NOW).unwrap().unwrap().who,
            "peerhost_net:192.168.0.0"
        );
    }

    #[test]
    fn bad_records_are_errors() {
        let c = client("c", None, "127.0.0.1");
        let bad_re = record(RULES, "clientid_re", Term::binary("("), Term::Int(NOW + 1));
        assert!(record_bans(&bad_re, &c, NOW)
            .unwrap_err()
            .contains("does not compile"));
        let bad_kind = record(RULES, "nickname", Term::binary("x"), Term::Int(NOW + 1));
        assert!(record_bans(&bad_kind, &c, NOW).is_err());
        let bad_until = record(
            INDIVIDUAL,
            "clientid",
            Term::binary("c"),
            Term::binary("soon"),
        );
        assert!(record_bans(&bad_until, &c, NOW)
            .unwrap_err()
            .contains("until"));
        assert!(record_bans(&Term::Int(1), &c, NOW).is_err());
    }
}
