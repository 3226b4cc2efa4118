//! Dashboard user passwords and API secrets (`emqx_dashboard_admin`, `emqx_mgmt_auth`).
//!
//! Two stored formats: the legacy 36 bytes (4 lowercase hex salt chars ‖ raw
//! `sha256(salt ‖ secret)`), used by every 5.x and 6.0–6.2 release for admin passwords and
//! 5.x API secrets; and `$1$<iterations>$<b64 salt>$<b64 dk>` (PBKDF2-HMAC-SHA256, 16-byte
//! salt, 32-byte dk, standard base64 without padding) from 6.3.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use base64::engine::{DecodePaddingMode, Engine};
use sha2::{Digest, Sha256};

use crate::compare::ct_eq;
use crate::random::random_bytes;

/// Iterations of the `$1$` format for dashboard passwords.
pub const PASSWORD_ITERATIONS: u32 = 600_000;
/// Iterations of the `$1$` format for API secrets.
pub const API_SECRET_ITERATIONS: u32 = 1;
/// Length of a legacy hash: 4 salt chars + 32 digest bytes.
pub const LEGACY_LEN: usize = 36;
/// Length of the PBKDF2 derived key.
pub const PBKDF2_DK_LEN: usize = 32;
/// Prefix of the PBKDF2 format.
pub const PBKDF2_PREFIX: &str = "$1$";

/// Standard alphabet; writes no padding, reads with or without it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    NO_PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Legacy hash: `salt ‖ sha256(salt ‖ password)`, 36 bytes.
pub fn hash_legacy(password: &[u8], salt: &[u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEGACY_LEN);
    out.extend_from_slice(salt);
    out.extend_from_slice(
        &Sha256::new()
            .chain_update(salt)
            .chain_update(password)
            .finalize(),
    );
    out
}

/// Legacy hash with a fresh random salt (4 lowercase hex chars of 2 random bytes).
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn new_legacy(password: &[u8]) -> Vec<u8> {
    let salt = hex::encode(random_bytes::<2>());
    let mut salt4 = [0u8; 4];
    salt4.copy_from_slice(salt.as_bytes());
    hash_legacy(password, &salt4)
}

/// `$1$<iterations>$<b64 salt>$<b64 dk>` with PBKDF2-HMAC-SHA256; 0 iterations never verify.
pub fn hash_pbkdf2(password: &[u8], iterations: u32, salt: &[u8; 16]) -> String {
    let dk = pbkdf2_sha256(password, salt, iterations, PBKDF2_DK_LEN);
    format!(
        "{PBKDF2_PREFIX}{iterations}${}${}",
        B64.encode(salt),
        B64.encode(dk)
    )
}

/// `$1$` hash with a fresh random 16-byte salt.
///
/// # Panics
/// Only if the operating system cannot supply randomness.
pub fn new_pbkdf2(password: &[u8], iterations: u32) -> String {
    hash_pbkdf2(password, iterations, &random_bytes::<16>())
}

/// Does `password` match a stored hash in either format?
///
/// `$1$` prefix: parse and recompute with the stored iterations, constant-time compare;
/// otherwise exactly 36 bytes: legacy check; anything else fails.
pub fn verify(password: &[u8], stored: &[u8]) -> bool {
    if let Some(rest) = stored.strip_prefix(PBKDF2_PREFIX.as_bytes()) {
        verify_pbkdf2(password, rest)
    } else if stored.len() == LEGACY_LEN {
        let mut salt = [0u8; 4];
        salt.copy_from_slice(&stored[..4]);
        ct_eq(&hash_legacy(password, &salt), stored)
    } else {
        false
    }
}

/// Is this stored hash in the legacy 36-byte format (not `$1$`)?
pub fn is_legacy(stored: &[u8]) -> bool {
    !stored.starts_with(PBKDF2_PREFIX.as_bytes()) && stored.len() == LEGACY_LEN
}

