//! Streaming reader.

use crate::error::{Error, ErrorKind};
use crate::format::*;
use md5::{Digest, Md5};
use std::io::{BufRead, BufReader, Read};

/// Largest item accepted unless the caller says otherwise (256 MiB: a full MQTT payload fits).
pub const DEFAULT_MAX_ITEM: u64 = 256 * 1024 * 1024 + 64 * 1024;

/// Reads items one at a time from a halt log.
pub struct Reader<R: Read> {
    inner: BufReader<R>,
    offset: u64,
    status: Status,
    max_item: u64,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the 8-byte file header.
    pub fn new(inner: R) -> Result<Self, Error> {
        let mut reader = Reader {
            inner: BufReader::with_capacity(64 * 1024, inner),
            offset: 0,
            status: Status::Closed,
            max_item: DEFAULT_MAX_ITEM,
        };
        let mut head = [0u8; 8];
        let n = reader.fill(&mut head)?;
        if n < 8 {
            return Err(reader.error_at(0, ErrorKind::ShortHeader));
        }
        let (magic, status) = (head_part(&head, 0), head_part(&head, 4));
        if magic != LOG_MAGIC {
            return Err(reader.error_at(0, ErrorKind::NotALog(magic)));
        }
        reader.status = match status {
            CLOSED => Status::Closed,
            OPENED => Status::Opened,
            other => return Err(reader.error_at(4, ErrorKind::BadStatus(other))),
        };
        reader.offset = 8;
        Ok(reader)
    }

    /// Sets the largest item size accepted.
    pub fn with_max_item(mut self, max_item: u64) -> Self {
        self.max_item = max_item;
        self
    }

    /// The status word found in the header.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next item's payload into `buf` (replacing its content).
    /// Returns the offset where the item starts, or `None` at a clean end of file.
    pub fn next_item(&mut self, buf: &mut Vec<u8>) -> Result<Option<u64>, Error> {
        let start = self.offset;
        let mut head = [0u8; 8];
        let n = self.fill(&mut head)?;
        if n == 0 {
            return Ok(None);
        }
        if n < 8 {
            return Err(self.error_at(
                start,
                ErrorKind::Truncated {
                    expected: 8,
                    found: n as u64,
                },
            ));
        }
        let size_bytes = head_part(&head, 0);
        let size = u32::from_be_bytes(size_bytes) as u64;
        let magic = head_part(&head, 4);
        let big = match magic {
            BIG_MAGIC => true,
            LEGACY_MAGIC => false,
            other => return Err(self.error_at(start, ErrorKind::BadItemMagic(other))),
        };
        self.offset += 8;
        if size > self.max_item {
            return Err(self.error_at(
                start,
                ErrorKind::ItemTooLarge {
                    size,
                    limit: self.max_item,
                },
            ));
        }
        if big && size >= MD5_THRESHOLD as u64 {
            let mut sum = [0u8; 16];
            let got = self.fill(&mut sum)?;
            if got < 16 {
                return Err(self.error_at(
                    start,
                    ErrorKind::Truncated {
                        expected: 24 + size,
                        found: 8 + got as u64,
                    },
                ));
            }
            self.offset += 16;
            if Md5::digest(size_bytes).as_slice() != sum {
                return Err(self.error_at(start, ErrorKind::BadMd5 { size }));
            }
        }
        let got = self.payload(size, buf)?;
        if got < size {
            return Err(self.error_at(
                start,
                ErrorKind::Truncated {
                    expected: size,
                    found: got,
                },
            ));
        }
        Ok(Some(start))
    }

    /// Reads up to `size` payload bytes into `buf`, advancing the offset. Memory grows with the bytes actually
    /// present, 1 MiB at a time, so a size field claiming more than the file holds costs nothing.
    fn payload(&mut self, size: u64, buf: &mut Vec<u8>) -> Result<u64, Error> {
        const STEP: u64 = 1 << 20;
        buf.clear();
        if let Ok(buffered) = self.inner.fill_buf() {
            if buffered.len() as u64 >= size {
                buf.extend_from_slice(&buffered[..size as usize]);
                self.inner.consume(size as usize);
                self.offset += size;
                return Ok(size);
            }
        }
        let mut got = 0u64;
        while got < size {
            let want = (size - got).min(STEP) as usize;
            let at = buf.len();
            buf.resize(at + want, 0);
            let n = self.fill(&mut buf[at..])?;
            buf.truncate(at + n);
            got += n as u64;
            self.offset += n as u64;
            if n < want {
                break;
            }
        }
        Ok(got)
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error {
                        offset: self.offset + filled as u64,
                        kind: e.into(),
                    })
                }
            }
        }
        Ok(filled)
    }

    fn error_at(&self, offset: u64, kind: ErrorKind) -> Error {
        Error { offset, kind }
    }
}

fn head_part(head: &[u8; 8], at: usize) -> [u8; 4] {
    [head[at], head[at + 1], head[at + 2], head[at + 3]]
}
