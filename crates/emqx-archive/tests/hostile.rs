//! Regressions from the hostile corpus (`emqx_backup_tests::hostile`): a gzip bomb stops at
//! the compression ratio limit, and `Contents::check_tables` decodes what `Contents::read`
//! only carries.

use emqx_archive::{inspect, ArchiveWriter, Contents, Limits, RATIO_FLOOR};
use emqx_backup_tests::hostile::{banned_file, banned_record, gzip_bomb, meta_text, VERSION};

#[test]
fn a_gzip_bomb_stops_at_the_ratio_limit() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = gzip_bomb(dir.path(), "emqx-export-bomb", 1 << 30);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    let limits = Limits::default();
    let errors = [
        inspect(&bomb, &limits).map(|_| ()).unwrap_err(),
        Contents::read(&bomb, &limits).map(|_| ()).unwrap_err(),
    ];
    for e in errors {
        let text = e.to_string();
        assert!(e.is_invalid_archive(), "{text}");
        assert!(text.contains("emqx-export-bomb/data/zeros"), "{text}");
        assert!(text.contains("gzip bomb"), "{text}");
    }
    // Below the floor the ratio is not checked; with the check off only the sizes apply.
    let small = gzip_bomb(dir.path(), "emqx-export-small", RATIO_FLOOR / 2);
    inspect(&small, &limits).unwrap();
    let off = Limits {
        max_ratio: 0,
        max_entry_bytes: 256 << 20,
        ..Limits::default()
    };
    let text = inspect(&bomb, &off).unwrap_err().to_string();
    assert!(text.contains("over the limit of 268435456"), "{text}");
}

#[test]
fn check_tables_decodes_what_read_only_carries() {
    let dir = tempfile::tempdir().unwrap();
    let mut junk = banned_file(&[])[..8].to_vec();
    junk.extend_from_slice(b"bad file\n\n\n");
    let mut w = ArchiveWriter::create(dir.path(), "emqx-export-junk.tar.gz").unwrap();
    w.add_bytes(
        "META.hocon",
        meta_text(emqx_archive::Edition::Ce, VERSION).as_bytes(),
        None,
    )
    .unwrap();
    w.add_bytes("mnesia/emqx_banned", &junk, None).unwrap();
    let p = w.finish().unwrap();
    let contents = Contents::read(&p, &Limits::default()).unwrap();
    let text = contents
        .check_tables(&Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(
            "emqx-export-junk.tar.gz: emqx-export-junk/mnesia/emqx_banned: byte 8: no item magic"
        ),
        "{text}"
    );
    let mut w = ArchiveWriter::create(dir.path(), "emqx-export-sound.tar.gz").unwrap();
    w.add_bytes(
        "META.hocon",
        meta_text(emqx_archive::Edition::Ce, VERSION).as_bytes(),
        None,
    )
    .unwrap();
    w.add_bytes(
        "mnesia/emqx_banned",
        &banned_file(&[banned_record("c1", b"r")]),
        Some(1),
    )
    .unwrap();
    let p = w.finish().unwrap();
    Contents::read(&p, &Limits::default())
        .unwrap()
        .check_tables(&Limits::default())
        .unwrap();
}
