//! Decode and encode of a 1,000,000-record `emqx_authn_mnesia` backup file.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{BackupReader, BackupWriter, LogHeader, ReadOptions, Schema, TableType};

const RECORDS: usize = 1_000_000;

/// The allocator `emqx-backup` itself runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn user(i: usize) -> Term {
    Term::tuple(vec![
        Term::atom("emqx_authn_mnesia"),
        Term::tuple(vec![
            Term::atom("mqtt:global"),
            Term::binary(format!("user-{i:07}")),
        ]),
        Term::binary(format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15)),
        Term::binary(format!("{:032x}", i as u128 * 0x2545_f491)),
        Term::boolean(i % 100 == 0),
    ])
}

fn schema() -> Schema {
    Schema::new(
        "emqx_authn_mnesia",
        TableType::OrderedSet,
        "user_info",
        &["user_id", "password_hash", "salt", "is_superuser"],
        "emqx@127.0.0.1",
    )
}

fn write(records: &[Term]) -> Vec<u8> {
    let mut w = BackupWriter::new(
        "bench",
        Vec::with_capacity(160 * RECORDS),
        &LogHeader::new("emqx@127.0.0.1"),
        &schema(),
        AtomEncoding::Latin1,
    )
    .unwrap();
    for r in records {
        w.write_record(r).unwrap();
    }
    w.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let records: Vec<Term> = (0..RECORDS).map(user).collect();
    let file = write(&records);
    let mut g = c.benchmark_group("emqx_authn_mnesia_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut r = BackupReader::open("bench", &file[..], ReadOptions::default()).unwrap();
            let mut n = 0;
            while let Some((_, t)) = r.next_record().unwrap() {
                n += t.as_tuple().map_or(0, |e| e.len());
            }
            assert_eq!(n, RECORDS * 5);
        })
    });
    g.bench_function("frames_only", |b| {
        b.iter(|| {
            let mut r = BackupReader::open("bench", &file[..], ReadOptions::default()).unwrap();
            let mut n = 0;
            while let Some(raw) = r.next_raw().unwrap() {
                n += raw.bytes.len();
            }
            assert!(n > RECORDS * 100);
        })
    });
    g.bench_function("encode", |b| {
        b.iter(|| assert!(write(&records).len() > RECORDS * 100))
    });
    g.bench_function("copy_raw", |b| {
        b.iter(|| {
            let mut r = BackupReader::open("bench", &file[..], ReadOptions::default()).unwrap();
            let mut w = BackupWriter::new(
                "bench",
                Vec::with_capacity(file.len()),
                r.header(),
                r.schema(),
                AtomEncoding::Latin1,
            )
            .unwrap();
            while let Some(raw) = r.next_raw().unwrap() {
                w.write_raw(raw.bytes).unwrap();
            }
            assert_eq!(w.finish().unwrap().len(), file.len());
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
