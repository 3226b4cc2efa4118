//! Backup files written by OUR `BackupWriter` (and read by our `BackupReader`), checked against
//! real Erlang/OTP: `disk_log` must read back exactly our items, and `mnesia:restore/2` (with
//! EMQX's schema check and `keep_tables`) must load exactly our records.
//!
//! Every test is skipped with a loud banner when `escript` is not on PATH, and fails instead
//! when `REQUIRE_OTP=1`.

use emqx_archive::{table_def, TableDef};
use emqx_backup_tests::fixture_archives;
use emqx_backup_tests::oracle::{oracle_read, oracle_restore, require_otp};
use erlang_term::{encode_to_vec, AtomEncoding, Term};
use mnesia_backup::{BackupReader, BackupWriter, LogHeader, ReadOptions, Schema, TableType};
use num_bigint::BigInt;
use std::collections::HashSet;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// EMQX tables
// ---------------------------------------------------------------------------------------------

/// The tables every-table tests write (those with sample records below).
const SAMPLED: &[&str] = &[
    "emqx_banned",
    "emqx_banned_rules",
    "emqx_authn_mnesia",
    "emqx_authn_scram_mnesia",
    "emqx_acl",
    "emqx_admin",
    "emqx_app",
    "emqx_psk",
    "emqx_retainer_message",
];

fn table(name: &str) -> &'static TableDef {
    table_def(name).unwrap_or_else(|| panic!("unknown table {name}"))
}

const NODE: &str = "emqx@127.0.0.1";

fn schema_of(t: &TableDef) -> Schema {
    t.schema(NODE)
}

// ---------------------------------------------------------------------------------------------
// Term shorthands
// ---------------------------------------------------------------------------------------------

fn a(s: &str) -> Term {
    Term::atom(s)
}
fn b(s: &str) -> Term {
    Term::binary(s.as_bytes())
}
fn i(n: i64) -> Term {
    Term::Int(n)
}
fn t(v: Vec<Term>) -> Term {
    Term::tuple(v)
}
fn l(v: Vec<Term>) -> Term {
    Term::list(v)
}
fn map(pairs: Vec<(Term, Term)>) -> Term {
    Term::Map(pairs)
}
fn rec(table: &str, fields: Vec<Term>) -> Term {
    let mut v = vec![a(table)];
    v.extend(fields);
    Term::tuple(v)
}

/// Deterministic pseudo-random bytes.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

fn hex(seed: u64, n_chars: usize) -> Term {
    let s: String = bytes(seed, n_chars / 2)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    b(&s)
}

fn ipv4(x: [i64; 4]) -> Term {
    t(x.iter().map(|&n| i(n)).collect())
}

fn qos_retain(qos: &[i64], retain: Term) -> Term {
    l(vec![
        t(vec![a("qos"), l(qos.iter().map(|&q| i(q)).collect())]),
        t(vec![a("retain"), retain]),
    ])
}

/// `#message{}` as EMQX 5.x stores it in the retainer.
fn message(seed: u64, topic: &str, payload: Vec<u8>, headers: Term, extra: Term) -> Term {
    t(vec![
        a("message"),
        Term::binary(bytes(seed, 16)),
        i(1),
        b("c"),
        map(vec![(a("retain"), Term::boolean(true))]),
        headers,
        b(topic),
        Term::Binary(payload),
        i(1_700_000_000_000 + seed as i64),
        extra,
    ])
}

fn topic_words(topic: &str) -> Term {
    l(topic.split('/').map(b).collect())
}

