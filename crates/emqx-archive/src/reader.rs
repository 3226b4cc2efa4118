//! Streaming, checked read of an archive: one pass, one entry in hand at a time.

use crate::error::{ArchiveError, ErrorKind, Place};
use crate::hashing::HashingReader;
use crate::limits::{Limits, RATIO_FLOOR};
use crate::name::backup_base;
use flate2::read::GzDecoder;
use std::cell::Cell;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

/// Most bytes read after the tar's end marker (padding) before the archive counts as corrupt.
const MAX_TRAILER: u64 = 16 << 20;

/// One regular-file entry, readable once, with its path checked.
pub struct Entry<'a> {
    /// The entry's full name in the tar.
    pub name: &'a str,
    /// The path under the top folder (`mnesia/emqx_acl`).
    pub rel: &'a str,
    /// Size in bytes.
    pub size: u64,
    reader: &'a mut dyn Read,
}

impl Entry<'_> {
    /// Bytes to reserve before reading the entry whole: its size, but never more than 16 MiB
    /// up front, so a header claiming gigabytes the stream does not hold costs nothing.
    pub(crate) fn capacity_hint(&self) -> usize {
        self.size.min(16 << 20) as usize
    }
}

impl Read for Entry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

/// Size and SHA-256 of an entry, computed while it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryDigest {
    /// Path under the top folder.
    pub rel: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// Reads `path`, checking EMQX's rules and ours, and calls `visit` for every regular file in
/// archive order. Returns every file's digest. The first fault stops the read.
pub fn read_archive(
    path: &Path,
    limits: &Limits,
    mut visit: impl FnMut(&mut Entry<'_>) -> Result<(), ArchiveError>,
) -> Result<Vec<EntryDigest>, ArchiveError> {
    let err = |kind| ArchiveError::new(path, kind);
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let base = backup_base(file_name)
        .ok_or_else(|| err(ErrorKind::BadBackupName))?
        .to_owned();
    let file = File::open(path).map_err(|source| {
        err(ErrorKind::Io {
            path: path.into(),
            source,
        })
    })?;
    let compressed = Rc::new(Cell::new(0));
    let counted = Counted {
        inner: BufReader::with_capacity(256 * 1024, file),
        count: compressed.clone(),
    };
    let mut archive = tar::Archive::new(RatioGuard {
        inner: GzDecoder::new(counted),
        compressed,
        out: 0,
        max_ratio: limits.max_ratio,
    });
    let corrupt = |place: Place, e: io::Error| {
        err(ErrorKind::Corrupt {
            place,
            message: e.to_string(),
        })
    };
    let mut digests = Vec::new();
    let mut seen = HashSet::new();
    let (mut count, mut total) = (0u64, 0u64);
    let entries = archive.entries().map_err(|e| corrupt(Place::Start, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            corrupt(
                Place::after(digests.last().map(|d: &EntryDigest| d.rel.as_str())),
                e,
            )
        })?;
        count += 1;
        if count > limits.max_entries {
            return Err(err(ErrorKind::TooManyEntries {
                limit: limits.max_entries,
            }));
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw).map_err(|e| {
            err(ErrorKind::UnsafePath {
                entry: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                why: "not UTF-8",
            })
        })?;
        let kind = entry.header().entry_type();
        let is_dir = kind.is_dir();
        if kind.is_pax_global_extensions() {
            continue;
        }
        let rel = check_path(&name, &base, is_dir).map_err(err)?;
        if !(kind.is_file() || is_dir) {
            return Err(err(ErrorKind::EntryType {
                entry: name,
                kind: type_name(kind),
            }));
        }
        let key = rel.trim_end_matches('/').to_owned();
        if !seen.insert(key.clone()) {
            return Err(err(ErrorKind::DuplicateEntry { entry: name }));
        }
        if is_dir {
            continue;
        }
        let size = entry.size();
        if size > limits.max_entry_bytes {
            return Err(err(ErrorKind::EntryTooLarge {
                entry: name,
                size,
                limit: limits.max_entry_bytes,
            }));
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(err(ErrorKind::TotalTooLarge {
                entry: name,
                limit: limits.max_total_bytes,
            }));
        }
        let mut hashing = HashingReader::new(&mut entry);
        let mut e = Entry {
            name: &name,
            rel: &key,
            size,
            reader: &mut hashing,
        };
        visit(&mut e)?;
        io::copy(&mut hashing, &mut io::sink()).map_err(|e| corrupt(Place::At(name.clone()), e))?;
        if hashing.len() != size {
            let why = format!("entry ends after {} of its {size} bytes", hashing.len());
            return Err(corrupt(
                Place::At(name.clone()),
                io::Error::new(io::ErrorKind::UnexpectedEof, why),
            ));
        }
        digests.push(EntryDigest {
            rel: key,
            size,
            sha256: hashing.hex_digest(),
        });
    }
    let last = digests.last().map(|d| d.rel.clone());
    let trailer = io::copy(
        &mut archive.into_inner().take(MAX_TRAILER + 1),
        &mut io::sink(),
    )
    .map_err(|e| corrupt(Place::after(last.as_deref()), e))?;
    if trailer > MAX_TRAILER {
        return Err(corrupt(
            Place::after(last.as_deref()),
            io::Error::other("more than 16 MiB of data after the end of the tar"),
        ));
    }
    Ok(digests)
}

