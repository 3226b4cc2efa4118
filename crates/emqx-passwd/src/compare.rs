//! Constant-time comparison of secrets.

use subtle::ConstantTimeEq;

/// Constant-time equality of two byte strings; different lengths are unequal.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
