//! SHA-256 and length of a stream, computed as it is read.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Passes reads through, feeding every byte to a SHA-256 and counting them.
pub(crate) struct HashingReader<R> {
    inner: R,
    hash: Sha256,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes read so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Lowercase hex SHA-256 of what was read.
    pub(crate) fn hex_digest(self) -> String {
        hex::encode(self.hash.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}