fn retained(seed: u64, topic: &str, payload: Vec<u8>) -> Term {
    rec(
        "emqx_retainer_message",
        vec![
            topic_words(topic),
            message(seed, topic, payload, map(vec![]), map(vec![])),
            i(0),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Realistic records of every EMQX table
// ---------------------------------------------------------------------------------------------

fn sample_records(table: &str) -> Vec<Term> {
    match table {
        "emqx_banned" => vec![
            rec(
                table,
                vec![
                    t(vec![a("clientid"), b("c1")]),
                    b("mgmt_api"),
                    b("r"),
                    i(1_700_000_000),
                    a("infinity"),
                ],
            ),
            rec(
                table,
                vec![
                    t(vec![a("peerhost"), ipv4([127, 0, 0, 1])]),
                    b("mgmt_api"),
                    b("r2"),
                    i(1_700_000_000),
                    i(1_800_000_000),
                ],
            ),
            rec(
                table,
                vec![
                    t(vec![
                        a("peerhost"),
                        t(vec![i(0), i(0), i(0), i(0), i(0), i(0), i(0), i(1)]),
                    ]),
                    b("dashboard"),
                    b(""),
                    i(1_700_000_001),
                    a("infinity"),
                ],
            ),
            rec(
                table,
                vec![
                    t(vec![a("username"), b("bob")]),
                    b("mgmt_api"),
                    b("spam"),
                    i(1_700_000_002),
                    i(1_700_086_402),
                ],
            ),
        ],
        "emqx_banned_rules" => vec![
            rec(
                table,
                vec![
                    t(vec![
                        a("peerhost_net"),
                        t(vec![ipv4([10, 0, 0, 0]), ipv4([10, 255, 255, 255]), i(8)]),
                    ]),
                    b("mgmt_api"),
                    b("net"),
                    i(1_700_000_000),
                    a("infinity"),
                ],
            ),
            rec(
                table,
                vec![
                    t(vec![
                        a("clientid_re"),
                        t(vec![
                            b("^test-.*"),
                            t(vec![
                                a("re_pattern"),
                                i(0),
                                i(0),
                                i(0),
                                Term::binary(bytes(7, 90)),
                            ]),
                        ]),
                    ]),
                    b("mgmt_api"),
                    b("re"),
                    i(1_700_000_000),
                    i(1_900_000_000),
                ],
            ),
        ],
        "emqx_authn_mnesia" => (0..4)
            .map(|n| {
                rec(
                    table,
                    vec![
                        t(vec![a("mqtt:global"), b(&format!("u{n}"))]),
                        hex(n, 64),
                        hex(100 + n, 32),
                        Term::boolean(n == 2),
                    ],
                )
            })
            .collect(),
        "emqx_authn_scram_mnesia" => (0..3)
            .map(|n| {
                rec(
                    table,
                    vec![
                        t(vec![a("mqtt:global"), b(&format!("scram-{n}"))]),
                        Term::binary(bytes(n, 32)),
                        Term::binary(bytes(50 + n, 32)),
                        hex(90 + n, 32),
                        Term::boolean(n == 0),
                    ],
                )
            })
            .collect(),
        "emqx_acl" => vec![
            rec(
                table,
                vec![
                    i(0),
                    l(vec![
                        t(vec![
                            a("allow"),
                            t(vec![a("all"), qos_retain(&[0, 1, 2], a("all"))]),
                            b("t/1"),
                        ]),
                        t(vec![
                            a("deny"),
                            a("all"),
                            t(vec![a("publish"), qos_retain(&[0], a("true"))]),
                            t(vec![a("eq"), b("#")]),
                        ]),
                    ]),
                ],
            ),
            rec(
                table,
                vec![
                    t(vec![i(1), b("user")]),
                    l(vec![
                        t(vec![
                            a("allow"),
                            t(vec![
                                a("subscribe"),
                                l(vec![t(vec![a("qos"), l(vec![i(0), i(1)])])]),
                            ]),
                            b("u/#"),
                        ]),
                        t(vec![
                            a("deny"),
                            t(vec![a("all"), qos_retain(&[0, 1, 2], a("all"))]),
                            b("secret/#"),
                        ]),
                    ]),
                ],
            ),
            rec(
                table,
                vec![
                    t(vec![i(2), b("client")]),
                    l(vec![t(vec![
                        a("allow"),
                        a("all"),
                        t(vec![a("publish"), qos_retain(&[1, 2], a("false"))]),
                        b("c/${clientid}/#"),
                    ])]),
                ],
            ),
        ],
        "emqx_admin" => vec![
            rec(
                table,
                vec![
                    b("admin"),
                    Term::binary(bytes(1, 36)),
                    b("administrator"),
                    b("administrator"),
                    map(vec![(a("password_ts"), i(1_700_000_000))]),
                ],
            ),
            rec(
                table,
                vec![
                    b("viewer"),
                    Term::binary(bytes(2, 36)),
                    b("read only"),
                    b("viewer"),
                    map(vec![]),
                ],
            ),
        ],
        "emqx_app" => vec![
            rec(
                table,
                vec![
                    b("app1"),
                    b("a5cbb8419c0bd722"),
                    Term::binary(bytes(3, 36)),
                    Term::boolean(true),
                    map(vec![(a("desc"), b("d")), (a("role"), b("administrator"))]),
                    a("infinity"),
                    i(1_700_000_000),
                ],
            ),
            rec(
                table,
                vec![
                    b("app2"),
                    b("8165ca282fd00243"),
                    Term::binary(bytes(4, 36)),
                    Term::boolean(false),
                    map(vec![(a("desc"), b("")), (a("role"), b("viewer"))]),
                    i(1_800_000_000),
                    i(1_700_000_001),
                ],
            ),
        ],
        "emqx_psk" => vec![
            rec(table, vec![b("psk-1"), b("secret-1"), a("undefined")]),
            rec(
                table,
                vec![b("psk-2"), Term::binary(bytes(5, 32)), a("undefined")],
            ),
        ],
        "emqx_retainer_message" => {
            let headers = map(vec![
                (a("client_attrs"), map(vec![])),
                (a("peerhost"), ipv4([127, 0, 0, 1])),
                (a("peername"), t(vec![ipv4([127, 0, 0, 1]), i(56676)])),
                (a("properties"), map(vec![])),
                (a("proto_ver"), i(5)),
                (a("protocol"), a("mqtt")),
                (a("retained"), a("true")),
                (a("username"), a("undefined")),
            ]);
            vec![
                rec(
                    table,
                    vec![
                        l(vec![b("t"), b("a")]),
                        t(vec![
                            a("message"),
                            Term::binary(bytes(6, 16)),
                            i(1),
                            b("c"),
                            map(vec![(a("retain"), a("true"))]),
                            map(vec![]),
                            b("t/a"),
                            b("payload"),
                            i(1_700_000_000_000),
                            map(vec![]),
                        ]),
                        i(0),
                    ],
                ),
                rec(
                    table,
                    vec![
                        topic_words("t/backup-retainer/test1"),
                        message(
                            8,
                            "t/backup-retainer/test1",
                            b"Hi 1!!!".to_vec(),
                            headers,
                            map(vec![]),
                        ),
                        i(1_900_000_000_000),
                    ],
                ),
            ]
        }
        other => panic!("no samples for {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing and checking
// ---------------------------------------------------------------------------------------------

/// A backup file we wrote and the items OTP must read back from it.
struct Written {
    path: PathBuf,
    table: &'static str,
    items: Vec<Term>,
    records: Vec<Term>,
}

/// Writes `dir/<table>` with our writer; `records` are tagged with the table name.
fn write_table(dir: &Path, name: &str, records: &[Term], atoms: AtomEncoding) -> Written {
    let tab = table(name);
    write_with_schema(dir, tab.name, &schema_of(tab), records, atoms)
}

fn write_with_schema(
    dir: &Path,
    name: &'static str,
    schema: &Schema,
    records: &[Term],
    atoms: AtomEncoding,
) -> Written {
    let header = LogHeader::new(NODE);
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create backup file");
    let mut w = BackupWriter::new(name, BufWriter::new(file), &header, schema, atoms)
        .expect("BackupWriter::new");
    for r in records {
        w.write_record(r)
            .unwrap_or_else(|e| panic!("write_record {r}: {e}"));
    }
    w.finish().expect("finish");
    let mut items = vec![header.to_term(), schema.to_term()];
    items.extend(records.iter().cloned());
    Written {
        path,
        table: name,
        items,
        records: records.to_vec(),
    }
}

/// `{ok, Items}` from the oracle, or a panic that shows what OTP said.
fn ok_items(what: &str, res: &Term) -> Vec<Term> {
    match res.as_tuple() {
        Some([tag, items]) if tag.as_atom() == Some("ok") => items
            .as_list()
            .unwrap_or_else(|| panic!("{what}: oracle items are not a list: {items}"))
            .to_vec(),
        _ => panic!(
            "{what}: OTP disk_log did not read the file cleanly: {}",
            short(res)
        ),
    }
}

fn short(t: &Term) -> String {
    let s = t.to_string();
    if s.len() <= 3000 {
        return s;
    }
    let mut end = 3000;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} chars)", &s[..end], s.len())
}

/// Asserts two item lists are equal, naming the first differing item.
fn assert_items_eq(what: &str, got: &[Term], want: &[Term]) {
    for (n, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g == w,
            "{what}: item {n} differs\n  OTP read: {}\n  expected: {}",
            short(g),
            short(w)
        );
    }
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: OTP read {} items, expected {}",
        got.len(),
        want.len()
    );
}

/// Checks that OTP's disk_log reads back exactly the items we wrote.
fn check_read(w: &Written, what: &str) {
    let res = oracle_read(&w.path);
    let items = ok_items(&format!("{what} {}", w.table), &res);
    assert_items_eq(&format!("{what} {}", w.table), &items, &w.items);
}

/// Our records as mnesia returns them: tagged with the record_name, sorted.
fn expected_rows(table_name: &str, records: &[Term]) -> Vec<Term> {
    let rn = table(table_name).record_name;
    let mut rows: Vec<Term> = records.iter().map(|r| retag(r, rn)).collect();
    rows.sort();
    rows
}

fn retag(r: &Term, tag: &str) -> Term {
    let mut e = r.as_tuple().expect("record is a tuple").to_vec();
    e[0] = a(tag);
    Term::Tuple(e)
}

/// The `[{Tab, Status, Rows}]` restore result as (tab, status, rows).
fn restore_entries(res: &Term) -> Vec<(String, Term, Vec<Term>)> {
    res.as_list()
        .unwrap_or_else(|| panic!("restore result is not a list: {}", short(res)))
        .iter()
        .map(|e| match e.as_tuple() {
            Some([tab, status, rows]) => (
                tab.as_atom().expect("table atom").to_owned(),
                status.clone(),
                rows.as_list().expect("rows list").to_vec(),
            ),
            _ => panic!("bad restore entry {}", short(e)),
        })
        .collect()
}

/// Asserts that OTP's rows (sorted by `lists:sort/1`) equal `want` (sorted by our `Ord`).
fn assert_rows(what: &str, got: &[Term], want: &[Term]) {
    if got == want {
        return;
    }
    let mut resorted = got.to_vec();
    resorted.sort();
    if resorted == want {
        panic!(
            "{what}: OTP restored the same rows, but lists:sort/1 orders them differently from \
             erlang_term's Ord:\n  OTP: {}\n  ours: {}",
            short(&l(got.to_vec())),
            short(&l(want.to_vec()))
        );
    }
    let missing: Vec<&Term> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&Term> = got.iter().filter(|g| !want.contains(g)).collect();
    panic!(
        "{what}: restored rows differ ({} rows from OTP, {} expected)\n  missing from OTP: {}\n  unexpected in OTP: {}",
        got.len(),
        want.len(),
        short(&l(missing.into_iter().cloned().collect())),
        short(&l(extra.into_iter().cloned().collect()))
    );
}

/// Restores all `files` into one fresh mnesia and checks each table: status ok, rows = ours.
fn check_restore(files: &[&Written], what: &str) {
    let paths: Vec<PathBuf> = files.iter().map(|w| w.path.clone()).collect();
    let res = oracle_restore(&paths, None);
    let entries = restore_entries(&res);
    assert_eq!(
        entries.len(),
        files.len(),
        "{what}: one restore entry per file"
    );
    for (w, (tab, status, rows)) in files.iter().zip(&entries) {
        assert_eq!(tab, w.table, "{what}: entries come in argument order");
        assert!(
            status.as_atom() == Some("ok"),
            "{what}: mnesia:restore of {tab} failed: {}",
            short(status)
        );
        assert_rows(
            &format!("{what} {tab}"),
            rows,
            &expected_rows(tab, &w.records),
        );
    }
}

/// Runs `f` on every item, on up to `available_parallelism` threads; results in input order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if k >= items.len() {
                            break mine;
                        }
                        mine.push((k, f(&items[k])));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    out.sort_by_key(|(k, _)| *k);
    out.into_iter().map(|(_, r)| r).collect()
}

