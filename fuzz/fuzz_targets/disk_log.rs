//! The disk_log reader and the mnesia backup reader on top of it: any bytes give items and
//! records or an error naming a byte offset inside the file, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mnesia_backup::{BackupReader, ReadOptions};

/// A small item limit, so that size fields claiming more cost nothing.
const MAX_ITEM: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    if let Ok(reader) = disk_log::Reader::new(data) {
        let mut reader = reader.with_max_item(MAX_ITEM);
        let mut buf = Vec::new();
        loop {
            match reader.next_item(&mut buf) {
                Ok(Some(offset)) => assert!(offset < len),
                Ok(None) => break,
                Err(e) => {
                    assert!(e.offset <= len, "error offset {} beyond the file", e.offset);
                    break;
                }
            }
        }
    }
    let options = ReadOptions {
        max_item: MAX_ITEM,
        ..ReadOptions::default()
    };
    let Ok(mut reader) = BackupReader::open("fuzz/mnesia/emqx_banned", data, options) else {
        return;
    };
    let _ = reader.schema().attributes();
    let _ = reader.schema().record_name();
    loop {
        match reader.next_record() {
            Ok(Some((raw, term))) => {
                assert!(raw.offset < len);
                let _ = term.to_string();
            }
            Ok(None) => break,
            Err(e) => {
                assert!(e.offset <= len, "error offset {} beyond the file", e.offset);
                assert!(e.to_string().contains("fuzz/mnesia/emqx_banned"));
                break;
            }
        }
    }
});
