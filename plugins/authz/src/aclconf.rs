//! The `acl.conf` reader, shared with the simulated node through `emqx-acl-conf`.

pub use emqx_acl_conf::{parse, LineTerm, SyntaxError};
