//! The `{log_header, backup_log, ...}` item.

use erlang_term::Term;

/// The first item of a backup: which mnesia wrote it, on which node, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogHeader {
    /// Backup log format version (`"1.2"`; mnesia also restores `"1.1"`).
    pub log_version: String,
    /// Version of the mnesia application that wrote the file (`"4.21.4"` on OTP 25).
    pub mnesia_version: String,
    /// Node that wrote the file.
    pub node: String,
    /// Erlang timestamp `{MegaSecs, Secs, MicroSecs}`.
    pub timestamp: (i64, i64, i64),
}

impl LogHeader {
    /// A header as mnesia 4.21 (OTP 25) writes it, stamped now.
    pub fn new(node: &str) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let micros = now.as_micros() as i64;
        LogHeader {
            log_version: "1.2".into(),
            mnesia_version: "4.21.4".into(),
            node: node.into(),
            timestamp: (
                micros / 1_000_000_000_000,
                (micros / 1_000_000) % 1_000_000,
                micros % 1_000_000,
            ),
        }
    }

    /// The Erlang term of this header.
    pub fn to_term(&self) -> Term {
        let (mega, secs, micro) = self.timestamp;
        Term::tuple(vec![
            Term::atom("log_header"),
            Term::atom("backup_log"),
            Term::charlist(&self.log_version),
            Term::charlist(&self.mnesia_version),
            Term::atom(&self.node),
            Term::tuple(vec![Term::Int(mega), Term::Int(secs), Term::Int(micro)]),
        ])
    }

    /// Reads a header term; `None` if the term is not a log header at all.
    pub(crate) fn from_term(t: &Term) -> Option<Result<LogHeader, String>> {
        let e = t.as_tuple()?;
        if e.first()?.as_atom()? != "log_header" {
            return None;
        }
        Some(Self::fields(e))
    }

    fn fields(e: &[Term]) -> Result<LogHeader, String> {
        if e.len() != 6 {
            return Err(format!("expected 6 elements, found {}", e.len()));
        }
        if e[1].as_atom() != Some("backup_log") {
            return Err(format!("log kind is {}, expected backup_log", e[1]));
        }
        let text = |t: &Term, what: &str| {
            t.as_charlist()
                .ok_or_else(|| format!("{what} is {t}, expected a string"))
        };
        let ts = e[5]
            .as_tuple()
            .filter(|t| t.len() == 3)
            .and_then(|t| Some((t[0].as_i64()?, t[1].as_i64()?, t[2].as_i64()?)))
            .ok_or_else(|| format!("timestamp is {}, expected {{Mega, Secs, Micro}}", e[5]))?;
        Ok(LogHeader {
            log_version: text(&e[2], "log version")?,
            mnesia_version: text(&e[3], "mnesia version")?,
            node: e[4]
                .as_atom()
                .ok_or_else(|| format!("node is {}, expected an atom", e[4]))?
                .to_owned(),
            timestamp: ts,
        })
    }
}