fn encoding_name(atoms: AtomEncoding) -> &'static str {
    match atoms {
        AtomEncoding::Latin1 => "Latin1",
        AtomEncoding::Utf8 => "Utf8",
    }
}

// ---------------------------------------------------------------------------------------------
// Every EMQX table, both atom encodings
// ---------------------------------------------------------------------------------------------

fn every_table(atoms: AtomEncoding) {
    let dir = tempfile::tempdir().unwrap();
    let what = format!("every table, {}", encoding_name(atoms));
    let written: Vec<Written> = SAMPLED
        .iter()
        .map(|name| write_table(dir.path(), table(name).name, &sample_records(name), atoms))
        .collect();
    par_map(&written, |w| check_read(w, &what));
    check_restore(&written.iter().collect::<Vec<_>>(), &what);
}

#[test]
fn every_emqx_table_latin1_atoms() {
    if !require_otp() {
        return;
    }
    every_table(AtomEncoding::Latin1);
}

#[test]
fn every_emqx_table_utf8_atoms() {
    if !require_otp() {
        return;
    }
    every_table(AtomEncoding::Utf8);
}

// ---------------------------------------------------------------------------------------------
// Edge cases
// ---------------------------------------------------------------------------------------------

/// A retained message whose encoded record is exactly `size` bytes (version byte included).
fn retained_of_size(seed: u64, topic: &str, size: usize, atoms: AtomEncoding) -> Term {
    let probe = encode_to_vec(&retained(seed, topic, Vec::new()), atoms)
        .unwrap()
        .len();
    assert!(
        size >= probe,
        "size {size} below the empty-payload size {probe}"
    );
    let r = retained(seed, topic, bytes(seed, size - probe));
    assert_eq!(
        encode_to_vec(&r, atoms).unwrap().len(),
        size,
        "payload adjustment"
    );
    r
}

