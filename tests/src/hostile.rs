//! A corpus of hostile archives: every way an export archive can be unsafe, corrupt, truncated,
//! oversized or subtly wrong, each with what the tool and the node must answer.
//!
//! Valid pieces come from the project's own writers (`BackupWriter`, `disk_log::Writer`,
//! `Meta`, `ArchiveWriter`); what those refuse to write (unsafe names, links, devices,
//! broken framing) is assembled from raw tar, deflate and disk_log bytes here. Large cases
//! (a gzip bomb, millions of entries) are streamed or built from a repeated deflate block, so
//! generating the whole corpus takes seconds and a few MB of disk.

use emqx_archive::{table_def, ArchiveWriter, Edition, Meta};
use erlang_term::{encode_to_vec, AtomEncoding, Term};
use flate2::{Compression, Crc};
use mnesia_backup::{BackupWriter, LogHeader, Schema};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit code of an archive EMQX would refuse, or one that is corrupt or unsafe (README).
pub const INVALID: i32 = 3;
/// Exit code of a refusal by the node, or one made early with the node's message (README).
pub const REFUSED: i32 = 4;
/// Exit code of success.
pub const OK: i32 = 0;

/// The node name written into generated table files.
pub const NODE: &str = "emqx@127.0.0.1";
/// The version written into META.hocon of generated archives (a node at 5.8.6 accepts it).
pub const VERSION: &str = "5.3.1";
/// Entries in the archive of millions of tiny entries.
pub const MANY_ENTRIES: u64 = 2_000_000;
/// Uncompressed size of the gzip bomb's one entry.
pub const BOMB_BYTES: u64 = 4 << 30;
/// Elements of the list in the record built to multiply memory (one byte each in the file).
pub const SWARM_ELEMENTS: usize = 16 << 20;
/// A prefix of every file name that would show a write outside the extraction folder.
pub const ESCAPE_MARK: &str = "hostile-escape-";

/// What the node's data endpoints answer for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeAnswer {
    /// `POST /data/files` answers 400 with a message holding this text.
    UploadRefused(String),
    /// The upload passes EMQX's upload checks (name, top folder, META, cluster.hocon);
    /// `POST /data/import` then answers 400 with a message holding this text.
    ImportRefused(String),
}

/// One hostile archive and what every path must answer.
#[derive(Clone, Debug)]
pub struct Case {
    /// Short identifier (`path-dotdot`).
    pub id: String,
    /// What is wrong, in a few words.
    pub what: &'static str,
    /// The archive file.
    pub path: PathBuf,
    /// Exit code of `emqx-backup verify` and `inspect`.
    pub offline: i32,
    /// Exit code of `emqx-backup plan` and `import --yes` against a ce 5.8.6 node.
    pub live: i32,
    /// Text each failing command's message must hold: the entry, or the archive's file name
    /// where the fault lies before any entry.
    pub needle: String,
    /// What the node's upload and import endpoints answer.
    pub node: NodeAnswer,
}

/// A tar entry built from raw parts: any name, type, size claim and link target.
struct Raw {
    name: Vec<u8>,
    kind: tar::EntryType,
    data: Vec<u8>,
    claimed: Option<u64>,
    link: Option<&'static [u8]>,
}

impl Raw {
    fn file(name: impl AsRef<[u8]>, data: impl Into<Vec<u8>>) -> Raw {
        Raw {
            name: name.as_ref().to_vec(),
            kind: tar::EntryType::Regular,
            data: data.into(),
            claimed: None,
            link: None,
        }
    }

    fn special(name: impl AsRef<[u8]>, kind: tar::EntryType, link: Option<&'static [u8]>) -> Raw {
        Raw {
            name: name.as_ref().to_vec(),
            kind,
            data: Vec::new(),
            claimed: None,
            link,
        }
    }
}

/// A ustar header block with a raw name (at most 100 bytes).
fn header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&[u8]>) -> [u8; 512] {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    let ustar = h.as_ustar_mut().expect("a ustar header");
    let n = name.len().min(ustar.name.len());
    ustar.name[..n].copy_from_slice(&name[..n]);
    if let Some(link) = link {
        let n = link.len().min(ustar.linkname.len());
        ustar.linkname[..n].copy_from_slice(&link[..n]);
    }
    h.set_cksum();
    let mut block = [0u8; 512];
    block.copy_from_slice(h.as_bytes());
    block
}

