//! Streaming writer.

use crate::error::{Error, ErrorKind};
use crate::format::*;
use md5::{Digest, Md5};
use std::io::Write;

/// Writes a halt log that OTP's disk_log reads back: header with the CLOSED status, then items.
pub struct Writer<W: Write> {
    inner: W,
    offset: u64,
}

impl<W: Write> Writer<W> {
    /// Writes the file header. The status is CLOSED from the start: the stream is never reopened.
    pub fn new(mut inner: W) -> Result<Self, Error> {
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&LOG_MAGIC);
        head[4..].copy_from_slice(&CLOSED);
        inner.write_all(&head).map_err(|e| Error {
            offset: 0,
            kind: e.into(),
        })?;
        Ok(Writer { inner, offset: 8 })
    }

    /// Appends one item; returns the offset where it starts.
    pub fn write_item(&mut self, payload: &[u8]) -> Result<u64, Error> {
        let start = self.offset;
        let size = u32::try_from(payload.len())
            .map_err(|_| Error {
                offset: start,
                kind: ErrorKind::Unwritable(payload.len()),
            })?
            .to_be_bytes();
        let mut head = [0u8; 24];
        head[..4].copy_from_slice(&size);
        head[4..8].copy_from_slice(&BIG_MAGIC);
        let head_len = if payload.len() >= MD5_THRESHOLD {
            head[8..].copy_from_slice(Md5::digest(size).as_slice());
            24
        } else {
            8
        };
        let io = |e: std::io::Error| Error {
            offset: start,
            kind: e.into(),
        };
        self.inner.write_all(&head[..head_len]).map_err(io)?;
        self.inner.write_all(payload).map_err(io)?;
        self.offset += (head_len + payload.len()) as u64;
        Ok(start)
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, Error> {
        self.inner.flush().map_err(|e| Error {
            offset: self.offset,
            kind: e.into(),
        })?;
        Ok(self.inner)
    }
}