fn big_items(atoms: AtomEncoding) {
    let dir = tempfile::tempdir().unwrap();
    let what = format!("big items, {}", encoding_name(atoms));
    let records = vec![
        // the first record already needs the MD5 header
        retained(1, "big/70000", bytes(1, 70_000)),
        retained_of_size(2, "size/65527", 65_527, atoms),
        retained_of_size(3, "size/65528", 65_528, atoms),
        retained_of_size(4, "size/65529", 65_529, atoms),
        retained(5, "small/after", b"x".to_vec()),
        retained(6, "big/1MiB", bytes(6, 1 << 20)),
        retained_of_size(7, "size/65528-again", 65_528, atoms),
    ];
    let w = write_table(dir.path(), "emqx_retainer_message", &records, atoms);

    // The framing: 8-byte file header; per item 8 header bytes, 16 more (MD5) from 65528 bytes.
    let expected_len: usize = 8 + w
        .items
        .iter()
        .map(|it| {
            let n = encode_to_vec(it, atoms).unwrap().len();
            8 + n + if n >= 65_528 { 16 } else { 0 }
        })
        .sum::<usize>();
    assert_eq!(
        std::fs::metadata(&w.path).unwrap().len() as usize,
        expected_len,
        "{what}: file length"
    );

    check_read(&w, &what);
    check_restore(&[&w], &what);
}