/// The tar stream of raw entries, with the two zero blocks of its end.
fn tar_of(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let size = e.claimed.unwrap_or(e.data.len() as u64);
        out.extend_from_slice(&header(&e.name, e.kind, size, e.link));
        out.extend_from_slice(&e.data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// META.hocon as EMQX writes it.
pub fn meta_text(edition: Edition, version: &str) -> String {
    Meta {
        edition,
        version: version.to_owned(),
    }
    .to_hocon()
}

/// A sound `emqx_banned` record banning client `who`.
pub fn banned_record(who: &str, reason: &[u8]) -> Term {
    Term::tuple(vec![
        Term::atom("emqx_banned"),
        Term::tuple(vec![Term::atom("clientid"), Term::binary(who)]),
        Term::binary("hostile-corpus"),
        Term::binary(reason),
        Term::Int(1_700_000_000),
        Term::Int(4_102_444_800),
    ])
}

/// A sound `emqx_banned` table file holding `records`, written by `BackupWriter`.
pub fn banned_file(records: &[Term]) -> Vec<u8> {
    let def = table_def("emqx_banned").expect("emqx_banned is an EMQX table");
    table_file("emqx_banned", &def.schema(NODE), records)
}

/// A table file with any schema, written by `BackupWriter`.
fn table_file(name: &str, schema: &Schema, records: &[Term]) -> Vec<u8> {
    let mut w = BackupWriter::new(
        name,
        Vec::new(),
        &LogHeader::new(NODE),
        schema,
        AtomEncoding::Utf8,
    )
    .expect("writing into memory");
    for r in records {
        w.write_record(r).expect("a record tagged with the table");
    }
    w.finish().expect("writing into memory")
}

/// The header and schema items of a sound `emqx_banned` file, then `items` framed as they are.
fn banned_with_items(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = banned_file(&[]);
    let mut log = disk_log::Writer::new(Vec::new()).expect("writing into memory");
    for item in items {
        log.write_item(item).expect("writing into memory");
    }
    out.extend_from_slice(&log.finish().expect("writing into memory")[8..]);
    out
}

fn etf(term: &Term) -> Vec<u8> {
    encode_to_vec(term, AtomEncoding::Utf8).expect("an encodable term")
}

/// One raw disk_log item: size, magic, (MD5), payload.
fn item(size: u32, magic: &[u8; 4], md5: Option<[u8; 16]>, payload: &[u8]) -> Vec<u8> {
    let mut out = size.to_be_bytes().to_vec();
    out.extend_from_slice(magic);
    if let Some(sum) = md5 {
        out.extend_from_slice(&sum);
    }
    out.extend_from_slice(payload);
    out
}

/// A sound archive `<dir>/<base>.tar.gz` written by `ArchiveWriter` (with MANIFEST.json).
pub fn sound_archive(dir: &Path, base: &str) -> PathBuf {
    let mut w = ArchiveWriter::create(dir, &format!("{base}.tar.gz")).expect("a writable folder");
    w.add_bytes(
        "META.hocon",
        meta_text(Edition::Ce, VERSION).as_bytes(),
        None,
    )
    .expect("writing");
    w.add_bytes(
        "mnesia/emqx_banned",
        &banned_file(&[banned_record("hostile-sound", b"sound")]),
        Some(1),
    )
    .expect("writing");
    w.finish().expect("writing")
}

/// The tar of a small sound archive under `base` (META, cluster.hocon, a table).
fn sound_tar(base: &str) -> Vec<u8> {
    tar_of(&[
        Raw::file(
            format!("{base}/META.hocon"),
            meta_text(Edition::Ce, VERSION),
        ),
        Raw::file(
            format!("{base}/cluster.hocon"),
            "authorization {\n  no_match = allow\n}\n",
        ),
        Raw::file(
            format!("{base}/mnesia/emqx_banned"),
            banned_file(&[
                banned_record("hostile-a", b"a"),
                banned_record("hostile-b", &[b'x'; 3000]),
            ]),
        ),
    ])
}

/// A raw deflate segment: non-final ones end on a byte boundary (a sync flush), so segments
/// concatenate into one stream.
fn deflate_segment(data: &[u8], last: bool, level: Compression) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), level);
    enc.write_all(data).expect("deflate into memory");
    if last {
        return enc.finish().expect("deflate into memory");
    }
    enc.flush().expect("deflate into memory");
    std::mem::take(enc.get_mut())
}

/// Writes a gzip file of `prefix`, then `repeat` times `block`, then `suffix`, without ever
/// compressing more than one block: the repeated block is deflated once and its bytes copied.
fn gzip_repeating(path: &Path, prefix: &[u8], block: &[u8], repeat: u64, suffix: &[u8]) {
    let level = if block.iter().all(|&b| b == block[0]) {
        Compression::best()
    } else {
        Compression::none()
    };
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    );
    let mut crc = Crc::new();
    f.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
        .expect("writing");
    f.write_all(&deflate_segment(prefix, false, Compression::best()))
        .expect("writing");
    crc.update(prefix);
    let packed = deflate_segment(block, false, level);
    let mut block_crc = Crc::new();
    block_crc.update(block);
    for _ in 0..repeat {
        f.write_all(&packed).expect("writing");
        crc.combine(&block_crc);
    }
    f.write_all(&deflate_segment(suffix, true, Compression::best()))
        .expect("writing");
    crc.update(suffix);
    f.write_all(&crc.sum().to_le_bytes()).expect("writing");
    f.write_all(&crc.amount().to_le_bytes()).expect("writing");
    f.flush().expect("writing");
}

/// Deflate output, bit by bit (least significant bit first), with the fixed Huffman codes.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: its bits go out most significant first.
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }

    fn symbol(&mut self, s: u32) {
        match s {
            0..=143 => self.code(0x30 + s, 8),
            144..=255 => self.code(0x190 + s - 144, 9),
            256..=279 => self.code(s - 256, 7),
            _ => self.code(0xc0 + s - 280, 8),
        }
    }

    fn literal(&mut self, byte: u8) {
        self.symbol(u32::from(byte));
    }

    /// Copies of `len` bytes from 512 bytes back, in pieces of at most 258; a tail under 3
    /// bytes goes out as the literals `tail`.
    fn copy_512(&mut self, mut len: usize, tail: &[u8]) {
        const BASE: [u32; 29] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
            115, 131, 163, 195, 227, 258,
        ];
        const EXTRA: [u32; 29] = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ];
        while len >= 3 {
            let piece = len.min(258) as u32;
            let i = BASE.iter().rposition(|&b| b <= piece).unwrap_or(0);
            self.symbol(257 + i as u32);
            self.put(piece - BASE[i], EXTRA[i]);
            // Distance code 17: 385..=512, 7 extra bits.
            self.code(17, 5);
            self.put(512 - 385, 7);
            len -= piece as usize;
        }
        for &b in &tail[tail.len() - len..] {
            self.literal(b);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
        self.out
    }
}

