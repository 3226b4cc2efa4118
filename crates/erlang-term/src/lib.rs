//! Erlang external term format (ETF), as found in mnesia backup files.
//!
//! The decoder works on a byte slice that already holds one whole term, never allocates
//! more than the slice can justify, limits nesting depth and never panics, so hostile
//! input yields an [`DecodeError`] with the byte offset of the fault. The encoder writes
//! what `term_to_binary/1` writes, with a choice of atom encoding.

mod decode;
mod display;
mod encode;
mod intern;
mod order;
mod tags;
mod term;

pub use decode::{decode, decode_with_limits, DecodeError, DecodeLimits, Decoder};
pub use encode::{encode, encode_to_vec, AtomEncoding, EncodeError};
pub use term::{Atom, Opaque, Term};