#[test]
fn big_items_around_the_md5_threshold_latin1() {
    if !require_otp() {
        return;
    }
    big_items(AtomEncoding::Latin1);
}

#[test]
fn big_items_around_the_md5_threshold_utf8() {
    if !require_otp() {
        return;
    }
    big_items(AtomEncoding::Utf8);
}

const UNICODE_ID: &str = "用户-ü-😀";

fn edge_value_files(dir: &Path, atoms: AtomEncoding) -> Vec<Written> {
    let two70: BigInt = BigInt::from(1u8) << 70usize;
    let many_keys: Vec<(Term, Term)> = (0..200)
        .map(|n| match n % 3 {
            0 => (a(&format!("key_{n}")), i(n)),
            1 => (b(&format!("bin-key-{n}")), b(&format!("v{n}"))),
            _ => (i(n * 1_000_003), t(vec![i(n), a("undefined")])),
        })
        .collect();
    let odd_values = map(vec![
        (a("big"), Term::from(two70.clone())),
        (a("neg_big"), Term::from(-two70.clone())),
        (a("huge"), Term::from(BigInt::from(1u8) << 2100usize)), // LARGE_BIG_EXT (> 255 digit bytes)
        (a("i64_max"), i(i64::MAX)),
        (a("i64_min"), i(i64::MIN)),
        (
            a("i32_edge"),
            l(vec![
                i(2_147_483_647),
                i(2_147_483_648),
                i(-2_147_483_648),
                i(-2_147_483_649),
            ]),
        ),
        (a("small"), l(vec![i(0), i(255), i(256), i(-1)])),
        (a("float"), Term::Float(0.5)),
        (a("neg_float"), Term::Float(-1.0e-300)),
        (a("infinity"), a("infinity")),
        (
            a("empty"),
            t(vec![l(vec![]), b(""), map(vec![]), t(vec![])]),
        ),
        (a("charlist"), Term::charlist("héllo")),
        (a("unicode_charlist"), Term::charlist(UNICODE_ID)),
        (
            a("improper"),
            Term::ImproperList(vec![a("a"), i(1)].into(), Box::new(a("tail"))),
        ),
        (
            a("bits"),
            Term::BitBinary {
                bytes: vec![0xAB, 0xC0].into(),
                bits: 3,
            },
        ),
        (a("large_tuple"), t((0..300).map(i).collect())),
        (a("long_list"), l((0..70_000).map(|n| i(n % 200)).collect())), // > 65535: LIST_EXT, not STRING_EXT
        // atoms beyond ASCII: Latin-1 ATOM_EXT for 'clé', UTF-8 in both encodings for '主题'
        (a("clé"), a("valeur-é")),
        (a("主题"), a("😀")),
        (b(UNICODE_ID), b(UNICODE_ID)),
    ]);
    let retainer = vec![
        rec(
            "emqx_retainer_message",
            vec![
                topic_words("主题/ü/😀"),
                message(
                    11,
                    "主题/ü/😀",
                    UNICODE_ID.as_bytes().to_vec(),
                    map(many_keys),
                    odd_values,
                ),
                a("infinity"),
            ],
        ),
        retained(12, "plain/topic", b"p".to_vec()),
    ];
    let authn = vec![
        rec(
            "emqx_authn_mnesia",
            vec![
                t(vec![a("mqtt:global"), b(UNICODE_ID)]),
                hex(1, 64),
                hex(2, 32),
                a("true"),
            ],
        ),
        rec(
            "emqx_authn_mnesia",
            vec![
                t(vec![a("mqtt:global"), b("ascii")]),
                hex(3, 64),
                hex(4, 32),
                a("false"),
            ],
        ),
    ];
    let psk = vec![
        rec(
            "emqx_psk",
            vec![b(UNICODE_ID), b("sécret-😀"), a("undefined")],
        ),
        rec("emqx_psk", vec![b("a"), b(""), a("undefined")]),
    ];
    let banned = vec![rec(
        "emqx_banned",
        vec![
            t(vec![a("clientid"), b(UNICODE_ID)]),
            b("mgmt_api"),
            b("raison: ü"),
            i(1_700_000_000),
            a("infinity"),
        ],
    )];
    let app = vec![rec(
        "emqx_app",
        vec![
            b(UNICODE_ID),
            b("k"),
            Term::binary(bytes(9, 36)),
            a("true"),
            map((0..40)
                .map(|n| (a(&format!("k{n}")), b(UNICODE_ID)))
                .collect()),
            a("infinity"),
            i(1_700_000_000),
        ],
    )];
    vec![
        write_table(dir, "emqx_retainer_message", &retainer, atoms),
        write_table(dir, "emqx_authn_mnesia", &authn, atoms),
        write_table(dir, "emqx_psk", &psk, atoms),
        write_table(dir, "emqx_banned", &banned, atoms),
        write_table(dir, "emqx_app", &app, atoms),
    ]
}