/// CRC-32 (gzip's) without its initial and final inversion, one byte at a time.
struct Crc32 {
    table: [u32; 256],
}

impl Crc32 {
    fn new() -> Crc32 {
        let mut table = [0u32; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        Crc32 { table }
    }

    fn update(&self, mut state: u32, data: &[u8]) -> u32 {
        for &b in data {
            state = self.table[((state ^ u32::from(b)) & 0xff) as usize] ^ (state >> 8);
        }
        state
    }
}

/// Writes a gzip file of a tar holding META and `count` empty files under `base/e/`, as one
/// deflate block in which each header is a copy of the one before but for its name and
/// checksum. The CRC is kept by linearity (a header's CRC is the base header's plus one
/// table entry per changed byte), so a GiB of tar costs seconds even in a debug build.
fn many_entries(path: &Path, base: &str, count: u64) {
    let meta = tar_of(&[Raw::file(
        format!("{base}/META.hocon"),
        meta_text(Edition::Ce, VERSION),
    )]);
    let meta = &meta[..1024];
    let at = base.len() + 3;
    // The bytes that change from one header to the next: the name's digits, the checksum.
    let varying: Vec<usize> = (at..at + 7).chain(148..156).collect();
    let mut h = header(
        format!("{base}/e/0000000").as_bytes(),
        tar::EntryType::Regular,
        0,
        None,
    );
    let mut blank = h;
    for &i in &varying {
        blank[i] = if i < 148 { b'0' } else { b' ' };
    }
    let base_sum: u32 = blank.iter().map(|&b| u32::from(b)).sum();
    let crc = Crc32::new();
    let zeros = [0u8; 512];
    // The register after 512 bytes, as four tables by byte of the register before.
    let shift: Vec<[u32; 256]> = (0..4)
        .map(|k| {
            let mut t = [0u32; 256];
            for (v, slot) in t.iter_mut().enumerate() {
                *slot = crc.update((v as u32) << (8 * k), &zeros);
            }
            t
        })
        .collect();
    let blank_crc = crc.update(0, &blank);
    // What each varying byte adds over the blank header's.
    let delta: Vec<[u32; 256]> = varying
        .iter()
        .map(|&i| {
            let mut t = [0u32; 256];
            for (v, slot) in t.iter_mut().enumerate() {
                let mut one = [0u8; 512];
                one[i] = v as u8 ^ blank[i];
                *slot = crc.update(0, &one);
            }
            t
        })
        .collect();
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1);
    bits.put(1, 2);
    let mut state = crc.update(!0, meta);
    for &b in meta {
        bits.literal(b);
    }
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut digits = [b'0'; 7];
    let mut prev: Option<[u8; 512]> = None;
    for _ in 0..count {
        h[at..at + 7].copy_from_slice(&digits);
        let sum = base_sum + digits.iter().map(|&d| u32::from(d - b'0')).sum::<u32>();
        let mut cksum = [b'0', b'0', b'0', b'0', b'0', b'0', 0, b' '];
        let mut v = sum;
        for slot in cksum[..6].iter_mut().rev() {
            *slot = b'0' + (v & 7) as u8;
            v >>= 3;
        }
        h[148..156].copy_from_slice(&cksum);
        match &prev {
            None => h.iter().for_each(|&b| bits.literal(b)),
            Some(p) => {
                let mut from = 0;
                for &i in &varying {
                    if h[i] != p[i] {
                        bits.copy_512(i - from, &h[from..i]);
                        bits.literal(h[i]);
                        from = i + 1;
                    }
                }
                bits.copy_512(512 - from, &h[from..]);
            }
        }
        state = shift[0][(state & 0xff) as usize]
            ^ shift[1][((state >> 8) & 0xff) as usize]
            ^ shift[2][((state >> 16) & 0xff) as usize]
            ^ shift[3][(state >> 24) as usize]
            ^ blank_crc;
        for (j, &i) in varying.iter().enumerate() {
            state ^= delta[j][h[i] as usize];
        }
        prev = Some(h);
        for d in digits.iter_mut().rev() {
            if *d == b'9' {
                *d = b'0';
            } else {
                *d += 1;
                break;
            }
        }
        if bits.out.len() >= 1 << 20 {
            out.write_all(&bits.out).expect("writing");
            bits.out.clear();
        }
    }
    for _ in 0..1024 {
        bits.literal(0);
    }
    state = crc.update(state, &[0u8; 1024]);
    bits.symbol(256);
    out.write_all(&bits.finish()).expect("writing");
    let size = (2048 + count * 512) as u32;
    out.write_all(&(!state).to_le_bytes()).expect("writing");
    out.write_all(&size.to_le_bytes()).expect("writing");
    out.flush().expect("writing");
}

struct Corpus {
    dir: PathBuf,
    cases: Vec<Case>,
}

impl Corpus {
    fn base(id: &str) -> String {
        format!("hostile-{id}")
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{}.tar.gz", Self::base(id)))
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: &str,
        what: &'static str,
        path: PathBuf,
        offline: i32,
        live: i32,
        needle: impl Into<String>,
        node: NodeAnswer,
    ) {
        self.cases.push(Case {
            id: id.to_owned(),
            what,
            path,
            offline,
            live,
            needle: needle.into(),
            node,
        });
    }

