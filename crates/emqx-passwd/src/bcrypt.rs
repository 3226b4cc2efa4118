//! bcrypt as EMQX's `erlang-bcrypt` NIF computes it (OpenBSD `bcrypt.c`, quirks included).
//!
//! * New salts are `$2a$NN$` + 22 chars (the NIF's `encode_salt` always writes minor `a`).
//! * `hashpw(Password, Salt)` takes any string starting with a 29-char setting, so a stored
//!   hash serves as its own salt; the output repeats the setting's minor version and cost.
//! * The key is the password up to its first NUL byte (C string), plus the terminating NUL.
//!   For `$2b$`/`$2x$`/`$2y$` the key length is capped at 72 + NUL; for `$2a$` it is
//!   `(strlen + 1) mod 256`, the historical wrap-around bug (a 255-byte password hashes
//!   like its first byte repeated).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine, GeneralPurpose, GeneralPurposeConfig};

use crate::error::PasswdError;
use crate::random::random_bytes;

/// bcrypt's base64: `./A-Za-z0-9`, no padding, trailing bits ignored on decode.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Length of a setting (`$2a$10$` + 22 salt chars).
const SETTING_LEN: usize = 29;
/// The NIF copies at most this many password bytes into its C buffer.
const NIF_PASSWORD_BUF: usize = 1024;
/// Key bytes the Blowfish key schedule consumes (18 subkeys × 4 bytes).
const KEY_SCHEDULE_BYTES: usize = 72;

/// A fresh `$2a$<rounds>$<22 chars>` salt like `bcrypt:gen_salt(Rounds)`.
pub(crate) fn gen_salt(rounds: u32) -> String {
    format!("$2a${rounds:02}${}", B64.encode(random_bytes::<16>()))
}

struct Setting {
    minor: u8,
    cost: u32,
    salt: [u8; 16],
}

fn parse_setting(setting: &[u8]) -> Result<Setting, PasswdError> {
    let bad = |reason: &str| Err(PasswdError::BadBcryptSalt(reason.to_string()));
    if setting.len() < SETTING_LEN {
        return bad("shorter than the 29 characters of `$2a$NN$` + 22-char salt");
    }
    if &setting[..2] != b"$2" || setting[3] != b'$' || setting[6] != b'$' {
        return bad("does not start with `$2<minor>$NN$`");
    }
    let minor = setting[2];
    if !matches!(minor, b'a' | b'b' | b'x' | b'y') {
        return bad("minor version is not one of a, b, x, y");
    }
    let (d1, d2) = (setting[4], setting[5]);
    if !d1.is_ascii_digit() || !d2.is_ascii_digit() {
        return bad("cost is not two decimal digits");
    }
    let cost = u32::from(d1 - b'0') * 10 + u32::from(d2 - b'0');
    if !(4..=31).contains(&cost) {
        return bad("cost is not between 04 and 31");
    }
    let mut salt = [0u8; 16];
    match B64.decode_slice(&setting[7..SETTING_LEN], &mut salt) {
        Ok(16) => {}
        _ => return bad("salt is not 22 characters of bcrypt base64"),
    }
    Ok(Setting { minor, cost, salt })
}

/// `bcrypt:hashpw(Password, Setting)`: the 60-char bcrypt string.
pub(crate) fn hashpw(password: &[u8], setting: &[u8]) -> Result<String, PasswdError> {
    let Setting { minor, cost, salt } = parse_setting(setting)?;
    let copied = &password[..password.len().min(NIF_PASSWORD_BUF)];
    let len = copied.iter().position(|&b| b == 0).unwrap_or(copied.len());
    // The C key: the password bytes followed by the terminating NUL.
    let mut key = Vec::with_capacity(len + 1);
    key.extend_from_slice(&copied[..len]);
    key.push(0);
    let key_len = if minor == b'a' {
        // `key_len = (u_int8_t)(strlen(key) + 1)`; 0 makes the key stream repeat key[0].
        ((len + 1) % 256).max(1)
    } else {
        len.min(KEY_SCHEDULE_BYTES) + 1
    };
    // The key schedule reads the key cyclically but never more than 72 bytes of it.
    let key = &key[..key_len.min(KEY_SCHEDULE_BYTES)];
    let raw = bcrypt::bcrypt(cost, salt, key);
    Ok(format!(
        "$2{}${cost:02}${}{}",
        char::from(minor),
        B64.encode(salt),
        B64.encode(&raw[..23])
    ))
}
