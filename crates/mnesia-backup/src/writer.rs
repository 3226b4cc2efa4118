//! Streaming writer.

use crate::error::{BackupError, BackupErrorKind};
use crate::header::LogHeader;
use crate::schema::Schema;
use erlang_term::{encode, AtomEncoding, Term};
use std::io::Write;

/// Writes a backup file that `mnesia:restore/2` accepts: header, schema, then records.
pub struct BackupWriter<W: Write> {
    file: String,
    log: disk_log::Writer<W>,
    table: String,
    atoms: AtomEncoding,
    buf: Vec<u8>,
    records: u64,
}

impl<W: Write> BackupWriter<W> {
    /// Writes the file header, the log header item and the schema item.
    pub fn new(
        file: &str,
        inner: W,
        header: &LogHeader,
        schema: &Schema,
        atoms: AtomEncoding,
    ) -> Result<Self, BackupError> {
        let log = disk_log::Writer::new(inner).map_err(|e| BackupError::from_log(file, e))?;
        let mut w = BackupWriter {
            file: file.to_owned(),
            log,
            table: schema.table.clone(),
            atoms,
            buf: Vec::new(),
            records: 0,
        };
        w.write_term(&header.to_term())?;
        w.write_term(&schema.to_term())?;
        Ok(w)
    }

    /// Starts a file from a header and schema item copied unchanged from another backup.
    pub fn from_raw_preamble(
        file: &str,
        inner: W,
        header: &[u8],
        schema: &Schema,
        schema_raw: &[u8],
        atoms: AtomEncoding,
    ) -> Result<Self, BackupError> {
        let mut log = disk_log::Writer::new(inner).map_err(|e| BackupError::from_log(file, e))?;
        for item in [header, schema_raw] {
            log.write_item(item)
                .map_err(|e| BackupError::from_log(file, e))?;
        }
        Ok(BackupWriter {
            file: file.to_owned(),
            log,
            table: schema.table.clone(),
            atoms,
            buf: Vec::new(),
            records: 0,
        })
    }

    /// Appends a record given as its encoded bytes (copied unchanged from another backup).
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        self.log
            .write_item(bytes)
            .map_err(|e| BackupError::from_log(&self.file, e))?;
        self.records += 1;
        Ok(())
    }

    /// Encodes and appends a record; it must be a tuple tagged with the table name.
    pub fn write_record(&mut self, record: &Term) -> Result<(), BackupError> {
        let tagged = record
            .as_tuple()
            .and_then(|e| e.first())
            .and_then(Term::as_atom)
            == Some(self.table.as_str());
        if !tagged {
            return Err(BackupError::new(
                &self.file,
                self.log.offset(),
                BackupErrorKind::BadRecord(format!(
                    "record must be a tuple tagged '{}'",
                    self.table
                )),
            ));
        }
        self.write_term(record)?;
        self.records += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, BackupError> {
        let file = self.file;
        self.log
            .finish()
            .map_err(|e| BackupError::from_log(&file, e))
    }

    fn write_term(&mut self, term: &Term) -> Result<(), BackupError> {
        self.buf.clear();
        encode(term, self.atoms, &mut self.buf).map_err(|e| {
            BackupError::new(
                &self.file,
                self.log.offset(),
                BackupErrorKind::Write(e.to_string()),
            )
        })?;
        self.log
            .write_item(&self.buf)
            .map_err(|e| BackupError::from_log(&self.file, e))?;
        Ok(())
    }
}