    /// An archive of META plus `extra` entries under the case's top folder, refused everywhere
    /// with `needle`; the node refuses at upload when `at_upload`, else at import.
    fn entries(
        &mut self,
        id: &str,
        what: &'static str,
        extra: Vec<Raw>,
        needle: &str,
        at_upload: bool,
    ) {
        let base = Self::base(id);
        let mut all = vec![Raw::file(
            format!("{base}/META.hocon"),
            meta_text(Edition::Ce, VERSION),
        )];
        all.extend(extra);
        let path = self.path(id);
        write(&path, &gzip(&tar_of(&all)));
        let needle = needle.replace("{base}", &base);
        let node = if at_upload {
            NodeAnswer::UploadRefused(needle.clone())
        } else {
            NodeAnswer::ImportRefused(needle.clone())
        };
        self.push(id, what, path, INVALID, INVALID, needle, node);
    }

    /// An archive whose `mnesia/emqx_banned` entry is `table`: the node takes the upload and
    /// refuses the import.
    fn table(&mut self, id: &str, what: &'static str, table: Vec<u8>) {
        let base = Self::base(id);
        self.entries(
            id,
            what,
            vec![Raw::file(format!("{base}/mnesia/emqx_banned"), table)],
            "mnesia/emqx_banned",
            false,
        );
    }
}

/// Writes every hostile archive into `dir` (which should be empty) and returns the cases.
pub fn generate(dir: &Path) -> Vec<Case> {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut c = Corpus {
        dir: dir.to_owned(),
        cases: Vec::new(),
    };
    paths_and_types(&mut c);
    container(&mut c);
    bombs(&mut c);
    meta(&mut c);
    cluster(&mut c);
    framing(&mut c);
    terms(&mut c);
    schemas(&mut c);
    c.cases
}

fn paths_and_types(c: &mut Corpus) {
    use tar::EntryType as T;
    let bomb_dir = format!("../../{ESCAPE_MARK}dotdot");
    let b = |id: &str| Corpus::base(id);
    c.entries(
        "path-dotdot",
        "an entry climbing out with ../",
        vec![Raw::file(format!("{}/{bomb_dir}", b("path-dotdot")), "x")],
        "'..' in path",
        true,
    );
    c.entries(
        "path-absolute",
        "an absolute entry path",
        vec![Raw::file(format!("/tmp/{ESCAPE_MARK}absolute"), "x")],
        "absolute path",
        true,
    );
    c.entries(
        "path-dot-prefixed",
        "entries prefixed with ./",
        vec![Raw::file(
            format!("./{}/cluster.hocon", b("path-dot-prefixed")),
            "a = 1\n",
        )],
        "must be under <backup name> directory",
        true,
    );
    c.entries(
        "path-backslash",
        "a Windows path climbing out with ..\\",
        vec![Raw::file(
            format!("{}\\..\\..\\{ESCAPE_MARK}backslash", b("path-backslash")),
            "x",
        )],
        "backslash in path",
        true,
    );
    c.entries(
        "path-dot-component",
        "a ./ inside the top folder",
        vec![Raw::file(
            format!("{}/./mnesia/emqx_banned", b("path-dot-component")),
            "x",
        )],
        "'.' or empty component",
        true,
    );
    c.entries(
        "path-not-utf8",
        "an entry name that is not UTF-8",
        vec![Raw::file(
            [b("path-not-utf8").as_bytes(), b"/\xff\xfe"].concat(),
            "x",
        )],
        "not UTF-8",
        true,
    );
    c.entries(
        "symlink",
        "a symbolic link to /etc/passwd posing as a table",
        vec![Raw::special(
            format!("{}/mnesia/emqx_banned", b("symlink")),
            T::Symlink,
            Some(b"/etc/passwd"),
        )],
        "{base}/mnesia/emqx_banned",
        true,
    );
    c.entries(
        "hardlink",
        "a hard link to /etc/passwd posing as cluster.hocon",
        vec![Raw::special(
            format!("{}/cluster.hocon", b("hardlink")),
            T::Link,
            Some(b"/etc/passwd"),
        )],
        "{base}/cluster.hocon",
        true,
    );
    c.entries(
        "device-char",
        "a character device entry",
        vec![Raw::special(
            format!("{}/null", b("device-char")),
            T::Char,
            None,
        )],
        "{base}/null",
        true,
    );
    c.entries(
        "device-block",
        "a block device entry",
        vec![Raw::special(
            format!("{}/sda", b("device-block")),
            T::Block,
            None,
        )],
        "{base}/sda",
        true,
    );
    c.entries(
        "fifo",
        "a FIFO entry",
        vec![Raw::special(format!("{}/pipe", b("fifo")), T::Fifo, None)],
        "{base}/pipe",
        true,
    );
    let banned = banned_file(&[banned_record("hostile-dup", b"dup")]);
    c.entries(
        "duplicate",
        "the same table file twice, the second different",
        vec![
            Raw::file(
                format!("{}/mnesia/emqx_banned", b("duplicate")),
                banned.clone(),
            ),
            Raw::file(
                format!("{}/mnesia/emqx_banned", b("duplicate")),
                banned_file(&[]),
            ),
        ],
        "{base}/mnesia/emqx_banned",
        true,
    );
    c.entries(
        "outside-top",
        "an entry under another folder than the top folder",
        vec![Raw::file("elsewhere/cluster.hocon", "a = 1\n")],
        "elsewhere/cluster.hocon",
        true,
    );
    // The node answers with EMQX's own message, which names no entry.
    if let Some(last) = c.cases.last_mut() {
        last.node = NodeAnswer::UploadRefused("must be under <backup name> directory".into());
    }
    c.entries(
        "top-is-file",
        "the top folder's name as a regular file",
        vec![Raw::file(b("top-is-file"), "x")],
        "must be under <backup name> directory",
        true,
    );
}

