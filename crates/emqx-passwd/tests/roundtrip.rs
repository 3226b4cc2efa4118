//! Property tests: every algorithm verifies what it hashed, rejects other passwords, and
//! nothing panics on arbitrary input.

use emqx_passwd::{
    api_key, dashboard, gen_salt, hash, hash_new, scram, verify, Algorithm, MacFun, SaltPosition,
    SimpleHash,
};
use proptest::prelude::*;
use serde_json::json;

/// Every algorithm EMQX can store users with; bcrypt at EMQX's minimum cost to stay fast.
fn all_algorithms() -> Vec<Algorithm> {
    let mut algs = Vec::new();
    for hash in [
        SimpleHash::Plain,
        SimpleHash::Md5,
        SimpleHash::Sha,
        SimpleHash::Sha256,
        SimpleHash::Sha512,
    ] {
        for salt_position in [
            SaltPosition::Prefix,
            SaltPosition::Suffix,
            SaltPosition::Disable,
        ] {
            algs.push(Algorithm::Simple {
                hash,
                salt_position,
            });
        }
    }
    for mac_fun in [
        MacFun::Md4,
        MacFun::Md5,
        MacFun::Ripemd160,
        MacFun::Sha,
        MacFun::Sha224,
        MacFun::Sha256,
        MacFun::Sha384,
        MacFun::Sha512,
    ] {
        algs.push(Algorithm::Pbkdf2 {
            mac_fun,
            iterations: 3,
            dk_length: Some(20),
        });
        if mac_fun.default_dk_length().is_some() {
            algs.push(Algorithm::Pbkdf2 {
                mac_fun,
                iterations: 2,
                dk_length: None,
            });
        }
    }
    algs.push(Algorithm::Bcrypt { salt_rounds: 5 });
    algs
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    proptest::sample::select(all_algorithms())
}

proptest! {
    // Passwords stay within 18 chars (72 UTF-8 bytes at most): bcrypt ignores bytes past 72.
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn hash_new_verifies(alg in algorithm(), pw in "[^\u{0}]{0,18}", other in "[^\u{0}]{0,18}") {
        let (password_hash, salt) = hash_new(&alg, &pw).unwrap();
        prop_assert!(verify(&alg, &pw, &password_hash, &salt));
        prop_assert_eq!(hash(&alg, &pw, if matches!(alg, Algorithm::Bcrypt { .. }) { &password_hash } else { &salt }).unwrap(), password_hash.clone());
        if other != pw {
            prop_assert!(!verify(&alg, &other, &password_hash, &salt));
        }
    }

    #[test]
    fn hex_hashes_verify_in_any_case(alg in algorithm(), pw in ".{0,20}") {
        prop_assume!(!matches!(
            alg,
            Algorithm::Bcrypt { .. } | Algorithm::Simple { hash: SimpleHash::Plain, .. }
        ));
        let (password_hash, salt) = hash_new(&alg, &pw).unwrap();
        prop_assert!(verify(&alg, &pw, password_hash.to_ascii_uppercase(), &salt));
    }

    #[test]
    fn plain_is_case_sensitive(pw in "[a-z]{1,20}") {
        let alg = Algorithm::Simple { hash: SimpleHash::Plain, salt_position: SaltPosition::Prefix };
        let (password_hash, salt) = hash_new(&alg, &pw).unwrap();
        prop_assert!(!verify(&alg, &pw, password_hash.to_ascii_uppercase(), &salt));
    }

    #[test]
    fn verify_never_panics(
        alg in algorithm(),
        pw in proptest::collection::vec(any::<u8>(), 0..80),
        stored in proptest::collection::vec(any::<u8>(), 0..80),
        salt in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        // Random bytes essentially never verify; the point is that nothing panics.
        let _ = verify(&alg, &pw, &stored, &salt);
        let _ = dashboard::verify(&pw, &stored);
        let _ = emqx_passwd::hash_bytes(&alg, &pw, &salt);
    }

    #[test]
    fn bcrypt_salt_prefixes_never_panic(
        minor in "[abxyz$]", cost in "[0-9x ]{2}", rest in "[./A-Za-z0-9*é]{0,60}", pw in ".{0,80}",
    ) {
        let salt = format!("$2{minor}${cost}${rest}");
        let alg = Algorithm::Bcrypt { salt_rounds: 5 };
        // Keep the cost low so the property stays fast.
        prop_assume!(!cost.starts_with(['1', '2', '3']) && cost != "09" && cost != "08" && cost != "07");
        let _ = hash(&alg, &pw, &salt);
        let _ = verify(&alg, &pw, &salt, "");
    }

    #[test]
    fn from_config_never_panics(
        name in "plain|md5|sha|sha256|sha512|pbkdf2|bcrypt|other",
        pos in proptest::option::of("prefix|suffix|disable|x"),
        mac in proptest::option::of("md4|md5|ripemd160|sha|sha224|sha256|sha384|sha512|x"),
        iterations in proptest::option::of(any::<i64>()),
        dk in proptest::option::of(any::<i64>()),
        rounds in proptest::option::of(any::<i64>()),
    ) {
        let cfg = json!({
            "name": name, "salt_position": pos, "mac_fun": mac,
            "iterations": iterations, "dk_length": dk, "salt_rounds": rounds,
        });
        if let Ok(alg) = Algorithm::from_config(&cfg) {
            prop_assert_eq!(Algorithm::from_config(&alg.to_config()), Ok(alg));
            if let Algorithm::Bcrypt { salt_rounds } = alg {
                prop_assert!((5..=10).contains(&salt_rounds));
            }
            let salt = gen_salt(&alg);
            prop_assert!(salt.is_empty() || salt.len() == 32 || salt.len() == 29);
        }
    }

    #[test]
    fn dashboard_formats_round_trip(pw in proptest::collection::vec(any::<u8>(), 0..40), salt in any::<[u8; 4]>(), salt16 in any::<[u8; 16]>()) {
        let legacy = dashboard::hash_legacy(&pw, &salt);
        prop_assert_eq!(legacy.len(), 36);
        if !legacy.starts_with(b"$1$") {
            prop_assert!(dashboard::verify(&pw, &legacy));
        }
        let modern = dashboard::hash_pbkdf2(&pw, 2, &salt16);
        prop_assert!(dashboard::verify(&pw, modern.as_bytes()));
        let mut other = pw.clone();
        other.push(b'!');
        prop_assert!(!dashboard::verify(&other, modern.as_bytes()));
    }

    #[test]
    fn scram_round_trip(pw in ".{0,30}", other in ".{0,30}", sha512 in any::<bool>()) {
        let alg = if sha512 { scram::Algorithm::Sha512 } else { scram::Algorithm::Sha256 };
        let user = scram::new_user(alg, 8, &pw);
        prop_assert!(scram::verify(alg, 8, &pw, &user.salt, &user.stored_key));
        if other != pw {
            prop_assert!(!scram::verify(alg, 8, &other, &user.salt, &user.stored_key));
        }
    }

    #[test]
    fn base62_is_alphanumeric(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = api_key::base62_encode(&data);
        prop_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        let groups = (data.len() * 8).div_ceil(6);
        prop_assert!(s.len() >= groups && s.len() <= 2 * groups);
    }
}
