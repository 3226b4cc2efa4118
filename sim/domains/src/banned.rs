//! Bans, as `emqx_mgmt_api_banned` and `emqx_banned` of EMQX 5.8: `emqx_banned` holds the
//! exact kinds (`{clientid, Bin}`, `{username, Bin}`, `{peerhost, IpTuple}`),
//! `emqx_banned_rules` the rule kinds (`{clientid_re, Pattern}`, `{username_re, Pattern}`,
//! `{peerhost_net, {Start, End, Len}}`); records are
//! `{Table, Who, By, Reason, At, Until}` with `Until` = epoch seconds or `infinity`.
//!
//! Regex bans are written in the 6.1 form, the pattern binary alone: 5.x keys them by
//! `{CompiledRE, Pattern}` with OTP's compiled PCRE bytecode, which only OTP can produce.
//! Rows of the 5.x form (imported from real archives) are still found by their pattern.

use crate::common::{
    blocking, check_regex, check_write, epoch_second, erl_p, no_content, now_s, object_body, ok,
    opt_str, rfc3339_s, text_of, write_no_content, ApiError, MaybeCaller, Pager, Query,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;
use emqx_sim_store::{Node, StoreError, Tx};
use erlang_term::Term;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The table of exact bans.
pub const INDIVIDUAL: &str = "emqx_banned";
/// The table of rule bans (regexes, networks).
pub const RULES: &str = "emqx_banned_rules";

const KINDS: &[&str] = &[
    "clientid",
    "username",
    "peerhost",
    "clientid_re",
    "username_re",
    "peerhost_net",
];

/// The routes of this domain.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/banned", get(list).post(create).delete(clear))
        .route("/banned/{as}/{who}", delete(remove))
}

fn kind_of(who: &Term) -> Option<&str> {
    who.as_tuple()?.first()?.as_atom()
}

/// The table a `who` belongs in.
pub fn table_of(who: &Term) -> &'static str {
    match kind_of(who) {
        Some("clientid_re" | "username_re" | "peerhost_net") => RULES,
        _ => INDIVIDUAL,
    }
}

fn ip_term(ip: IpAddr) -> Term {
    match ip {
        IpAddr::V4(a) => Term::tuple(a.octets().iter().map(|o| Term::Int(*o as i64)).collect()),
        IpAddr::V6(a) => Term::tuple(a.segments().iter().map(|s| Term::Int(*s as i64)).collect()),
    }
}

fn ip_of(t: &Term) -> Option<IpAddr> {
    let nums: Vec<i64> = t
        .as_tuple()?
        .iter()
        .map(Term::as_i64)
        .collect::<Option<_>>()?;
    match nums.len() {
        4 => {
            let o: Vec<u8> = nums
                .iter()
                .map(|n| u8::try_from(*n).ok())
                .collect::<Option<_>>()?;
            Some(IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3])))
        }
        8 => {
            let s: Vec<u16> = nums
                .iter()
                .map(|n| u16::try_from(*n).ok())
                .collect::<Option<_>>()?;
            Some(IpAddr::V6(Ipv6Addr::new(
                s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
            )))
        }
        _ => None,
    }
}

/// `esockd_cidr:parse(S, true)`: `{Start, End, Len}` with the start address masked; an
/// address without `/len` is a single host.
fn cidr(text: &str) -> Result<Term, String> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("bad address {addr:?}"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u32 = match len {
        Some(l) => l
            .trim()
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("bad prefix length {l:?}"))?,
        None => max,
    };
    let (start, end) = match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            (
                IpAddr::V4((bits & mask).into()),
                IpAddr::V4((bits | !mask).into()),
            )
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            (
                IpAddr::V6((bits & mask).into()),
                IpAddr::V6((bits | !mask).into()),
            )
        }
    };
    Ok(Term::tuple(vec![
        ip_term(start),
        ip_term(end),
        Term::Int(len as i64),
    ]))
}