fn container(c: &mut Corpus) {
    // A sound archive renamed: its entries sit under the old name.
    let scratch = c.dir.join(".sound");
    let sound = sound_archive(&scratch, "emqx-export-2024-01-01-00-00-00.000");
    let renamed = c.path("renamed");
    std::fs::rename(&sound, &renamed).expect("renaming in one folder");
    let _ = std::fs::remove_dir(&scratch);
    c.push(
        "renamed",
        "a sound archive renamed, its top folder not",
        renamed,
        INVALID,
        INVALID,
        "emqx-export-2024-01-01-00-00-00.000/",
        NodeAnswer::UploadRefused("must be under <backup name> directory".into()),
    );
    let tgz = c.dir.join("hostile-name.tgz");
    write(&tgz, &gzip(&sound_tar("hostile-name")));
    c.push(
        "name-tgz",
        "an archive named .tgz",
        tgz,
        INVALID,
        INVALID,
        "hostile-name.tgz",
        NodeAnswer::UploadRefused("file name must have .tar.gz extension".into()),
    );
    let plain = c.path("not-gzip");
    write(&plain, &sound_tar(&Corpus::base("not-gzip")));
    c.push(
        "not-gzip",
        "a plain tar named .tar.gz",
        plain,
        INVALID,
        INVALID,
        "hostile-not-gzip.tar.gz",
        NodeAnswer::UploadRefused("hostile-not-gzip.tar.gz".into()),
    );
    // Truncated gzip streams: inside the gzip header, inside the deflate data, before the trailer.
    let id = "gzip-cut";
    let whole = gzip(&sound_tar(&Corpus::base(id)));
    for cut in [5, 40, whole.len() / 3, whole.len() * 2 / 3, whole.len() - 4] {
        let id = format!("gzip-cut-{cut}");
        let path = c.dir.join(format!("hostile-gzip-cut-{cut}.tar.gz"));
        let base = format!("hostile-gzip-cut-{cut}");
        let mut bytes = gzip(&sound_tar(&base));
        bytes.truncate(cut.min(bytes.len() - 1));
        write(&path, &bytes);
        c.push(
            &id,
            "a gzip stream cut short",
            path,
            INVALID,
            INVALID,
            format!("{base}.tar.gz"),
            NodeAnswer::UploadRefused(format!("{base}.tar.gz")),
        );
    }
    let mut flipped = gzip(&sound_tar(&Corpus::base("gzip-bad-crc")));
    let at = flipped.len() - 6;
    flipped[at] ^= 0x55;
    let path = c.path("gzip-bad-crc");
    write(&path, &flipped);
    c.push(
        "gzip-bad-crc",
        "a gzip stream whose CRC does not match",
        path,
        INVALID,
        INVALID,
        "hostile-gzip-bad-crc.tar.gz",
        NodeAnswer::UploadRefused("hostile-gzip-bad-crc.tar.gz".into()),
    );
    // Truncated tar streams inside sound gzip: in the first header, in META, in the table,
    // in the end blocks.
    for cut in [100, 700, 1300, 2100, 3000, 5000] {
        let base = format!("hostile-tar-cut-{cut}");
        let tar = sound_tar(&base);
        let path = c.dir.join(format!("{base}.tar.gz"));
        write(&path, &gzip(&tar[..cut]));
        c.push(
            &format!("tar-cut-{cut}"),
            "a tar stream cut short inside sound gzip",
            path,
            INVALID,
            INVALID,
            format!("{base}.tar.gz"),
            NodeAnswer::UploadRefused(format!("{base}.tar.gz")),
        );
    }
}

/// `len` bytes that do not compress (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes `<dir>/<base>.tar.gz`: META, then `<base>/data/zeros` of `bytes` zeros (a multiple
/// of 1 MiB), compressed about a thousand to one. Its header tells the truth.
pub fn gzip_bomb(dir: &Path, base: &str, bytes: u64) -> PathBuf {
    let meta = tar_of(&[Raw::file(
        format!("{base}/META.hocon"),
        meta_text(Edition::Ce, VERSION),
    )]);
    let mut prefix = meta[..meta.len() - 1024].to_vec();
    prefix.extend_from_slice(&header(
        format!("{base}/data/zeros").as_bytes(),
        tar::EntryType::Regular,
        bytes,
        None,
    ));
    let path = dir.join(format!("{base}.tar.gz"));
    gzip_repeating(
        &path,
        &prefix,
        &vec![0u8; 1 << 20],
        bytes >> 20,
        &[0u8; 1024],
    );
    path
}

