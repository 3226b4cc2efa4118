//! Addresses and networks as EMQX writes them: `inet` address tuples in records
//! (`{127,0,0,1}`), `esockd_cidr` ranges (`{Start, End, Len}`), and CIDR text in rules
//! (`"10.0.0.0/8"`, a bare address being a single host).

use erlang_term::Term;
use std::net::IpAddr;

/// An address range: every address from `start` to `end`, both of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The first address (the network address).
    pub start: IpAddr,
    /// The last address.
    pub end: IpAddr,
}

impl Cidr {
    /// Parses `esockd_cidr:parse(Text, true)`: `addr/len` with the host bits cleared, or a bare
    /// address.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or network"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("{text:?}: bad prefix length {l:?}"))?,
        };
        Ok(match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                Cidr {
                    start: IpAddr::V4((bits & mask).into()),
                    end: IpAddr::V4((bits | !mask).into()),
                }
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                Cidr {
                    start: IpAddr::V6((bits & mask).into()),
                    end: IpAddr::V6((bits | !mask).into()),
                }
            }
        })
    }

    /// The range of an `esockd_cidr` term `{StartIp, EndIp, Len}`.
    pub fn from_term(t: &Term) -> Option<Cidr> {
        match t.as_tuple()? {
            [start, end, len] if len.as_i64().is_some() => {
                let (start, end) = (ip_of(start)?, ip_of(end)?);
                (start.is_ipv4() == end.is_ipv4()).then_some(Cidr { start, end })
            }
            _ => None,
        }
    }

    /// Whether `ip` lies in the range (`esockd_cidr:match/2`); an address of the other family
    /// never does.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.start, self.end, ip.to_canonical()) {
            (IpAddr::V4(s), IpAddr::V4(e), IpAddr::V4(a)) => s <= a && a <= e,
            (IpAddr::V6(s), IpAddr::V6(e), IpAddr::V6(a)) => s <= a && a <= e,
            _ => false,
        }
    }
}

/// The `inet` tuple of an address (`{127,0,0,1}`, eight 16-bit parts for IPv6).
pub fn ip_term(ip: IpAddr) -> Term {
    match ip.to_canonical() {
        IpAddr::V4(a) => Term::Tuple(a.octets().iter().map(|o| Term::Int(*o as i64)).collect()),
        IpAddr::V6(a) => Term::Tuple(a.segments().iter().map(|s| Term::Int(*s as i64)).collect()),
    }
}

/// The address an `inet` tuple stands for.
pub fn ip_of(t: &Term) -> Option<IpAddr> {
    let parts: Vec<i64> = t
        .as_tuple()?
        .iter()
        .map(Term::as_i64)
        .collect::<Option<_>>()?;
    match parts.len() {
        4 => {
            let o: Vec<u8> = parts
                .iter()
                .map(|p| u8::try_from(*p).ok())
                .collect::<Option<_>>()?;
            Some(IpAddr::from([o[0], o[1], o[2], o[3]]))
        }
        8 => {
            let s: Vec<u16> = parts
                .iter()
                .map(|p| u16::try_from(*p).ok())
                .collect::<Option<_>>()?;
            Some(IpAddr::from([
                s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
            ]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_text() {
        let net = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!((net.start, net.end), (ip("10.0.0.0"), ip("10.255.255.255")));
        assert!(net.contains(ip("10.9.9.9")));
        assert!(!net.contains(ip("11.0.0.0")));
        assert!(net.contains(ip("::ffff:10.0.0.1")), "mapped IPv4 peers");
        let host = Cidr::parse("127.0.0.1").unwrap();
        assert!(host.contains(ip("127.0.0.1")) && !host.contains(ip("127.0.0.2")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        let v6 = Cidr::parse("fe80::/10").unwrap();
        assert!(v6.contains(ip("fe80::1")) && !v6.contains(ip("127.0.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nonsense").is_err());
    }

    #[test]
    fn cidr_term_and_tuples() {
        let t = Term::Tuple(vec![
            ip_term(ip("192.168.0.0")),
            ip_term(ip("192.168.255.255")),
            Term::Int(16),
        ]);
        let net = Cidr::from_term(&t).unwrap();
        assert!(net.contains(ip("192.168.3.4")) && !net.contains(ip("192.169.0.0")));
        assert_eq!(ip_of(&ip_term(ip("::1"))), Some(ip("::1")));
        assert_eq!(ip_of(&Term::Tuple(vec![Term::Int(300); 4])), None);
        assert_eq!(Cidr::from_term(&Term::Int(1)), None);
    }
}
