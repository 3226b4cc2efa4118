//! Constants of the halt-log format, as OTP's disk_log writes them.

/// First four bytes of every disk_log file.
pub const LOG_MAGIC: [u8; 4] = [1, 2, 3, 4];
/// Status word of a log that was closed properly.
pub const CLOSED: [u8; 4] = [0x63, 0x58, 0x4d, 0x0b];
/// Status word of a log that was still open (readable, but not closed cleanly).
pub const OPENED: [u8; 4] = [6, 7, 8, 9];
/// Magic that follows every item's size in current logs (`bWLA`).
pub const BIG_MAGIC: [u8; 4] = *b"bWLA";
/// Magic of items in very old logs (no MD5 field ever).
pub const LEGACY_MAGIC: [u8; 4] = [0x0c, 0x21, 0x2c, 0x37];
/// Items of this many payload bytes and more carry an MD5 of their size field.
pub const MD5_THRESHOLD: usize = 65528;

/// The state a log file's header records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Closed properly: the only status a writer should leave.
    Closed,
    /// Not closed: OTP still reads it in read-only mode.
    Opened,
}