fn bombs(c: &mut Corpus) {
    let block = vec![0u8; 1 << 20];
    // A gzip bomb: one entry of 4 GiB of zeros inside a file of a few MB.
    let base = Corpus::base("gzip-bomb");
    let path = gzip_bomb(&c.dir, &base, BOMB_BYTES);
    c.push(
        "gzip-bomb",
        "4 GiB of zeros in one entry, a few MB compressed",
        path,
        INVALID,
        INVALID,
        format!("{base}/data/zeros"),
        NodeAnswer::UploadRefused(format!("{base}/data/zeros")),
    );
    // A bomb that says what it is: an entry header claiming 1 TiB.
    let base = Corpus::base("size-claim");
    let mut prefix = tar_of(&[Raw::file(
        format!("{base}/META.hocon"),
        meta_text(Edition::Ce, VERSION),
    )]);
    prefix.truncate(prefix.len() - 1024);
    prefix.extend_from_slice(&header(
        format!("{base}/mnesia/emqx_banned").as_bytes(),
        tar::EntryType::Regular,
        1 << 40,
        None,
    ));
    let path = c.path("size-claim");
    gzip_repeating(&path, &prefix, &block, 16, &[]);
    c.push(
        "size-claim",
        "an entry claiming 1 TiB",
        path,
        INVALID,
        INVALID,
        format!("{base}/mnesia/emqx_banned"),
        NodeAnswer::UploadRefused(format!("{base}/mnesia/emqx_banned")),
    );
    // An entry claiming just under the 8 GiB entry limit that holds 4 MiB of noise: reserving
    // what the header claims would exhaust memory before the stream runs dry.
    let base = Corpus::base("size-claim-8g");
    let mut prefix = tar_of(&[Raw::file(
        format!("{base}/META.hocon"),
        meta_text(Edition::Ce, VERSION),
    )]);
    prefix.truncate(prefix.len() - 1024);
    prefix.extend_from_slice(&header(
        format!("{base}/data/blob").as_bytes(),
        tar::EntryType::Regular,
        (8 << 30) - 512,
        None,
    ));
    let path = c.path("size-claim-8g");
    gzip_repeating(&path, &prefix, &noise(1 << 20), 4, &[]);
    c.push(
        "size-claim-8g",
        "an entry claiming 8 GiB less 512 bytes that holds 4 MiB",
        path,
        INVALID,
        INVALID,
        format!("{base}/data/blob"),
        NodeAnswer::UploadRefused(format!("{base}/data/blob")),
    );
    // Padding after the tar's end: 64 MiB of zeros.
    let base = Corpus::base("padding");
    let tar = sound_tar(&base);
    let path = c.path("padding");
    gzip_repeating(&path, &tar, &block, 64, &[]);
    c.push(
        "padding",
        "64 MiB of zeros after the tar's end",
        path,
        INVALID,
        INVALID,
        format!("{base}.tar.gz"),
        NodeAnswer::UploadRefused(format!("{base}.tar.gz")),
    );
    // Millions of tiny entries, streamed.
    let base = Corpus::base("many-entries");
    let path = c.path("many-entries");
    many_entries(&path, &base, MANY_ENTRIES);
    c.push(
        "many-entries",
        "two million empty files",
        path,
        INVALID,
        INVALID,
        "more than 100000 entries",
        NodeAnswer::UploadRefused("more than 100000 entries".into()),
    );
}

fn meta(c: &mut Corpus) {
    let one = |c: &mut Corpus, id: &str, what, meta: Option<Vec<u8>>, needle: &str, node: &str| {
        let base = Corpus::base(id);
        let mut entries = Vec::new();
        if let Some(m) = meta {
            entries.push(Raw::file(format!("{base}/META.hocon"), m));
        }
        entries.push(Raw::file(
            format!("{base}/mnesia/emqx_banned"),
            banned_file(&[banned_record("hostile-meta", b"meta")]),
        ));
        let path = c.path(id);
        write(&path, &gzip(&tar_of(&entries)));
        c.push(
            id,
            what,
            path,
            INVALID,
            INVALID,
            needle.replace("{base}", &base),
            NodeAnswer::UploadRefused(node.replace("{base}", &base)),
        );
    };
    let missing = "invalid backup archive file: missing META.hocon";
    one(c, "meta-missing", "no META.hocon", None, missing, missing);
    one(
        c,
        "meta-empty",
        "an empty META.hocon",
        Some(Vec::new()),
        "{base}/META.hocon",
        missing,
    );
    one(
        c,
        "meta-binary",
        "META.hocon of binary junk",
        Some(b"\x00\xff\xfe\x83h\x02d\x00\x04junk\x00\x00".to_vec()),
        "{base}/META.hocon",
        "{base}/META.hocon",
    );
    one(
        c,
        "meta-edition",
        "a wrong edition",
        Some(b"edition = xe\nversion = \"5.3.1\"\n".to_vec()),
        "{base}/META.hocon",
        "wrong EMQX edition value in META.hocon",
    );
    one(
        c,
        "meta-version",
        "a version without a minor",
        Some(b"edition = ce\nversion = \"5\"\n".to_vec()),
        "{base}/META.hocon",
        "wrong EMQX version value in META.hocon",
    );
    one(
        c,
        "meta-version-number",
        "a version that is a number, not a string",
        Some(b"edition = ce\nversion = 5.3\n".to_vec()),
        "{base}/META.hocon",
        "wrong EMQX version value in META.hocon",
    );
    // Sound archives the node refuses: a newer version, an ee archive into ce.
    for (id, what, meta, node) in [
        (
            "meta-newer",
            "a version newer than the node",
            meta_text(Edition::Ce, "5.99.0"),
            "Backup version \"5.99.0\" is newer than EMQX version",
        ),
        (
            "meta-ee",
            "an Enterprise archive for a ce node",
            meta_text(Edition::Ee, VERSION),
            "importing EMQX Enterprise data backup to EMQX is not allowed",
        ),
    ] {
        let base = Corpus::base(id);
        let path = c.path(id);
        write(
            &path,
            &gzip(&tar_of(&[
                Raw::file(format!("{base}/META.hocon"), meta),
                Raw::file(
                    format!("{base}/mnesia/emqx_banned"),
                    banned_file(&[banned_record("hostile-meta", b"meta")]),
                ),
            ])),
        );
        c.push(
            id,
            what,
            path,
            OK,
            REFUSED,
            node,
            NodeAnswer::UploadRefused(node.into()),
        );
    }
}

