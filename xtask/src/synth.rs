//! Synthetic archives with EMQX's table shapes, for benchmarks.

use emqx_archive::{export_file_name, table_def, ArchiveWriter, Meta};
use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{BackupWriter, LogHeader};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const NODE: &str = "emqx@127.0.0.1";

fn b(s: String) -> Term {
    Term::Binary(s.into_bytes())
}

fn hex(i: usize, len: usize) -> String {
    let mut s = format!(
        "{:016x}{:016x}",
        (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        i
    );
    while s.len() < len {
        s = format!("{s}{s}");
    }
    s.truncate(len);
    s
}

/// A table name and how to make its i-th record.
type Table = (&'static str, fn(usize) -> Term);

fn tables() -> Vec<Table> {
    vec![
        ("emqx_authn_mnesia", |i| {
            Term::tuple(vec![
                Term::atom("emqx_authn_mnesia"),
                Term::tuple(vec![Term::atom("mqtt:global"), b(format!("user-{i:07}"))]),
                b(hex(i, 64)),
                b(hex(i + 1, 32)),
                Term::boolean(i % 1000 == 0),
            ])
        }),
        ("emqx_authn_scram_mnesia", |i| {
            Term::tuple(vec![
                Term::atom("emqx_authn_scram_mnesia"),
                Term::tuple(vec![
                    Term::binary("scram:built_in_database"),
                    b(format!("user-{i:07}")),
                ]),
                Term::Binary(hex(i, 32).into_bytes()),
                Term::Binary(hex(i + 7, 32).into_bytes()),
                b(hex(i + 1, 32)),
                Term::boolean(false),
            ])
        }),
        ("emqx_acl", |i| {
            let action = Term::tuple(vec![
                Term::atom("all"),
                Term::list(vec![
                    Term::tuple(vec![
                        Term::atom("qos"),
                        Term::list(vec![Term::Int(0), Term::Int(1), Term::Int(2)]),
                    ]),
                    Term::tuple(vec![Term::atom("retain"), Term::atom("all")]),
                ]),
            ]);
            Term::tuple(vec![
                Term::atom("emqx_acl"),
                Term::tuple(vec![Term::Int(1), b(format!("user-{i:07}"))]),
                Term::list(vec![
                    Term::tuple(vec![
                        Term::atom("allow"),
                        action.clone(),
                        b(format!("t/{i}/allowed")),
                    ]),
                    Term::tuple(vec![Term::atom("deny"), action, b(format!("t/{i}/denied"))]),
                ]),
            ])
        }),
        ("emqx_banned", |i| {
            Term::tuple(vec![
                Term::atom("emqx_banned"),
                Term::tuple(vec![Term::atom("clientid"), b(format!("client-{i:07}"))]),
                Term::binary("mgmt_api"),
                Term::binary("bench"),
                Term::Int(1_700_000_000),
                Term::atom("infinity"),
            ])
        }),
        ("emqx_admin", |i| {
            Term::tuple(vec![
                Term::atom("emqx_admin"),
                b(format!("admin-{i:07}")),
                Term::Binary([hex(i, 4).into_bytes(), vec![7u8; 32]].concat()),
                Term::binary(""),
                Term::binary("administrator"),
                Term::Map(vec![(Term::atom("password_ts"), Term::Int(1_700_000_000))]),
            ])
        }),
        ("emqx_app", |i| {
            Term::tuple(vec![
                Term::atom("emqx_app"),
                b(format!("key-{i:07}")),
                b(hex(i, 16)),
                Term::Binary([hex(i, 4).into_bytes(), vec![9u8; 32]].concat()),
                Term::boolean(true),
                Term::Map(vec![
                    (Term::atom("desc"), Term::binary("bench")),
                    (Term::atom("role"), Term::binary("administrator")),
                ]),
                Term::atom("infinity"),
                Term::Int(1_700_000_000),
            ])
        }),
        ("emqx_psk", |i| {
            Term::tuple(vec![
                Term::atom("emqx_psk"),
                b(format!("psk-{i:07}")),
                b(hex(i, 32)),
                Term::atom("undefined"),
            ])
        }),
    ]
}

/// Writes a 7-table archive with `records` records per table into `dir`; returns its path.
pub fn write_archive(dir: &Path, records: usize) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut out = ArchiveWriter::create(dir, &export_file_name(chrono::Local::now()))?;
    let meta = Meta {
        edition: emqx_archive::Edition::Ce,
        version: "5.8.6".into(),
    };
    out.add_bytes("META.hocon", meta.to_hocon().as_bytes(), None)?;
    out.add_bytes("cluster.hocon", b"authentication = [\n  {\n    backend = built_in_database\n    mechanism = password_based\n  }\n]\n", None)?;
    let header = LogHeader::new(NODE);
    for (name, make) in tables() {
        let def = table_def(name).ok_or_else(|| anyhow::anyhow!("{name} is not an EMQX table"))?;
        let schema = def.schema(NODE);
        let spool = tempfile::tempfile_in(dir)?;
        let mut w = BackupWriter::new(
            name,
            BufWriter::new(spool),
            &header,
            &schema,
            AtomEncoding::Latin1,
        )?;
        for i in 0..records {
            w.write_record(&make(i))?;
        }
        let mut file = w.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.flush()?;
        out.add_file(&format!("mnesia/{name}"), &mut file, Some(records as u64))?;
    }
    Ok(out.finish()?)
}

/// Writes an archive holding only `emqx_authn_mnesia` with users `users` (and a matching
/// `authentication` root). Users whose number is odd get a hash that depends on `variant`, so
/// two archives with different variants differ on half of the users they share.
pub fn write_authn_archive(
    dir: &Path,
    users: std::ops::Range<usize>,
    variant: usize,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut out = ArchiveWriter::create(dir, &export_file_name(chrono::Local::now()))?;
    let meta = Meta {
        edition: emqx_archive::Edition::Ce,
        version: "5.8.6".into(),
    };
    out.add_bytes("META.hocon", meta.to_hocon().as_bytes(), None)?;
    out.add_bytes("cluster.hocon", b"authentication = [\n  {\n    backend = built_in_database\n    mechanism = password_based\n    password_hash_algorithm {name = sha256, salt_position = suffix}\n  }\n]\n", None)?;
    let name = "emqx_authn_mnesia";
    let def = table_def(name).ok_or_else(|| anyhow::anyhow!("{name} is not an EMQX table"))?;
    let spool = tempfile::tempfile_in(dir)?;
    let mut w = BackupWriter::new(
        name,
        BufWriter::new(spool),
        &LogHeader::new(NODE),
        &def.schema(NODE),
        AtomEncoding::Utf8,
    )?;
    let count = users.len();
    for i in users {
        let hash_seed = i + variant * (i % 2) * 7_919;
        w.write_record(&Term::tuple(vec![
            Term::atom(name),
            Term::tuple(vec![Term::atom("mqtt:global"), b(format!("user-{i:08}"))]),
            b(hex(hash_seed, 64)),
            b(hex(i + 1, 32)),
            Term::boolean(i % 1000 == 0),
        ]))?;
    }
    let mut file = w.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.flush()?;
    out.add_file(&format!("mnesia/{name}"), &mut file, Some(count as u64))?;
    Ok(out.finish()?)
}
