//! SHA-256 of a stream, computed as it is read.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Passes reads through and feeds every byte to a SHA-256.
pub(crate) struct HashingReader<'a, R> {
    pub(crate) inner: R,
    pub(crate) hash: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}