fn cluster(c: &mut Corpus) {
    let one = |c: &mut Corpus, id: &str, what, text: Vec<u8>| {
        let base = Corpus::base(id);
        c.entries(
            id,
            what,
            vec![Raw::file(format!("{base}/cluster.hocon"), text)],
            "{base}/cluster.hocon",
            true,
        );
    };
    one(
        c,
        "cluster-invalid",
        "cluster.hocon that does not parse",
        b"authorization {\n  no_match = \n".to_vec(),
    );
    one(
        c,
        "cluster-binary",
        "cluster.hocon of binary junk",
        b"\x00\x01\xff\xfe\x83\x00".to_vec(),
    );
    one(
        c,
        "cluster-include",
        "cluster.hocon with an include",
        b"include \"/etc/passwd\"\n".to_vec(),
    );
    let depth = 10_000;
    let deep = format!("{}1{}", "a {".repeat(depth), "}".repeat(depth));
    one(
        c,
        "cluster-deep",
        "cluster.hocon nested 10,000 levels",
        deep.into_bytes(),
    );
    let deep = format!("a = {}1{}", "[".repeat(depth), "]".repeat(depth));
    one(
        c,
        "cluster-deep-array",
        "cluster.hocon arrays nested 10,000 levels",
        deep.into_bytes(),
    );
    let path = format!("{} = 1", vec!["k"; depth].join("."));
    one(
        c,
        "cluster-deep-path",
        "a key path of 10,000 segments",
        path.into_bytes(),
    );
    // Deeper than the plugins' JSON can carry.
    let inside = 200;
    let deep = format!(
        "authorization {}= 1{}\n",
        "{x ".repeat(inside),
        "}".repeat(inside)
    );
    one(
        c,
        "cluster-deep-owned",
        "a root a plugin owns nested 200 levels",
        deep.into_bytes(),
    );
    let deep = format!("zzz {}= 1{}\n", "{x ".repeat(inside), "}".repeat(inside));
    one(
        c,
        "cluster-deep-unowned",
        "a root no plugin owns nested 200 levels",
        deep.into_bytes(),
    );
}

fn framing(c: &mut Corpus) {
    let sound = banned_file(&[banned_record("hostile-frame", b"frame")]);
    let record = etf(&banned_record("hostile-frame", b"frame"));
    // EMQX's bad-file fixture: a disk_log header, then text.
    let mut bad_file = sound[..8].to_vec();
    bad_file.extend_from_slice(b"bad file\n\n\n");
    c.table(
        "table-bad-file",
        "a table file of a header and text",
        bad_file,
    );
    let mut junk = banned_file(&[]);
    junk.extend_from_slice(b"junk!");
    junk.extend_from_slice(&item(record.len() as u32, b"bWLA", None, &record));
    c.table(
        "table-junk-before-item",
        "junk bytes before a record item",
        junk,
    );
    let mut magic = sound.clone();
    magic[3] = 5;
    c.table("table-wrong-magic", "a wrong file magic", magic);
    let mut status = sound.clone();
    status[4..8].copy_from_slice(b"XXXX");
    c.table("table-wrong-status", "an unknown log status", status);
    c.table("table-empty", "an empty table file", Vec::new());
    c.table(
        "table-item-magic",
        "an item with a wrong magic",
        banned_with_items(&[])
            .into_iter()
            .chain(item(record.len() as u32, b"bWLB", None, &record))
            .collect(),
    );
    let mut beyond = banned_file(&[]);
    beyond.extend_from_slice(&item(
        200_000_000,
        b"bWLA",
        Some(md5_of(200_000_000)),
        &record,
    ));
    c.table(
        "table-size-beyond-file",
        "an item claiming 200 MB in a small file",
        beyond,
    );
    let mut huge = banned_file(&[]);
    huge.extend_from_slice(&item(u32::MAX, b"bWLA", Some(md5_of(u32::MAX)), &record));
    c.table("table-size-4g", "an item claiming 4 GiB", huge);
    let big = etf(&banned_record("hostile-big", &vec![b'r'; 70_000]));
    let mut bad_md5 = banned_file(&[]);
    bad_md5.extend_from_slice(&item(big.len() as u32, b"bWLA", Some([0xaa; 16]), &big));
    c.table("table-bad-md5", "a 70 KB item with a wrong MD5", bad_md5);
    let mut cut = banned_file(&[banned_record("hostile-cut", &vec![b'r'; 5000])]);
    cut.truncate(cut.len() - 100);
    c.table("table-truncated", "a table file cut inside a record", cut);
}

fn md5_of(size: u32) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(size.to_be_bytes()).into()
}

fn terms(c: &mut Corpus) {
    let mut deep = vec![131u8];
    for _ in 0..100_000 {
        deep.extend_from_slice(&[104, 1]);
    }
    deep.push(106);
    c.table(
        "term-deep",
        "a record nested 100,000 tuples deep",
        banned_with_items(&[deep]),
    );
    let prefix = |tail: &[u8]| {
        let mut t = vec![131u8, 104, 6, 119, 11];
        t.extend_from_slice(b"emqx_banned");
        t.extend_from_slice(tail);
        t
    };
    c.table(
        "term-binary-4g",
        "a binary claiming 4 GiB",
        banned_with_items(&[prefix(&[109, 0xff, 0xff, 0xff, 0xff, 1, 2, 3])]),
    );
    c.table(
        "term-atom-64k",
        "an atom claiming 65535 bytes",
        banned_with_items(&[prefix(&[118, 0xff, 0xff, b'a', b'b'])]),
    );
    c.table(
        "term-list-4g",
        "a list claiming 4 G elements",
        banned_with_items(&[prefix(&[108, 0xff, 0xff, 0xff, 0xff, 106])]),
    );
    c.table(
        "term-map-4g",
        "a map claiming 4 G pairs",
        banned_with_items(&[prefix(&[116, 0xff, 0xff, 0xff, 0xff, 97, 1])]),
    );
    c.table(
        "term-trailing",
        "bytes after a record's term",
        banned_with_items(&[[etf(&banned_record("hostile-t", b"t")), vec![0, 0]].concat()]),
    );
    c.table(
        "term-compressed",
        "a compressed term",
        banned_with_items(&[vec![131, 80, 0, 0, 0, 10, 120, 156]]),
    );
    // A record whose reason is a list of millions of empty lists: one byte each in the file,
    // a whole term each in memory.
    let mut swarm = prefix(&[]);
    swarm.extend_from_slice(&[104, 2, 100, 0, 8]);
    swarm.extend_from_slice(b"clientid");
    swarm.extend_from_slice(&[109, 0, 0, 0, 1, b'x']);
    swarm.extend_from_slice(&[108]);
    swarm.extend_from_slice(&(SWARM_ELEMENTS as u32).to_be_bytes());
    swarm.resize(swarm.len() + SWARM_ELEMENTS, 106);
    swarm.push(106);
    swarm.extend_from_slice(&[109, 0, 0, 0, 0, 97, 1, 97, 2]);
    c.table(
        "term-swarm",
        "a record holding 16 million empty lists",
        banned_with_items(&[swarm]),
    );
}

