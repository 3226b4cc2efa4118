//! EMQX's TLS file options in a cluster config tree, as its config handlers see them when they
//! write inline PEM to `<data_dir>/certs/<SubDir>/<name>-<HEX16>`
//! (`emqx_tls_lib:ensure_ssl_files_in_mutable_certs_dir`, spec §1.8).
//!
//! * [`find`] walks a config tree for `keyfile`, `certfile`, `cacertfile`, `ocsp.issuer_pem`,
//!   `sp_public_key` and `sp_private_key` values, with their paths and holding blocks.
//! * [`owner`] and [`subdir`] name the `SubDir` EMQX's handler for a block writes under.
//! * [`Opt::file_name`], [`hex16`] and [`cert_path`] name the written file.
//!
//! The certs plugin reports what EMQX would write; the simulated node writes it.

mod opt;
mod owner;
mod scan;

pub use opt::{cert_path, hex16, Kind, Opt};
pub use owner::{owner, subdir, Owner};
pub use scan::{disabled, find, get, get_mut, path_text, Found, Seg};
