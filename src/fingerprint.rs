//! Stable content fingerprints (64-bit FNV-1a): the ETags of the embedded web assets, and the
//! analysis an on-disk index was built with. Stable across builds and platforms, unlike std's
//! hashers; not for security.

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_parts(&[bytes])
}

/// 64-bit FNV-1a of several byte strings, each followed by a zero byte so that ("ab", "c") and
/// ("a", "bc") differ.
pub fn fnv1a_parts(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(&[0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_content_and_its_parts() {
        assert_eq!(fnv1a_parts(&[]), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b"abc"), fnv1a(b"abc"));
        assert_ne!(fnv1a_parts(&[b"ab", b"c"]), fnv1a_parts(&[b"a", b"bc"]));
    }
}