/// `emqx_banned:parse_who/1`: the `who` term of an `as` and a text, with EMQX's errors.
pub fn parse_who(kind: &str, who: &str) -> Result<Term, ApiError> {
    let value = match kind {
        "clientid" | "username" => Term::binary(who),
        "peerhost" => ip_term(
            who.trim()
                .parse()
                .map_err(|_| ApiError::bad_request("\"bad peerhost\""))?,
        ),
        "peerhost_net" => cidr(who).map_err(|e| {
            ApiError::bad_request(erl_p(&Term::tuple(vec![
                Term::atom("invalid_cidr"),
                Term::charlist(&format!("{who}: {e}")),
            ])))
        })?,
        "clientid_re" | "username_re" => {
            check_regex(who).map_err(|e| {
                ApiError::bad_request(erl_p(&Term::tuple(vec![
                    Term::charlist(&e.replace('\n', " ")),
                    Term::Int(0),
                ])))
            })?;
            Term::binary(who)
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "as: {other:?} is not one of clientid, username, peerhost, clientid_re, username_re, peerhost_net"
            )))
        }
    };
    Ok(Term::tuple(vec![Term::atom(kind), value]))
}

/// `emqx_banned:format_who/1`: `(as, who)` as text.
pub fn format_who(who: &Term) -> Option<(String, String)> {
    let [kind, value] = who.as_tuple()? else {
        return None;
    };
    let kind = kind.as_atom()?;
    let text = match kind {
        "clientid" | "username" => text_of(value)?,
        "peerhost" => ip_of(value)?.to_string(),
        "peerhost_net" => {
            let [start, _, len] = value.as_tuple()? else {
                return None;
            };
            format!("{}/{}", ip_of(start)?, len.as_i64()?)
        }
        "clientid_re" | "username_re" => match value {
            Term::Binary(_) => text_of(value)?,
            Term::Tuple(pair) if pair.len() == 2 => text_of(&pair[1])?,
            _ => return None,
        },
        _ => return None,
    };
    Some((kind.to_owned(), text))
}

fn time_json(t: &Term) -> Value {
    match t {
        Term::Int(s) => json!(rfc3339_s(*s)),
        t if t.as_atom() == Some("infinity") => json!("infinity"),
        t => json!(erl_p(t)),
    }
}

/// `emqx_banned:format/1`: `{as, who, by, reason, at, until}`.
pub fn format(record: &Term) -> Value {
    let Some([_, who, by, reason, at, until]) = record.as_tuple() else {
        return json!({ "term": erl_p(record) });
    };
    let (kind, text) = format_who(who).unwrap_or_else(|| ("unknown".into(), erl_p(who)));
    json!({
        "as": kind,
        "who": text,
        "by": text_of(by).unwrap_or_else(|| erl_p(by)),
        "reason": text_of(reason).unwrap_or_else(|| erl_p(reason)),
        "at": time_json(at),
        "until": time_json(until),
    })
}

/// The stored ban of a `who`: by key, and for regexes also a 5.x row keyed by
/// `{Compiled, Pattern}` with the same pattern.
fn look_up(tx: &Tx<'_>, who: &Term) -> Result<Option<Term>, StoreError> {
    let table = table_of(who);
    if let Some(r) = tx.get(table, who)? {
        return Ok(Some(r));
    }
    let (Some(kind @ ("clientid_re" | "username_re")), Some((_, pattern))) =
        (kind_of(who), format_who(who))
    else {
        return Ok(None);
    };
    Ok(tx.scan(RULES)?.into_iter().find(|r| {
        r.as_tuple().and_then(|t| t.get(1)).is_some_and(|w| {
            kind_of(w) == Some(kind) && format_who(w).is_some_and(|(_, p)| p == pattern)
        })
    }))
}

fn until_active(until: &Term, now: i64) -> bool {
    match until {
        Term::Int(u) => *u > now,
        _ => true,
    }
}