fn edge_values(atoms: AtomEncoding) {
    let dir = tempfile::tempdir().unwrap();
    let what = format!("edge values, {}", encoding_name(atoms));
    let written = edge_value_files(dir.path(), atoms);
    par_map(&written, |w| check_read(w, &what));
    check_restore(&written.iter().collect::<Vec<_>>(), &what);
}

#[test]
fn unicode_maps_bigints_and_odd_values_latin1() {
    if !require_otp() {
        return;
    }
    edge_values(AtomEncoding::Latin1);
}

#[test]
fn unicode_maps_bigints_and_odd_values_utf8() {
    if !require_otp() {
        return;
    }
    edge_values(AtomEncoding::Utf8);
}

fn thousand(atoms: AtomEncoding) {
    let dir = tempfile::tempdir().unwrap();
    let what = format!("1000 records, {}", encoding_name(atoms));
    let records: Vec<Term> = (0..1000u64)
        .map(|n| {
            rec(
                "emqx_authn_mnesia",
                vec![
                    t(vec![a("mqtt:global"), b(&format!("user-{n}"))]),
                    hex(n, 64),
                    hex(n + 5000, 32),
                    Term::boolean(n % 7 == 0),
                ],
            )
        })
        .collect();
    let w = write_table(dir.path(), "emqx_authn_mnesia", &records, atoms);
    check_read(&w, &what);
    check_restore(&[&w], &what);
}

#[test]
fn thousand_records_latin1() {
    if !require_otp() {
        return;
    }
    thousand(AtomEncoding::Latin1);
}

#[test]
fn thousand_records_utf8() {
    if !require_otp() {
        return;
    }
    thousand(AtomEncoding::Utf8);
}

// ---------------------------------------------------------------------------------------------
// keep_tables merge semantics
// ---------------------------------------------------------------------------------------------

#[test]
fn restore_merges_like_emqx_keep_tables() {
    if !require_otp() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let user = |name: &str| t(vec![a("mqtt:global"), b(name)]);
    let seed_rows = vec![
        t(vec![
            a("user_info"),
            user("same"),
            b("old-hash"),
            b("old-salt"),
            a("true"),
        ]),
        t(vec![
            a("user_info"),
            user("local-only"),
            b("local-hash"),
            b("local-salt"),
            a("false"),
        ]),
    ];
    let ours = vec![
        rec(
            "emqx_authn_mnesia",
            vec![user("same"), hex(1, 64), hex(2, 32), a("false")],
        ),
        rec(
            "emqx_authn_mnesia",
            vec![user("imported-only"), hex(3, 64), hex(4, 32), a("false")],
        ),
    ];
    let w = write_table(dir.path(), "emqx_authn_mnesia", &ours, AtomEncoding::Latin1);
    let res = oracle_restore(
        std::slice::from_ref(&w.path),
        Some(&[("emqx_authn_mnesia".to_owned(), seed_rows.clone())]),
    );
    let entries = restore_entries(&res);
    assert_eq!(entries.len(), 1);
    let (tab, status, rows) = &entries[0];
    assert_eq!(tab, "emqx_authn_mnesia");
    assert!(status.as_atom() == Some("ok"), "restore failed: {status}");
    let mut want = expected_rows("emqx_authn_mnesia", &ours);
    want.push(seed_rows[1].clone()); // the local-only row survives
    want.sort();
    assert_rows("keep_tables merge", rows, &want);
    // spelled out: the same-key row took the imported values
    let same = rows
        .iter()
        .find(|r| r.as_tuple().unwrap()[1] == user("same"))
        .expect("same-key row");
    assert_eq!(
        same.as_tuple().unwrap()[2],
        hex(1, 64),
        "same-key row must take the backup's password_hash"
    );
}

// ---------------------------------------------------------------------------------------------
// The oracle really checks the schema
// ---------------------------------------------------------------------------------------------

