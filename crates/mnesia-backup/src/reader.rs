//! Streaming reader.

use crate::error::{BackupError, BackupErrorKind};
use crate::header::LogHeader;
use crate::schema::Schema;
use erlang_term::{AtomEncoding, DecodeLimits, Decoder, Term};
use std::io::Read;

/// Bounds and checks for reading.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Largest item accepted, in bytes.
    pub max_item: u64,
    /// Limits of the term decoder.
    pub decode: DecodeLimits,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_item: disk_log::DEFAULT_MAX_ITEM,
            decode: DecodeLimits::default(),
        }
    }
}

/// A record's encoded bytes as they stand in the file.
#[derive(Debug)]
pub struct RawRecord<'a> {
    /// Offset of the item in the file.
    pub offset: u64,
    /// The ETF payload (version byte first).
    pub bytes: &'a [u8],
}

/// Reads a backup file: the header and schema on open, then the records one by one.
pub struct BackupReader<R: Read> {
    file: String,
    log: disk_log::Reader<R>,
    header: LogHeader,
    header_raw: Vec<u8>,
    schema: Schema,
    schema_raw: Vec<u8>,
    atoms: AtomEncoding,
    record_name: String,
    arity: Option<usize>,
    decoder: Decoder,
    buf: Vec<u8>,
    records: u64,
}

impl<R: Read> BackupReader<R> {
    /// Opens a backup; `file` names it in every error (e.g. the archive entry).
    pub fn open(file: &str, inner: R, options: ReadOptions) -> Result<Self, BackupError> {
        let mut log = disk_log::Reader::new(inner)
            .map_err(|e| BackupError::from_log(file, e))?
            .with_max_item(options.max_item);
        let mut buf = Vec::new();
        let mut decoder = Decoder::new(options.decode);
        let header_item = next_term(file, &mut log, &mut buf, &mut decoder)?;
        let header_raw = buf.clone();
        let header = match header_item {
            None => {
                return Err(BackupError::new(
                    file,
                    log.offset(),
                    BackupErrorKind::MissingHeader,
                ))
            }
            Some((offset, term)) => match LogHeader::from_term(&term) {
                None => {
                    return Err(BackupError::new(
                        file,
                        offset,
                        BackupErrorKind::MissingHeader,
                    ))
                }
                Some(Err(why)) => {
                    return Err(BackupError::new(
                        file,
                        offset,
                        BackupErrorKind::BadHeader(why),
                    ))
                }
                Some(Ok(h)) if h.log_version != "1.1" && h.log_version != "1.2" => {
                    return Err(BackupError::new(
                        file,
                        offset,
                        BackupErrorKind::BadHeaderVersion(h.log_version),
                    ))
                }
                Some(Ok(h)) => h,
            },
        };
        let schema_item = next_term(file, &mut log, &mut buf, &mut decoder)?;
        let schema_raw = buf.clone();
        let schema = match schema_item {
            None => {
                return Err(BackupError::new(
                    file,
                    log.offset(),
                    BackupErrorKind::MissingSchema,
                ))
            }
            Some((offset, term)) => match Schema::from_term(&term) {
                None => {
                    return Err(BackupError::new(
                        file,
                        offset,
                        BackupErrorKind::MissingSchema,
                    ))
                }
                Some(Err(why)) => {
                    return Err(BackupError::new(
                        file,
                        offset,
                        BackupErrorKind::BadSchema(why),
                    ))
                }
                Some(Ok(s)) => s,
            },
        };
        Ok(BackupReader {
            file: file.to_owned(),
            record_name: schema.record_name(),
            arity: schema.attributes().map(|a| a.len() + 1),
            atoms: if header_raw.get(3) == Some(&100) {
                AtomEncoding::Latin1
            } else {
                AtomEncoding::Utf8
            },
            log,
            header,
            header_raw,
            schema,
            schema_raw,
            decoder,
            buf,
            records: 0,
        })
    }

