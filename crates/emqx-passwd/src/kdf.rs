//! PBKDF2-HMAC over every MAC function EMQX supports.

use crate::algorithm::MacFun;

/// Fills `out` with PBKDF2-HMAC-`mac`(password, salt, iterations); 0 iterations act as 1.
pub(crate) fn pbkdf2(mac: MacFun, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    use pbkdf2::pbkdf2_hmac as p;
    match mac {
        MacFun::Md4 => p::<md4::Md4>(password, salt, iterations, out),
        MacFun::Md5 => p::<md5::Md5>(password, salt, iterations, out),
        MacFun::Ripemd160 => p::<ripemd::Ripemd160>(password, salt, iterations, out),
        MacFun::Sha => p::<sha1::Sha1>(password, salt, iterations, out),
        MacFun::Sha224 => p::<sha2::Sha224>(password, salt, iterations, out),
        MacFun::Sha256 => p::<sha2::Sha256>(password, salt, iterations, out),
        MacFun::Sha384 => p::<sha2::Sha384>(password, salt, iterations, out),
        MacFun::Sha512 => p::<sha2::Sha512>(password, salt, iterations, out),
    }
}