#[test]
fn schema_attributes_must_match_emqx() {
    if !require_otp() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let authn = Schema::new(
        "emqx_authn_mnesia",
        TableType::OrderedSet,
        "user_info",
        &["user_id", "password_hash", "salt", "is_superuser", "extra"],
        NODE,
    );
    let authn_rec = rec(
        "emqx_authn_mnesia",
        vec![
            t(vec![a("mqtt:global"), b("u")]),
            hex(1, 64),
            hex(2, 32),
            a("false"),
            map(vec![]),
        ],
    );
    let w1 = write_with_schema(
        dir.path(),
        "emqx_authn_mnesia",
        &authn,
        &[authn_rec],
        AtomEncoding::Latin1,
    );
    let mut app_attrs = table("emqx_app").attributes.to_vec();
    app_attrs.push("surprise");
    let app = Schema::new("emqx_app", TableType::Set, "emqx_app", &app_attrs, NODE);
    let w2 = write_with_schema(dir.path(), "emqx_app", &app, &[], AtomEncoding::Utf8);
    // Our writer and OTP's disk_log agree on the file itself ...
    check_read(&w1, "schema mismatch");
    // ... but EMQX's import check refuses it.
    let entries = restore_entries(&oracle_restore(&[w1.path.clone(), w2.path.clone()], None));
    assert_eq!(entries[0].0, "emqx_authn_mnesia");
    assert_eq!(
        entries[0].1,
        t(vec![a("error"), a("different_table_schema")]),
        "authn status"
    );
    assert!(entries[0].2.is_empty(), "nothing restored");
    assert_eq!(entries[1].0, "emqx_app");
    let want = t(vec![
        a("error"),
        t(vec![
            a("unknow_fields"),
            l(app_attrs.iter().map(|x| a(x)).collect()),
        ]),
    ]);
    assert_eq!(entries[1].1, want, "app status");
}

// ---------------------------------------------------------------------------------------------
// The read check is strict: damaged framing is reported by OTP and by our reader alike
// ---------------------------------------------------------------------------------------------

/// Our reader's verdict on a whole file: the error, if any.
fn our_reader_error(path: &Path) -> Option<String> {
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut r = match BackupReader::open("damaged", f, ReadOptions::default()) {
        Ok(r) => r,
        Err(e) => return Some(e.to_string()),
    };
    loop {
        match r.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => return Some(e.to_string()),
        }
    }
}