    /// The file name used in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The log header item.
    pub fn header(&self) -> &LogHeader {
        &self.header
    }

    /// The schema item.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The header and schema items as encoded in the file, for byte-identical copies.
    pub fn preamble_raw(&self) -> (&[u8], &[u8]) {
        (&self.header_raw, &self.schema_raw)
    }

    /// The atom encoding of the file's writer (OTP 25 and earlier write Latin-1 `ATOM_EXT`).
    pub fn atom_encoding(&self) -> AtomEncoding {
        self.atoms
    }

    /// Records returned so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The next record's bytes, framing checked but the term not decoded.
    pub fn next_raw(&mut self) -> Result<Option<RawRecord<'_>>, BackupError> {
        match self.log.next_item(&mut self.buf) {
            Ok(None) => Ok(None),
            Ok(Some(offset)) => {
                self.records += 1;
                Ok(Some(RawRecord {
                    offset,
                    bytes: &self.buf,
                }))
            }
            Err(e) => Err(BackupError::from_log(&self.file, e)),
        }
    }

    /// The next record, decoded and checked the way mnesia will treat it: a tuple tagged with
    /// the table name, with one element per attribute after the tag. Returns the raw bytes too.
    pub fn next_record(&mut self) -> Result<Option<(RawRecord<'_>, Term)>, BackupError> {
        let offset = match self.log.next_item(&mut self.buf) {
            Ok(None) => return Ok(None),
            Ok(Some(offset)) => offset,
            Err(e) => return Err(BackupError::from_log(&self.file, e)),
        };
        let term = self
            .decoder
            .decode(&self.buf)
            .map_err(|e| BackupError::new(&self.file, offset, BackupErrorKind::Term(e)))?;
        self.check_record(offset, &term)?;
        self.records += 1;
        Ok(Some((
            RawRecord {
                offset,
                bytes: &self.buf,
            },
            term,
        )))
    }

    fn check_record(&self, offset: u64, term: &Term) -> Result<(), BackupError> {
        let bad = |why: String| {
            Err(BackupError::new(
                &self.file,
                offset,
                BackupErrorKind::BadRecord(why),
            ))
        };
        let table = self.schema.table.as_str();
        let Some(elements) = term.as_tuple() else {
            return bad(format!(
                "expected a tuple tagged {table}, found a {}",
                term.kind()
            ));
        };
        match elements.first().and_then(Term::as_atom) {
            Some(tag) if tag == table => {}
            Some("schema") => {
                let name = elements.get(1).map(|t| t.to_string()).unwrap_or_default();
                return Err(BackupError::new(&self.file, offset, BackupErrorKind::ExtraSchema(name)));
            }
            Some(tag) if tag == self.record_name => {
                return bad(format!(
                    "tagged with the record name '{tag}' instead of the table name '{table}': mnesia:restore would silently drop it"
                ))
            }
            _ => {
                let tag = elements.first().map(|t| t.to_string()).unwrap_or_else(|| "{}".into());
                return bad(format!("tagged {tag}, expected the table name '{table}'"));
            }
        }
        match self.arity {
            Some(arity) if elements.len() != arity => bad(format!(
                "{} elements, expected {arity} (the tag and {} attributes)",
                elements.len(),
                arity - 1
            )),
            _ => Ok(()),
        }
    }
}

fn next_term<R: Read>(
    file: &str,
    log: &mut disk_log::Reader<R>,
    buf: &mut Vec<u8>,
    decoder: &mut Decoder,
) -> Result<Option<(u64, Term)>, BackupError> {
    match log.next_item(buf) {
        Ok(None) => Ok(None),
        Ok(Some(offset)) => decoder
            .decode(buf)
            .map(|t| Some((offset, t)))
            .map_err(|e| BackupError::new(file, offset, BackupErrorKind::Term(e))),
        Err(e) => Err(BackupError::from_log(file, e)),
    }
}
