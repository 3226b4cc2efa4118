//! What an entry of an archive is, by its path under the top folder.

/// The role of an entry, from its path relative to the top folder.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum EntryKind {
    /// `META.hocon`.
    Meta,
    /// `cluster.hocon`.
    ClusterConfig,
    /// `ns/<ns>/cluster.hocon` (EMQX 6 namespaced export).
    NamespaceConfig(String),
    /// `mnesia/<table>`.
    Table(String),
    /// `MANIFEST.json`, ours.
    Manifest,
    /// Anything else: passed through unchanged.
    Unknown,
}

/// Classifies an entry path relative to the top folder.
pub fn classify(rel: &str) -> EntryKind {
    match rel {
        "META.hocon" => EntryKind::Meta,
        "cluster.hocon" => EntryKind::ClusterConfig,
        "MANIFEST.json" => EntryKind::Manifest,
        _ => {
            if let Some(table) = rel.strip_prefix("mnesia/") {
                if is_table_name(table) {
                    return EntryKind::Table(table.to_owned());
                }
            }
            let ns = rel
                .strip_prefix("ns/")
                .and_then(|r| r.strip_suffix("/cluster.hocon"));
            match ns {
                Some(ns) if !ns.is_empty() && !ns.contains('/') => {
                    EntryKind::NamespaceConfig(ns.to_owned())
                }
                _ => EntryKind::Unknown,
            }
        }
    }
}

/// Table file names EMQX could have written: an unquoted atom. Others (`emqx_banned~`) are ignored by EMQX.
fn is_table_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some('a'..='z'))
        && c.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(classify("META.hocon"), EntryKind::Meta);
        assert_eq!(
            classify("mnesia/emqx_acl"),
            EntryKind::Table("emqx_acl".into())
        );
        assert_eq!(classify("mnesia/emqx_banned~"), EntryKind::Unknown);
        assert_eq!(
            classify("ns/t1/cluster.hocon"),
            EntryKind::NamespaceConfig("t1".into())
        );
        assert_eq!(classify("data/x"), EntryKind::Unknown);
    }
}
