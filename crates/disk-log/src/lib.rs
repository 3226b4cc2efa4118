//! OTP `disk_log` halt logs in the internal format: the framing around every mnesia backup file.
//!
//! A file is an 8-byte header (`01 02 03 04` then a status word) followed by items, each a
//! 4-byte big-endian size, the magic `bWLA`, for items of [`MD5_THRESHOLD`] bytes and more
//! the MD5 of the four size bytes, and the payload. There is no index and no trailer.
//! Both the [`Reader`] and the [`Writer`] stream: one item in memory at a time.

mod error;
mod format;
mod reader;
mod writer;

pub use error::{Error, ErrorKind};
pub use format::{Status, BIG_MAGIC, CLOSED, LEGACY_MAGIC, LOG_MAGIC, MD5_THRESHOLD, OPENED};
pub use reader::{Reader, DEFAULT_MAX_ITEM};
pub use writer::Writer;
