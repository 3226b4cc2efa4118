//! The archive reader: any file gives an inspection or an error, never a panic, in memory
//! bounded by the limits. The first byte chooses the form: odd, the rest is the file as is;
//! even, the rest is a tar that is gzipped first (so the fuzzer works on the tar structure).

#![no_main]

use emqx_archive::{inspect, Contents, Limits};
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The archive file every input is written to: `f.tar.gz`, so the top folder is `f/`.
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let base = std::env::var_os("FUZZ_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("emqx-archive-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        dir.join("f.tar.gz")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 1 {
        rest.to_vec()
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("gzip into memory");
        gz.finish().expect("gzip into memory")
    };
    let path = path();
    std::fs::write(path, &bytes).expect("writing the scratch archive");
    let limits = Limits {
        max_entries: 1000,
        max_entry_bytes: 16 << 20,
        max_total_bytes: 64 << 20,
        max_item_bytes: 1 << 20,
        ..Limits::default()
    };
    match inspect(path, &limits) {
        Ok(i) => assert_eq!(i.top, "f"),
        Err(e) => assert!(e.to_string().starts_with(&path.display().to_string())),
    }
    if let Ok(contents) = Contents::read(path, &limits) {
        assert!(contents
            .entries
            .iter()
            .all(|(rel, _)| !rel.starts_with('/')));
    }
});