async fn list(
    State(node): State<Arc<Node>>,
    axum::extract::Query(q): axum::extract::Query<Query>,
) -> Response {
    blocking(node, move |node| {
        let pager = Pager::from_query(&q)?;
        const FILTERS: [&str; 7] = [
            "clientid",
            "username",
            "peerhost",
            "like_clientid",
            "like_username",
            "like_peerhost",
            "like_peerhost_net",
        ];
        let filters: Vec<(&str, &String)> = FILTERS
            .iter()
            .filter_map(|k| q.get(*k).map(|v| (*k, v)))
            .collect();
        match filters.as_slice() {
            [] => {
                let rows = node.store.read(|tx| {
                    let mut rows = tx.scan(INDIVIDUAL)?;
                    rows.extend(tx.scan(RULES)?);
                    Ok(rows)
                })?;
                let count = rows.len();
                let (data, _) = pager.slice(rows.iter().map(format).collect::<Vec<_>>());
                ok(json!({
                    "data": data,
                    "meta": { "page": pager.page, "limit": pager.limit, "count": count },
                }))
            }
            [(kind, who)] if !kind.starts_with("like_") => {
                let key = parse_who(kind, who)?;
                let found = node.store.read(|tx| look_up(tx, &key))?;
                let data: Vec<Value> = found.iter().map(format).collect();
                ok(json!({
                    "data": data,
                    "meta": { "page": pager.page, "limit": pager.limit, "hasnext": false, "count": data.len() },
                }))
            }
            [(filter, pattern)] => {
                let kind = filter.trim_start_matches("like_");
                let re = check_regex(pattern).map_err(|e| {
                    ApiError::bad_request(
                        json!({
                            "message": "The filter is not a validation regex expression",
                            "reason": e,
                            "position": 0,
                            "filter": pattern,
                        })
                        .to_string(),
                    )
                })?;
                let rows = node.store.read(|tx| {
                    let mut rows = Vec::new();
                    if kind != "peerhost_net" {
                        rows.extend(tx.scan(INDIVIDUAL)?);
                    }
                    if kind != "peerhost" {
                        rows.extend(tx.scan(RULES)?);
                    }
                    Ok(rows)
                })?;
                let data: Vec<Value> = rows
                    .iter()
                    .filter(|r| {
                        let Some((as_, text)) = r.as_tuple().and_then(|t| t.get(1)).and_then(format_who)
                        else {
                            return false;
                        };
                        let matches_kind = match kind {
                            "clientid" => as_ == "clientid" || as_ == "clientid_re",
                            "username" => as_ == "username" || as_ == "username_re",
                            other => as_ == other,
                        };
                        matches_kind && re.is_match(&text)
                    })
                    .map(format)
                    .collect();
                ok(pager.query_result(data, false))
            }
            _ => Err(ApiError::bad_request("too_many_filters")),
        }
    })
    .await
}

async fn create(State(node): State<Arc<Node>>, caller: MaybeCaller, body: Bytes) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let o = object_body(&body)?;
        let kind = opt_str(&o, "as")?
            .ok_or_else(|| ApiError::bad_request("as: required field missing"))?;
        if !KINDS.contains(&kind) {
            return Err(ApiError::bad_request(format!(
                "as: {kind:?} is not one of clientid, username, peerhost, clientid_re, username_re, peerhost_net"
            )));
        }
        let who_text = opt_str(&o, "who")?
            .ok_or_else(|| ApiError::bad_request("who: required field missing"))?;
        let who = parse_who(kind, who_text)?;
        let by = opt_str(&o, "by")?.unwrap_or("mgmt_api");
        let reason = opt_str(&o, "reason")?.unwrap_or("");
        let now = now_s();
        let at = match o.get("at") {
            None | Some(Value::Null) => now,
            Some(v) => epoch_second(v).ok_or_else(|| {
                ApiError::bad_request(format!("at: expected epoch seconds or an RFC 3339 date, got {v}"))
            })?,
        };
        let until = match o.get("until") {
            None | Some(Value::Null) => Term::atom("infinity"),
            Some(Value::String(s)) if s == "infinity" => Term::atom("infinity"),
            Some(v) => Term::Int(epoch_second(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "until: expected \"infinity\", epoch seconds or an RFC 3339 date, got {v}"
                ))
            })?),
        };
        if !until_active(&until, now) {
            return Err(ApiError::bad_request(format!(
                "Cannot create expired banned, {at} to {}",
                erl_p(&until)
            )));
        }
        let table = table_of(&who);
        let record = Term::tuple(vec![
            Term::atom(table),
            who.clone(),
            Term::binary(by),
            Term::binary(reason),
            Term::Int(at),
            until,
        ]);
        node.store.write(|tx| {
            if let Some(old) = look_up(tx, &who)? {
                let old_until = old.as_tuple().and_then(|t| t.get(5)).cloned();
                if old_until.is_some_and(|u| until_active(&u, now)) {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "ALREADY_EXISTS",
                        format(&old).to_string(),
                    ));
                }
                if let Some(old_key) = old.as_tuple().and_then(|t| t.get(1)) {
                    tx.delete(table, &old_key.clone())?;
                }
            }
            tx.put(table, &record)?;
            Ok(())
        })?;
        ok(format(&record))
    })
    .await
}

