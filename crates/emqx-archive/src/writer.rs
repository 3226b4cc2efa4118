//! Atomic archive writing: a temporary file in the target folder, synced, then renamed.

use crate::error::{ArchiveError, ErrorKind};
use crate::hashing::HashingReader;
use crate::manifest::{Manifest, ManifestEntry, MANIFEST_FORMAT};
use crate::name::backup_base;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek};
use std::path::{Path, PathBuf};

/// Writes an archive EMQX imports: ustar entries under one top folder, then our manifest.
pub struct ArchiveWriter {
    path: PathBuf,
    base: String,
    tmp: tempfile::NamedTempFile,
    builder: tar::Builder<GzEncoder<BufWriter<File>>>,
    entries: Vec<ManifestEntry>,
    mtime: u64,
}

impl ArchiveWriter {
    /// Starts `dir/file_name`; nothing appears under that name until [`ArchiveWriter::finish`].
    pub fn create(dir: &Path, file_name: &str) -> Result<Self, ArchiveError> {
        let path = dir.join(file_name);
        let base = backup_base(file_name)
            .ok_or_else(|| ArchiveError::new(&path, ErrorKind::BadBackupName))?
            .to_owned();
        let io_err = |source| ArchiveError::io(&path, dir, source);
        std::fs::create_dir_all(dir).map_err(io_err)?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io_err)?;
        let file = tmp.reopen().map_err(io_err)?;
        let gz = GzEncoder::new(
            BufWriter::with_capacity(256 * 1024, file),
            Compression::new(6),
        );
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(ArchiveWriter {
            path,
            base,
            tmp,
            builder: tar::Builder::new(gz),
            entries: Vec::new(),
            mtime,
        })
    }

    /// The final path of the archive.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds an entry from memory; `rel` is the path under the top folder.
    pub fn add_bytes(
        &mut self,
        rel: &str,
        data: &[u8],
        records: Option<u64>,
    ) -> Result<(), ArchiveError> {
        self.add_reader(rel, data.len() as u64, data, records)
    }

    /// Adds an entry of exactly `size` bytes read from `reader`; a shorter source is an error,
    /// never a silently corrupt tar.
    pub fn add_reader(
        &mut self,
        rel: &str,
        size: u64,
        reader: impl Read,
        records: Option<u64>,
    ) -> Result<(), ArchiveError> {
        let mut header = tar::Header::new_ustar();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        let full = format!("{}/{rel}", self.base);
        let mut reader = HashingReader::new(reader.take(size));
        self.builder
            .append_data(&mut header, &full, &mut reader)
            .map_err(|source| ArchiveError::io(&self.path, Path::new(&full), source))?;
        if reader.len() != size {
            let short = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("source gave {} of {size} bytes", reader.len()),
            );
            return Err(ArchiveError::io(&self.path, Path::new(&full), short));
        }
        self.entries.push(ManifestEntry {
            path: rel.to_owned(),
            size,
            sha256: reader.hex_digest(),
            records,
        });
        Ok(())
    }

    /// Adds an entry from a file (spooled table or pass-through data), read from its start.
    pub fn add_file(
        &mut self,
        rel: &str,
        file: &mut File,
        records: Option<u64>,
    ) -> Result<(), ArchiveError> {
        let io_err = |source| ArchiveError::io(&self.path, Path::new(rel), source);
        let size = file.metadata().map_err(io_err)?.len();
        file.rewind().map_err(io_err)?;
        self.add_reader(rel, size, &mut *file, records)
    }

    /// Writes the manifest, completes the gzip stream, syncs and renames into place.
    /// Refuses to replace an existing file. On any error the temporary file is removed.
    pub fn finish(mut self) -> Result<PathBuf, ArchiveError> {
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            tool: crate::TOOL.to_owned(),
            created_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            entries: std::mem::take(&mut self.entries),
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| ArchiveError::io(&self.path, &self.path, e.into()))?;
        self.add_bytes("MANIFEST.json", &json, None)?;
        let path = self.path;
        let io_err = |source| ArchiveError::io(&path, &path, source);
        let file = self
            .builder
            .into_inner()
            .and_then(GzEncoder::finish)
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            .map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        self.tmp
            .persist_noclobber(&path)
            .map_err(|e| io_err(e.error))?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // The rename is done; syncing the folder makes it durable where the platform allows.
        let _ = File::open(dir).and_then(|d| d.sync_all());
        Ok(path)
    }
}
