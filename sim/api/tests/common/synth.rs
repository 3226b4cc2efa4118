//! Synthetic archives for the crash and load tests, written with the project's writers (as
//! `xtask synth` does): authn users and bans, with an `authentication` root.

use emqx_archive::{table_def, ArchiveWriter, Edition, Meta};
use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{BackupWriter, LogHeader};
use std::ops::Range;
use std::path::{Path, PathBuf};

const NODE: &str = "emqx@127.0.0.1";

/// What a synthetic archive holds.
pub struct Synth {
    /// Users `user-<i>` of the password authenticator.
    pub users: Range<usize>,
    /// Their `is_superuser`.
    pub superuser: bool,
    /// The authenticator's `salt_position` (`prefix` or `suffix`).
    pub salt_position: &'static str,
    /// Bans of client ids `client-<i>`.
    pub bans: Range<usize>,
}

fn table(name: &str, records: impl Iterator<Item = Term>) -> (Vec<u8>, u64) {
    let def = table_def(name).expect("an EMQX table");
    let mut w = BackupWriter::new(
        name,
        Vec::new(),
        &LogHeader::new(NODE),
        &def.schema(NODE),
        AtomEncoding::Utf8,
    )
    .unwrap();
    let mut n = 0;
    for r in records {
        w.write_record(&r).unwrap();
        n += 1;
    }
    (w.finish().unwrap(), n)
}

impl Synth {
    /// Writes the archive as `dir/name` (an export name: the top folder follows it).
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let mut out = ArchiveWriter::create(dir, name).unwrap();
        let meta = Meta {
            edition: Edition::Ce,
            version: "5.8.6".into(),
        };
        out.add_bytes("META.hocon", meta.to_hocon().as_bytes(), None)
            .unwrap();
        let conf = format!(
            "authentication = [\n  {{\n    backend = built_in_database\n    mechanism = password_based\n    \
             password_hash_algorithm {{name = sha256, salt_position = {}}}\n    user_id_type = username\n  }}\n]\n",
            self.salt_position
        );
        out.add_bytes("cluster.hocon", conf.as_bytes(), None)
            .unwrap();
        let superuser = self.superuser;
        let (bytes, n) = table(
            "emqx_authn_mnesia",
            self.users.clone().map(move |i| {
                Term::tuple(vec![
                    Term::atom("emqx_authn_mnesia"),
                    Term::tuple(vec![
                        Term::atom("mqtt:global"),
                        Term::binary(format!("user-{i:07}")),
                    ]),
                    Term::binary(format!(
                        "{:064x}",
                        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    )),
                    Term::binary(format!("{i:032x}")),
                    Term::boolean(superuser),
                ])
            }),
        );
        out.add_bytes("mnesia/emqx_authn_mnesia", &bytes, Some(n))
            .unwrap();
        let (bytes, n) = table(
            "emqx_banned",
            self.bans.clone().map(|i| {
                Term::tuple(vec![
                    Term::atom("emqx_banned"),
                    Term::tuple(vec![
                        Term::atom("clientid"),
                        Term::binary(format!("client-{i:07}")),
                    ]),
                    Term::binary("synth"),
                    Term::binary("synthetic"),
                    Term::Int(1_700_000_000),
                    Term::atom("infinity"),
                ])
            }),
        );
        out.add_bytes("mnesia/emqx_banned", &bytes, Some(n))
            .unwrap();
        out.finish().unwrap()
    }
}
