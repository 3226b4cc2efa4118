//! The `who` of a ban in JSON: `{"clientid": "c1"}`, `{"peerhost": "10.0.0.1"}`,
//! `{"peerhost_net": "10.0.0.0/8"}`, `{"clientid_re": "^x"}` (with `"compiled"` holding the
//! compiled regex of 5.x archives, kept as a lossless term).

use emqx_backup_plugin_sdk::term_json;
use emqx_backup_plugin_sdk::Term;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const EXACT: [&str; 3] = ["clientid", "username", "peerhost"];
const RULES: [&str; 3] = ["clientid_re", "username_re", "peerhost_net"];

/// Whether a `who` is a rule kind (`Some(true)`), an exact kind (`Some(false)`) or unknown.
pub fn is_rule(who: &Term) -> Option<bool> {
    let kind = who.as_tuple()?.first()?.as_atom()?;
    if RULES.contains(&kind) {
        Some(true)
    } else if EXACT.contains(&kind) {
        Some(false)
    } else {
        None
    }
}

fn ip_to_text(t: &Term) -> Option<String> {
    let parts = t.as_tuple()?;
    let nums: Option<Vec<i64>> = parts.iter().map(Term::as_i64).collect();
    let nums = nums?;
    match nums.len() {
        4 if nums.iter().all(|n| (0..=255).contains(n)) => Some(
            Ipv4Addr::new(nums[0] as u8, nums[1] as u8, nums[2] as u8, nums[3] as u8).to_string(),
        ),
        8 if nums.iter().all(|n| (0..=65535).contains(n)) => {
            let s: Vec<u16> = nums.iter().map(|n| *n as u16).collect();
            Some(Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]).to_string())
        }
        _ => None,
    }
}

fn ip_from_text(s: &str) -> Result<Term, String> {
    match s
        .parse::<IpAddr>()
        .map_err(|_| format!("{s:?} is not an IP address"))?
    {
        IpAddr::V4(a) => Ok(Term::tuple(
            a.octets().iter().map(|o| Term::Int(*o as i64)).collect(),
        )),
        IpAddr::V6(a) => Ok(Term::tuple(
            a.segments().iter().map(|o| Term::Int(*o as i64)).collect(),
        )),
    }
}

/// The JSON form of a `who`, when it has a known shape.
pub fn to_json(who: &Term) -> Option<Value> {
    let [kind, value] = who.as_tuple()? else {
        return None;
    };
    let kind = kind.as_atom()?;
    let text = |t: &Term| {
        t.as_binary()
            .and_then(|b| std::str::from_utf8(b).ok())
            .map(str::to_owned)
    };
    Some(match kind {
        "clientid" | "username" => json!({ kind: text(value)? }),
        "peerhost" => json!({ kind: ip_to_text(value)? }),
        "clientid_re" | "username_re" => match value {
            Term::Binary(_) => json!({ kind: text(value)? }),
            Term::Tuple(pair) if pair.len() == 2 => {
                json!({ kind: text(&pair[1])?, "compiled": term_json::to_json(&pair[0]) })
            }
            _ => return None,
        },
        "peerhost_net" => {
            let [start, _end, len] = value.as_tuple()? else {
                return None;
            };
            json!({ kind: format!("{}/{}", ip_to_text(start)?, len.as_i64()?) })
        }
        _ => return None,
    })
}

fn network(cidr: &str) -> Result<Term, String> {
    let (addr, len) = cidr
        .split_once('/')
        .ok_or_else(|| format!("{cidr:?} is not a network (address/length)"))?;
    let len: u32 = len
        .parse()
        .map_err(|_| format!("{cidr:?}: bad prefix length"))?;
    let (start, end) = match addr
        .parse::<IpAddr>()
        .map_err(|_| format!("{cidr:?}: bad address"))?
    {
        IpAddr::V4(a) if len <= 32 => {
            let bits = u32::from(a);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            (
                IpAddr::V4((bits & mask).into()),
                IpAddr::V4((bits | !mask).into()),
            )
        }
        IpAddr::V6(a) if len <= 128 => {
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
        _ => return Err(format!("{cidr:?}: prefix length too long")),
    };
    Ok(Term::tuple(vec![
        ip_from_text(&start.to_string())?,
        ip_from_text(&end.to_string())?,
        Term::Int(len as i64),
    ]))
}

/// The `who` term a JSON form stands for.
pub fn from_json(value: &Value) -> Result<Term, String> {
    let o = value.as_object().ok_or("\"who\" must be an object")?;
    let (kind, v) = o
        .iter()
        .find(|(k, _)| *k != "compiled")
        .ok_or("\"who\" names no kind")?;
    let text = v
        .as_str()
        .ok_or_else(|| format!("\"who.{kind}\" must be a string"))?;
    let value = match kind.as_str() {
        "clientid" | "username" => Term::binary(text),
        "peerhost" => ip_from_text(text)?,
        "clientid_re" | "username_re" => match o.get("compiled") {
            Some(c) => Term::tuple(vec![term_json::from_json(c)?, Term::binary(text)]),
            None => Term::binary(text),
        },
        "peerhost_net" => network(text)?,
        other => return Err(format!("unknown ban kind {other:?}")),
    };
    Ok(Term::tuple(vec![Term::atom(kind), value]))
}