#[test]
fn damaged_files_are_refused_by_otp_and_by_our_reader() {
    if !require_otp() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = write_table(
        dir.path(),
        "emqx_psk",
        &sample_records("emqx_psk"),
        AtomEncoding::Latin1,
    );
    let good = std::fs::read(&w.path).unwrap();
    // the item magic of the last record: its 4-byte size is followed by "bWLA"
    let last = encode_to_vec(w.items.last().unwrap(), AtomEncoding::Latin1)
        .unwrap()
        .len();
    let magic_at = good.len() - last - 4;
    assert_eq!(&good[magic_at..magic_at + 4], b"bWLA");
    let mut bad_magic = good.clone();
    bad_magic[magic_at] ^= 0xff;
    let truncated = good[..good.len() - 3].to_vec();
    for (label, bytes) in [("bad magic", bad_magic), ("truncated", truncated)] {
        let sub = dir.path().join(label.replace(' ', "_"));
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("emqx_psk");
        std::fs::write(&path, bytes).unwrap();
        let otp = oracle_read(&path);
        let otp_ok = matches!(otp.as_tuple(), Some([tag, _]) if tag.as_atom() == Some("ok"));
        assert!(
            !otp_ok,
            "{label}: OTP read the damaged file without complaint: {}",
            short(&otp)
        );
        assert!(
            our_reader_error(&path).is_some(),
            "{label}: our reader accepted a file OTP refuses ({})",
            short(&otp)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Real EMQX archives
// ---------------------------------------------------------------------------------------------

/// Extracts the regular files of a `.tar.gz` into `dir`; returns `(table, path)` for `*/mnesia/*`.
fn extract_mnesia_files(archive: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap());
    let mut ar = tar::Archive::new(gz);
    let mut out = Vec::new();
    for (n, entry) in ar.entries().unwrap().enumerate() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() == 3 && parts[1] == "mnesia" {
            let sub = dir.join(n.to_string());
            std::fs::create_dir_all(&sub).unwrap();
            let path = sub.join(parts[2]);
            let mut f = std::fs::File::create(&path).unwrap();
            std::io::copy(&mut entry, &mut f).unwrap();
            out.push((parts[2].to_owned(), path));
        }
    }
    out.sort();
    out
}

/// `[header, schema, records...]` as our reader sees the file, and the reader's header/schema.
fn read_ours(path: &Path) -> (LogHeader, Schema, Vec<Term>) {
    let label = path.display().to_string();
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut r = BackupReader::open(&label, f, ReadOptions::default())
        .unwrap_or_else(|e| panic!("our reader: {e}"));
    let (header, schema) = (r.header().clone(), r.schema().clone());
    let mut items = vec![header.to_term(), schema.to_term()];
    // Re-encoding with the file's own atom encoding gives term_to_binary/1's bytes back.
    let atoms = r.atom_encoding();
    let (header_raw, schema_raw) = r.preamble_raw();
    let same = |t: &Term, raw: &[u8]| encode_to_vec(t, atoms).unwrap() == raw;
    assert!(
        same(&items[0], header_raw),
        "{label}: header re-encodes differently"
    );
    assert!(
        same(&items[1], schema_raw),
        "{label}: schema re-encodes differently"
    );
    while let Some((raw, term)) = r
        .next_record()
        .unwrap_or_else(|e| panic!("our reader: {e}"))
    {
        assert!(
            same(&term, raw.bytes),
            "{label}: record at byte {} re-encodes differently: {term}",
            raw.offset
        );
        items.push(term);
    }
    (header, schema, items)
}

/// Copies a backup through our writer (UTF-8 atoms): same header, schema and records.
fn copy_ours(header: &LogHeader, schema: &Schema, records: &[Term], to: &Path) {
    let f = std::fs::File::create(to).unwrap();
    let mut w = BackupWriter::new(
        &to.display().to_string(),
        BufWriter::new(f),
        header,
        schema,
        AtomEncoding::Utf8,
    )
    .unwrap_or_else(|e| panic!("writer: {e}"));
    for r in records {
        w.write_record(r).unwrap_or_else(|e| panic!("writer: {e}"));
    }
    w.finish().unwrap();
}

#[test]
fn real_archives_read_and_copied_like_otp() {
    if !require_otp() {
        return;
    }
    let archives = fixture_archives();
    assert!(
        archives.len() >= 5,
        "fixture archives missing: {archives:?}"
    );
    let work = tempfile::tempdir().unwrap();

    // (archive, table, original, copy) for every distinct mnesia file; identical files (the ce,
    // ee and bad-upload archives share theirs) are checked once, since the oracle is a function
    // of the file's bytes.
    struct Job {
        archive: String,
        table: String,
        original: PathBuf,
        copy: Option<PathBuf>,
        ours: Vec<Term>,
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut jobs = Vec::new();
    // per distinct archive: (name, [(copy, record_name, records)])
    type Copy = (PathBuf, String, Vec<Term>);
    let mut restore_sets: Vec<(String, Vec<Copy>)> = Vec::new();
    let mut seen_sets: HashSet<Vec<(String, Vec<u8>)>> = HashSet::new();
    for (k, archive) in archives.iter().enumerate() {
        let name = archive.file_name().unwrap().to_string_lossy().into_owned();
        let dir = work.path().join(k.to_string());
        let files = extract_mnesia_files(archive, &dir);
        assert!(!files.is_empty(), "{name}: no mnesia files");
        let mut set_key = Vec::new();
        let mut copies = Vec::new();
        for (table, path) in files {
            let bytes = std::fs::read(&path).unwrap();
            set_key.push((table.clone(), bytes.clone()));
            let (header, schema, ours) = read_ours(&path);
            let known = table_def(&table).is_some();
            let copy = known.then(|| {
                let copy_dir = dir.join("copy");
                std::fs::create_dir_all(&copy_dir).unwrap();
                let copy = copy_dir.join(&table);
                copy_ours(&header, &schema, &ours[2..], &copy);
                copy
            });
            if let Some(c) = &copy {
                copies.push((c.clone(), schema.record_name(), ours[2..].to_vec()));
            }
            if seen.insert(bytes) {
                jobs.push(Job {
                    archive: name.clone(),
                    table,
                    original: path,
                    copy,
                    ours,
                });
            }
        }
        if seen_sets.insert(set_key) {
            restore_sets.push((name, copies));
        }
    }

    par_map(&jobs, |j| {
        let what = format!("{} mnesia/{}", j.archive, j.table);
        let otp = ok_items(&what, &oracle_read(&j.original));
        assert_items_eq(&format!("{what}: our BackupReader vs OTP"), &j.ours, &otp);
        if let Some(copy) = &j.copy {
            let otp_copy = ok_items(&format!("{what} (our copy)"), &oracle_read(copy));
            assert_items_eq(
                &format!("{what}: our copy vs the original, both read by OTP"),
                &otp_copy,
                &otp,
            );
        }
    });

    // Restoring our copies must load exactly the records our reader found in the originals
    // (which OTP read identically above), with EMQX's schema check passing (the 5.1 archive
    // has the legacy emqx_app attributes).
    par_map(&restore_sets, |(name, copies)| {
        let paths: Vec<PathBuf> = copies.iter().map(|(p, _, _)| p.clone()).collect();
        let entries = restore_entries(&oracle_restore(&paths, None));
        assert_eq!(
            entries.len(),
            copies.len(),
            "{name}: one restore entry per file"
        );
        for ((_, record_name, records), (tab, status, rows)) in copies.iter().zip(&entries) {
            assert!(
                status.as_atom() == Some("ok"),
                "{name}: OTP refuses our copy of {tab}: {}",
                short(status)
            );
            let mut want: Vec<Term> = records.iter().map(|r| retag(r, record_name)).collect();
            want.sort();
            assert_rows(&format!("{name} {tab} (our copy)"), rows, &want);
        }
    });
}