/// Counts the compressed bytes the decompressor takes.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Fails the decompressed stream once it grows beyond `max_ratio` times the compressed bytes
/// taken (past [`RATIO_FLOOR`]): a gzip bomb stops early, whatever its entries claim.
struct RatioGuard<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    out: u64,
    max_ratio: u64,
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let compressed = self.compressed.get().max(1);
        if self.max_ratio > 0 && self.out > RATIO_FLOOR && self.out / compressed > self.max_ratio {
            return Err(io::Error::other(format!(
                "{} bytes decompressed from {compressed}: more than {} times the compressed size (a gzip bomb?)",
                self.out, self.max_ratio
            )));
        }
        Ok(n)
    }
}

/// Checks an entry name and returns its path under the top folder.
fn check_path(name: &str, base: &str, is_dir: bool) -> Result<String, ErrorKind> {
    let unsafe_path = |why| {
        Err(ErrorKind::UnsafePath {
            entry: name.to_owned(),
            why,
        })
    };
    if name.is_empty() {
        return unsafe_path("empty name");
    }
    if name.starts_with('/') {
        return unsafe_path("absolute path");
    }
    if name.contains('\\') {
        return unsafe_path("backslash in path");
    }
    if name.contains('\0') {
        return unsafe_path("NUL in path");
    }
    let trimmed = name.trim_end_matches('/');
    if trimmed.split('/').any(|c| c == "..") {
        return unsafe_path("'..' in path");
    }
    let (top, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if top != base {
        return Err(ErrorKind::BadArchiveDir {
            entry: name.to_owned(),
            expected: format!("{base}/"),
        });
    }
    if rest
        .split('/')
        .any(|c| c == "." || (c.is_empty() && !rest.is_empty()))
    {
        return unsafe_path("'.' or empty component in path");
    }
    if rest.is_empty() && !is_dir {
        return Err(ErrorKind::BadArchiveDir {
            entry: name.to_owned(),
            expected: format!("{base}/"),
        });
    }
    Ok(rest.to_owned())
}

fn type_name(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Symlink => "symbolic link".into(),
        tar::EntryType::Link => "hard link".into(),
        tar::EntryType::Char => "character device".into(),
        tar::EntryType::Block => "block device".into(),
        tar::EntryType::Fifo => "FIFO".into(),
        tar::EntryType::GNUSparse => "sparse file".into(),
        other => format!("tar type {:?}", other.as_byte() as char),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let ok = |n: &str| check_path(n, "b", n.ends_with('/'));
        assert_eq!(ok("b/META.hocon").unwrap(), "META.hocon");
        assert_eq!(ok("b/mnesia/").unwrap(), "mnesia");
        assert_eq!(ok("b/").unwrap(), "");
        assert!(matches!(
            ok("/b/x"),
            Err(ErrorKind::UnsafePath {
                why: "absolute path",
                ..
            })
        ));
        assert!(matches!(ok("b/../x"), Err(ErrorKind::UnsafePath { .. })));
        assert!(matches!(ok("b\\x"), Err(ErrorKind::UnsafePath { .. })));
        assert!(matches!(ok("./b/x"), Err(ErrorKind::BadArchiveDir { .. })));
        assert!(matches!(ok("c/x"), Err(ErrorKind::BadArchiveDir { .. })));
        assert!(matches!(ok("b/./x"), Err(ErrorKind::UnsafePath { .. })));
        assert!(matches!(ok("b"), Err(ErrorKind::BadArchiveDir { .. })));
    }
}