fn schemas(c: &mut Corpus) {
    let def = table_def("emqx_banned").expect("an EMQX table");
    let wrong = Schema::new(
        "emqx_banned",
        def.kind,
        def.record_name,
        &["who", "by", "reason", "at"],
        NODE,
    );
    c.table(
        "schema-attributes",
        "schema attributes that differ from EMQX's",
        table_file("emqx_banned", &wrong, &[]),
    );
    // The node answers with EMQX's per-table message.
    if let Some(last) = c.cases.last_mut() {
        last.node = NodeAnswer::ImportRefused(
            "emqx_banned, reason: {\"Backup traversal failed\",different_table_schema}".into(),
        );
    }
    let mut tagged = banned_file(&[]);
    let record = Term::tuple(vec![
        Term::atom("banned"),
        Term::tuple(vec![Term::atom("clientid"), Term::binary("hostile-tag")]),
        Term::binary("by"),
        Term::binary("reason"),
        Term::Int(1),
        Term::Int(2),
    ]);
    let mut log = disk_log::Writer::new(Vec::new()).expect("memory");
    log.write_item(&etf(&record)).expect("memory");
    tagged.extend_from_slice(&log.finish().expect("memory")[8..]);
    c.table(
        "record-name-tag",
        "a record tagged with the record name, not the table",
        tagged,
    );
    let mut arity = banned_file(&[]);
    let short = Term::tuple(vec![Term::atom("emqx_banned"), Term::Int(1)]);
    let mut log = disk_log::Writer::new(Vec::new()).expect("memory");
    log.write_item(&etf(&short)).expect("memory");
    arity.extend_from_slice(&log.finish().expect("memory")[8..]);
    c.table("record-arity", "a record of the wrong arity", arity);
    let header = etf(&LogHeader::new(NODE).to_term());
    let record = etf(&banned_record("hostile-noschema", b"x"));
    let mut log = disk_log::Writer::new(Vec::new()).expect("memory");
    log.write_item(&header).expect("memory");
    log.write_item(&record).expect("memory");
    c.table(
        "schema-missing",
        "a header then records, no schema item",
        log.finish().expect("memory"),
    );
    let mut log = disk_log::Writer::new(Vec::new()).expect("memory");
    log.write_item(&etf(&def.schema(NODE).to_term()))
        .expect("memory");
    log.write_item(&record).expect("memory");
    c.table(
        "header-missing",
        "a schema item first, no log header",
        log.finish().expect("memory"),
    );
    let schema_item = etf(&def.schema(NODE).to_term());
    c.table(
        "schema-twice",
        "a second schema item",
        banned_with_items(&[schema_item]),
    );
    let rules = table_def("emqx_banned_rules").expect("an EMQX table");
    let base = Corpus::base("table-renamed");
    c.entries(
        "table-renamed",
        "an emqx_banned file stored as emqx_banned_rules",
        vec![Raw::file(
            format!("{base}/mnesia/{}", rules.name),
            banned_file(&[banned_record("hostile-renamed", b"x")]),
        )],
        "mnesia/emqx_banned_rules",
        false,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Writes the corpus into `$HOSTILE_DIR` to try the cases by hand:
    /// `HOSTILE_DIR=/tmp/hostile cargo test -p emqx-backup-tests --lib -- --ignored write_corpus`.
    #[test]
    #[ignore = "writes the corpus into $HOSTILE_DIR"]
    fn write_corpus() {
        let dir = std::env::var_os("HOSTILE_DIR").expect("HOSTILE_DIR names a folder");
        for case in generate(Path::new(&dir)) {
            println!("{:<24} {}  {}", case.id, case.path.display(), case.what);
        }
    }

    #[test]
    fn many_entries_is_a_sound_gzip_tar() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.tar.gz");
        many_entries(&path, "m", 3000);
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(tar.len(), 1024 + 3000 * 512 + 1024);
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3001);
        assert_eq!(names[0], "m/META.hocon");
        assert_eq!(names[1], "m/e/0000000");
        assert_eq!(names[3000], "m/e/0002999");
    }

    #[test]
    fn repeated_blocks_make_one_sound_gzip_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.gz");
        gzip_repeating(&path, b"head", &[7u8; 1 << 16], 40, b"tail");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 8 + 40 * (1 << 16));
        assert!(out.starts_with(b"head") && out.ends_with(b"tail"));
        assert!(out[4..out.len() - 4].iter().all(|&b| b == 7));
    }
}
