//! META.hocon: the edition and version of the EMQX that wrote the archive, and EMQX's import rules.

use emqx_hocon::Value;

/// EMQX edition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    /// Open-source edition.
    Ce,
    /// Enterprise edition.
    Ee,
}

impl Edition {
    /// `ce` or `ee`.
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Ce => "ce",
            Edition::Ee => "ee",
        }
    }

    /// Parses `ce` or `ee`.
    pub fn parse(s: &str) -> Option<Edition> {
        match s {
            "ce" => Some(Edition::Ce),
            "ee" => Some(Edition::Ee),
            _ => None,
        }
    }
}

/// Which EMQX release line's version check applies on import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionRules {
    /// 5.x up to e5.10.4: refused if the archive's major or minor is greater (minor compared even across majors).
    Emqx5,
    /// 6.x: refused if major ≤ 4, a greater major, or the same major with a greater minor.
    Emqx6,
}

/// The content of META.hocon.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Meta {
    /// Edition that wrote the archive.
    pub edition: Edition,
    /// Full release string, suffixes included (`5.7.0-g830266b4`).
    pub version: String,
}

/// Why META.hocon is not acceptable, in EMQX's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetaFault {
    /// No `edition` or `version` key (or unparsable file): `missing_backup_meta`.
    Missing(String),
    /// `invalid_edition`.
    Edition,
    /// `invalid_version`.
    Version,
}

impl Meta {
    /// Parses META.hocon as EMQX does.
    pub fn parse(text: &str) -> Result<Meta, MetaFault> {
        let root = emqx_hocon::parse(text).map_err(|e| MetaFault::Missing(e.to_string()))?;
        let (Some(edition), Some(version)) = (root.get("edition"), root.get("version")) else {
            return Err(MetaFault::Missing("edition or version missing".into()));
        };
        let edition = edition
            .as_str()
            .and_then(Edition::parse)
            .ok_or(MetaFault::Edition)?;
        let version = match version {
            Value::String(s) if s.split('.').count() >= 2 => s.clone(),
            _ => return Err(MetaFault::Version),
        };
        Ok(Meta { edition, version })
    }

    /// META.hocon as EMQX prints it.
    pub fn to_hocon(&self) -> String {
        let mut root = emqx_hocon::Object::new();
        root.insert(
            "edition".into(),
            Value::String(self.edition.as_str().into()),
        );
        root.insert("version".into(), Value::String(self.version.clone()));
        emqx_hocon::to_string(&root)
    }

    /// Major and minor as EMQX reads them: leading digits of the first two dot-separated parts.
    pub fn major_minor(version: &str) -> Option<(u64, u64)> {
        let mut parts = version.split('.');
        let num = |p: &str| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        };
        let major = num(parts.next()?);
        let minor = num(parts.next()?);
        Some((major, minor))
    }

    /// EMQX's edition and version check for importing this archive into a node; the message on refusal.
    pub fn check_importable(
        &self,
        node_edition: Edition,
        node_version: &str,
        rules: VersionRules,
    ) -> Result<(), String> {
        if self.edition == Edition::Ee && node_edition == Edition::Ce {
            return Err("importing EMQX Enterprise data backup to EMQX is not allowed".into());
        }
        let (Some((maj, min)), Some((node_maj, node_min))) = (
            Self::major_minor(&self.version),
            Self::major_minor(node_version),
        ) else {
            return Err(
                "invalid backup archive content: wrong EMQX version value in META.hocon".into(),
            );
        };
        let refused = match rules {
            VersionRules::Emqx5 => maj > node_maj || min > node_min,
            VersionRules::Emqx6 => {
                maj <= 4 || maj > node_maj || (maj == node_maj && min > node_min)
            }
        };
        if refused {
            let what = match rules {
                VersionRules::Emqx5 => "is newer than",
                VersionRules::Emqx6 => "is incompatible with",
            };
            return Err(format!(
                "[warning] Backup version \"{}\" {what} EMQX version \"{node_version}\", import is not allowed.\n",
                self.version
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_meta() {
        let m = Meta::parse("edition = ce\nversion = \"5.7.0-g830266b4\"\n").unwrap();
        assert_eq!(
            m,
            Meta {
                edition: Edition::Ce,
                version: "5.7.0-g830266b4".into()
            }
        );
        assert_eq!(
            m.to_hocon(),
            "edition = ce\nversion = \"5.7.0-g830266b4\"\n"
        );
        assert_eq!(
            Meta::parse("edition = xe\nversion = \"5.3.1\""),
            Err(MetaFault::Edition)
        );
        assert_eq!(
            Meta::parse("edition = ce\nversion = \"5\""),
            Err(MetaFault::Version)
        );
        assert!(matches!(
            Meta::parse("edition = ce"),
            Err(MetaFault::Missing(_))
        ));
        assert!(matches!(Meta::parse("{{{"), Err(MetaFault::Missing(_))));
    }

    #[test]
    fn version_rules() {
        let m = |v: &str, e| Meta {
            edition: e,
            version: v.into(),
        };
        assert!(m("5.3.1", Edition::Ee)
            .check_importable(Edition::Ce, "5.8.6", VersionRules::Emqx5)
            .unwrap_err()
            .contains("Enterprise"));
        assert!(m("5.3.1", Edition::Ce)
            .check_importable(Edition::Ee, "5.8.6", VersionRules::Emqx5)
            .is_ok());
        assert!(m("5.9.0", Edition::Ce)
            .check_importable(Edition::Ce, "5.8.6", VersionRules::Emqx5)
            .is_err());
        assert!(m("5.9.0", Edition::Ce)
            .check_importable(Edition::Ce, "6.0.0", VersionRules::Emqx5)
            .is_err());
        assert!(m("5.9.0", Edition::Ce)
            .check_importable(Edition::Ce, "6.0.0", VersionRules::Emqx6)
            .is_ok());
        assert!(m("4.4.0", Edition::Ce)
            .check_importable(Edition::Ce, "6.0.0", VersionRules::Emqx6)
            .is_err());
        assert!(m("5.1.0-alpha.3-ga9d63c69", Edition::Ce)
            .check_importable(Edition::Ce, "5.1.0", VersionRules::Emqx5)
            .is_ok());
    }
}
