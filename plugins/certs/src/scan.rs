//! Finding TLS options in a config tree and naming their owner the way EMQX's config handlers
//! do when they write inline PEM to `<data_dir>/certs/<SubDir>/<name>-<HEX16>` (spec §1.8): the
//! EMQX knowledge lives in `emqx-tls-files`, shared with the simulated node; here is only where
//! a file path value points.

pub use emqx_tls_files::{
    cert_path as would_write, disabled, find, hex16, owner, path_text, Found, Opt, Owner, Seg,
};

/// Where a file path points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Under the data dir (export inlines readable ones, so one left is one EMQX could not read).
    DataDir,
    /// One of the certificates every EMQX ships in `etc/certs`.
    StockEtc,
    /// Anywhere else, `${EMQX_ETC_DIR}` included.
    External,
}

impl Location {
    /// The name items use.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::DataDir => "data_dir",
            Location::StockEtc => "etc_dir",
            Location::External => "external",
        }
    }
}

/// Classifies a file path value.
pub fn locate(path: &str) -> Location {
    const DATA: [&str; 3] = ["data/", "${EMQX_DATA_DIR}/", "$EMQX_DATA_DIR/"];
    const ETC: [&str; 3] = [
        "${EMQX_ETC_DIR}/certs/",
        "$EMQX_ETC_DIR/certs/",
        "etc/certs/",
    ];
    const STOCK: [&str; 5] = [
        "cacert.pem",
        "cert.pem",
        "key.pem",
        "client-cert.pem",
        "client-key.pem",
    ];
    if DATA.iter().any(|p| path.starts_with(p)) || path.contains("/data/certs/") {
        return Location::DataDir;
    }
    if let Some(file) = ETC.iter().find_map(|p| path.strip_prefix(p)) {
        if STOCK.contains(&file) {
            return Location::StockEtc;
        }
    }
    Location::External
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(locate("${EMQX_ETC_DIR}/certs/key.pem"), Location::StockEtc);
        assert_eq!(locate("${EMQX_ETC_DIR}/certs/mine.pem"), Location::External);
        assert_eq!(locate("data/certs/authz/mysql/key-00"), Location::DataDir);
        assert_eq!(locate("/opt/emqx/data/certs/x"), Location::DataDir);
        assert_eq!(locate("/etc/ssl/cert.pem"), Location::External);
    }
}
