//! The TLS options and the names of the files EMQX writes their inline values to.

use md5::{Digest, Md5};

/// An option EMQX treats as TLS material (`SSL_FILE_OPT_PATHS` plus SAML's signing pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    /// `keyfile`.
    Keyfile,
    /// `certfile`.
    Certfile,
    /// `cacertfile`.
    Cacertfile,
    /// `ocsp.issuer_pem`.
    IssuerPem,
    /// SAML `sp_public_key` (written as `certfile`).
    SpPublicKey,
    /// SAML `sp_private_key` (written as `keyfile`).
    SpPrivateKey,
}

/// What the option is for, after EMQX's own option names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `certfile`, `sp_public_key`: the certificate (chain) presented.
    Cert,
    /// `keyfile`, `sp_private_key`: the private key.
    Key,
    /// `cacertfile`, `ocsp.issuer_pem`: certificates trusted or named as issuer.
    CaCert,
}

impl Kind {
    /// The name items use.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cert => "cert",
            Kind::Key => "key",
            Kind::CaCert => "cacert",
        }
    }
}

impl Opt {
    /// The option a key of an ssl map names directly (all but `ocsp.issuer_pem`).
    pub fn from_key(key: &str) -> Option<Opt> {
        Some(match key {
            "keyfile" => Opt::Keyfile,
            "certfile" => Opt::Certfile,
            "cacertfile" => Opt::Cacertfile,
            "sp_public_key" => Opt::SpPublicKey,
            "sp_private_key" => Opt::SpPrivateKey,
            _ => return None,
        })
    }

    /// What the option holds.
    pub fn kind(self) -> Kind {
        match self {
            Opt::Keyfile | Opt::SpPrivateKey => Kind::Key,
            Opt::Certfile | Opt::SpPublicKey => Kind::Cert,
            Opt::Cacertfile | Opt::IssuerPem => Kind::CaCert,
        }
    }

    /// The `<name>` of the written file: the key path joined by `_`, first `file` removed.
    pub fn file_name(self) -> &'static str {
        match self {
            Opt::Keyfile | Opt::SpPrivateKey => "key",
            Opt::Certfile | Opt::SpPublicKey => "cert",
            Opt::Cacertfile => "cacert",
            Opt::IssuerPem => "ocsp_issuer_pem",
        }
    }
}

/// `<HEX16>`: uppercase hex of the first 8 bytes of `md5(SubDir ++ name ++ PEM)`.
pub fn hex16(subdir: &str, name: &str, pem: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(subdir.as_bytes());
    md5.update(name.as_bytes());
    md5.update(pem.as_bytes());
    hex::encode_upper(&md5.finalize()[..8])
}

/// Where under the data dir EMQX writes an inline value: `certs/<SubDir>/<name>-<HEX16>`.
pub fn cert_path(subdir: &str, opt: Opt, pem: &str) -> String {
    let name = opt.file_name();
    format!("certs/{subdir}/{name}-{}", hex16(subdir, name, pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_option() {
        assert_eq!(Opt::from_key("sp_private_key"), Some(Opt::SpPrivateKey));
        assert_eq!(Opt::from_key("issuer_pem"), None);
        assert_eq!(Opt::SpPublicKey.file_name(), "cert");
        assert_eq!(Opt::IssuerPem.kind(), Kind::CaCert);
        assert_eq!(hex16("a", "cert", "x").len(), 16);
        let path = cert_path("listeners/ssl/default", Opt::IssuerPem, "x");
        assert!(path.starts_with("certs/listeners/ssl/default/ocsp_issuer_pem-"));
    }
}