async fn clear(State(node): State<Arc<Node>>, caller: MaybeCaller) -> Response {
    write_no_content(node, caller, move |tx| {
        tx.clear(INDIVIDUAL)?;
        tx.clear(RULES)?;
        Ok::<_, ApiError>(())
    })
    .await
}

async fn remove(
    State(node): State<Arc<Node>>,
    caller: MaybeCaller,
    Path((kind, who_text)): Path<(String, String)>,
) -> Response {
    blocking(node, move |node| {
        check_write(&caller)?;
        let who = parse_who(&kind, &who_text)?;
        node.store.write(|tx| {
            let Some(old) = look_up(tx, &who)? else {
                return Err(ApiError::not_found(format!("{kind}: {who_text} not found")));
            };
            let key = old
                .as_tuple()
                .and_then(|t| t.get(1))
                .cloned()
                .unwrap_or(who.clone());
            tx.delete(table_of(&who), &key)?;
            Ok(())
        })?;
        no_content()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whos() {
        assert_eq!(
            parse_who("peerhost", "10.1.2.3").unwrap(),
            Term::tuple(vec![
                Term::atom("peerhost"),
                Term::tuple(vec![
                    Term::Int(10),
                    Term::Int(1),
                    Term::Int(2),
                    Term::Int(3)
                ])
            ])
        );
        let net = parse_who("peerhost_net", "192.168.1.77/24").unwrap();
        assert_eq!(
            format_who(&net),
            Some(("peerhost_net".into(), "192.168.1.0/24".into()))
        );
        assert_eq!(table_of(&net), RULES);
        let v6 = parse_who("peerhost", "::1").unwrap();
        assert_eq!(format_who(&v6), Some(("peerhost".into(), "::1".into())));
        assert_eq!(
            parse_who("peerhost", "nope").unwrap_err().body["message"],
            json!("\"bad peerhost\"")
        );
        assert!(parse_who("clientid_re", "(").is_err());
        let re = parse_who("clientid_re", "^c.*").unwrap();
        assert_eq!(
            re,
            Term::tuple(vec![Term::atom("clientid_re"), Term::binary("^c.*")])
        );
        // The 5.x form reads back by its pattern.
        let legacy = Term::tuple(vec![
            Term::atom("clientid_re"),
            Term::tuple(vec![Term::atom("re_pattern"), Term::binary("^c.*")]),
        ]);
        assert_eq!(
            format_who(&legacy),
            Some(("clientid_re".into(), "^c.*".into()))
        );
    }

    #[test]
    fn formats() {
        let r = Term::tuple(vec![
            Term::atom(INDIVIDUAL),
            Term::tuple(vec![Term::atom("clientid"), Term::binary("c1")]),
            Term::binary("mgmt_api"),
            Term::binary(""),
            Term::Int(0),
            Term::atom("infinity"),
        ]);
        let v = format(&r);
        assert_eq!(v["as"], json!("clientid"));
        assert_eq!(v["who"], json!("c1"));
        assert_eq!(v["until"], json!("infinity"));
        assert!(
            v["at"].as_str().unwrap().starts_with("1970-01-01")
                || v["at"].as_str().unwrap().starts_with("1969-12-31")
        );
    }
}
