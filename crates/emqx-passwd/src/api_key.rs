//! API keys and secrets (`emqx_mgmt_auth`, table `emqx_app`).

use sha2::{Digest, Sha512};

use crate::random::random_bytes;

/// 5.x `api_key` for an app name: the first 16 lowercase hex chars of `sha512(name)`.
pub fn key_for_name_5x(name: &str) -> String {
    let mut key = hex::encode(Sha512::digest(name.as_bytes()));
    key.truncate(16);
    key
}

/// A 6.x-style `api_key`: 16 random alphanumeric chars, the first a letter.
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn new_key_6x() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let bytes = random_bytes::<64>();
    let mut picks = bytes.iter().copied();
    let mut key = String::with_capacity(16);
    // Rejection sampling keeps the choice uniform; 64 bytes are plenty in practice.
    let mut pick = |set: &[u8]| loop {
        let limit = 256 - 256 % set.len();
        match picks.next() {
            Some(b) if (b as usize) < limit => break set[b as usize % set.len()],
            Some(_) => continue,
            None => break set[random_bytes::<1>()[0] as usize % set.len()],
        }
    };
    key.push(char::from(pick(LETTERS)));
    for _ in 1..16 {
        key.push(char::from(pick(ALNUM)));
    }
    key
}

/// A new API secret: EMQX's base62 of 32 random bytes (shown once, at creation).
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn new_secret() -> String {
    base62_encode(&random_bytes::<32>())
}

/// `emqx_base62:encode/1`: 6-bit groups as `A-Za-z0-8`, values 61..=63 as `9A`, `9B`, `9C`.
///
/// A trailing 4- or 2-bit group is encoded as its own (small) value.
pub fn base62_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 2);
    let mut push = |v: u8| match v {
        0..=25 => out.push(char::from(b'A' + v)),
        26..=51 => out.push(char::from(b'a' + v - 26)),
        52..=60 => out.push(char::from(b'0' + v - 52)),
        _ => {
            out.push('9');
            out.push(char::from(b'A' + v - 61));
        }
    };
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        push(c[0] >> 2);
        push(((c[0] & 0x03) << 4) | (c[1] >> 4));
        push(((c[1] & 0x0f) << 2) | (c[2] >> 6));
        push(c[2] & 0x3f);
    }
    match *chunks.remainder() {
        [a, b] => {
            push(a >> 2);
            push(((a & 0x03) << 4) | (b >> 4));
            push(b & 0x0f);
        }
        [a] => {
            push(a >> 2);
            push(a & 0x03);
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_key_of_test() {
        assert_eq!(key_for_name_5x("test"), "ee26b0dd4af7e749");
        assert_eq!(key_for_name_5x("").len(), 16);
    }

    #[test]
    fn base62_matches_emqx_base62() {
        assert_eq!(base62_encode(b""), "");
        assert_eq!(base62_encode(b"Man"), "TWFu");
        assert_eq!(base62_encode(&[0, 0, 0]), "AAAA");
        assert_eq!(base62_encode(&[255, 255, 255]), "9C9C9C9C");
        assert_eq!(base62_encode(&[255, 255]), "9C9CP");
        assert_eq!(base62_encode(&[255]), "9CD");
        assert_eq!(base62_encode(&[0xd0]), "0A");
        assert_eq!(base62_encode(&[0xf4]), "9AA");
        assert_eq!(base62_encode(&[0xf8]), "9BA");
    }

    #[test]
    fn secrets_and_6x_keys() {
        let s = new_secret();
        // 32 bytes: 43 six-bit groups, each one or two characters.
        assert!((43..=86).contains(&s.len()), "{s}");
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(s, new_secret());
        let k = new_key_6x();
        assert_eq!(k.len(), 16);
        assert!(k.as_bytes()[0].is_ascii_alphabetic());
        assert!(k.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
