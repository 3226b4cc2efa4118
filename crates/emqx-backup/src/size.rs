//! Byte sizes on the command line: `1048576`, `64K`, `512M`, `8G`.

/// Parses a byte count with an optional K, M, G or T suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size suffix in {s:?} (use K, M, G or T)")),
            };
            (&s[..i], shift)
        }
        _ => (s, 0),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{s:?} is not a size"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("64K"), Ok(65536));
        assert_eq!(super::parse_size("2g"), Ok(2 << 30));
        assert_eq!(super::parse_size("12"), Ok(12));
        assert!(super::parse_size("1X").is_err());
        assert!(super::parse_size("99999999999T").is_err());
    }
}