fn verify_pbkdf2(password: &[u8], rest: &[u8]) -> bool {
    let mut parts = rest.split(|&b| b == b'$');
    let (Some(iter), Some(salt), Some(dk), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(iterations) = parse_iterations(iter) else {
        return false;
    };
    let (Ok(salt), Ok(dk)) = (B64.decode(salt), B64.decode(dk)) else {
        return false;
    };
    if dk.len() != PBKDF2_DK_LEN {
        return false;
    }
    ct_eq(
        &pbkdf2_sha256(password, &salt, iterations, PBKDF2_DK_LEN),
        &dk,
    )
}

/// Decimal digits only, 1..=u32::MAX.
fn parse_iterations(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse::<u32>()
        .ok()
        .filter(|&i| i >= 1)
}

fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Vec<u8> {
    let mut dk = vec![0u8; len];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut dk);
    dk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_admin_legacy_hash_of_public() {
        // emqx_admin row of the 5.x fixtures: `a468` ‖ sha256("a468" ‖ "public").
        let stored = [
            b"a468".as_slice(),
            &hex::decode("69bca477cedc492f4f40621c19d7b8ebbf976799f72c68862877282b4e77d8d8")
                .unwrap(),
        ]
        .concat();
        assert_eq!(hash_legacy(b"public", b"a468"), stored);
        assert!(verify(b"public", &stored));
        assert!(!verify(b"Public", &stored));
        assert!(is_legacy(&stored));
        assert!(!verify(b"public", &stored[..35]));
    }

    #[test]
    fn spec_vector_password_pbkdf2() {
        let expected =
            "$1$600000$AAAAAAAAAAAAAAAAAAAAAA$+Bwxm9XRCDMG7TZwQAF5qmfNaLlE1kd/looFdi4W8Is";
        // 600000 iterations are slow in debug builds: hash once, verification is tested elsewhere.
        assert_eq!(
            hash_pbkdf2(b"public", PASSWORD_ITERATIONS, &[0; 16]),
            expected
        );
        assert!(!is_legacy(expected.as_bytes()));
    }

    #[test]
    fn spec_vector_api_secret_pbkdf2() {
        let expected = "$1$1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA";
        assert_eq!(
            hash_pbkdf2(b"secret", API_SECRET_ITERATIONS, &[0; 16]),
            expected
        );
        assert!(verify(b"secret", expected.as_bytes()));
        assert!(!verify(b"secreT", expected.as_bytes()));
        // Padded base64 is read too.
        let padded = "$1$1$AAAAAAAAAAAAAAAAAAAAAA==$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA=";
        assert!(verify(b"secret", padded.as_bytes()));
    }

    #[test]
    fn new_hashes_verify() {
        let legacy = new_legacy(b"pw");
        assert_eq!(legacy.len(), LEGACY_LEN);
        assert!(legacy[..4]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert!(verify(b"pw", &legacy));
        assert!(!verify(b"pW", &legacy));
        let new = new_pbkdf2(b"pw", 3);
        assert!(new.starts_with("$1$3$"));
        assert!(verify(b"pw", new.as_bytes()));
        assert!(!verify(b"px", new.as_bytes()));
    }

    #[test]
    fn malformed_hashes_fail() {
        let good = "$1$1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA";
        for bad in [
            "",
            "$1$",
            "$1$1$AAAAAAAAAAAAAAAAAAAAAA",
            "$1$0$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA",
            "$1$-1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA",
            "$1$+1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA",
            "$1$99999999999$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA",
            "$1$1$AAAA*AAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA",
            "$1$1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJ",
            "$1$1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA$",
            "$2$1$AAAAAAAAAAAAAAAAAAAAAA$oPDmF0HDSqNied2KQRxsomqEzihKmDtDunnKuopfJtA",
        ] {
            assert!(!verify(b"secret", bad.as_bytes()), "{bad:?}");
        }
        assert!(verify(b"secret", good.as_bytes()));
        // A 36-byte `$1$…` string is parsed as `$1$`, not as legacy.
        let tricky = hash_legacy(b"x", b"$1$1");
        assert!(!verify(b"x", &tricky));
    }
}
