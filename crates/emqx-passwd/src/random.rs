//! Randomness from the operating system, for salts, secrets and keys.

/// `N` bytes from the operating system's CSPRNG.
///
/// # Panics
/// Only if the operating system cannot supply randomness at all.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Err(err) = getrandom::fill(&mut buf) {
        panic!("the operating system's random number generator failed: {err}");
    }
    buf
}

/// 16 random bytes as 32 lowercase hex characters, EMQX's `~32.16.0b` salt.
pub(crate) fn hex_salt() -> String {
    hex::encode(random_bytes::<16>())
}
