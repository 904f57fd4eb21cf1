//! API keys: `itdocs_live_` + 12-character public key id + 32-character secret + 6-character
//! checksum, all base62. The checksum lets the gateway refuse a mistyped or truncated key
//! without a database lookup; the key is stored only as HMAC-SHA256 under the server pepper.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

pub const PREFIX: &str = "itdocs_live_";
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
const CHECK_LEN: usize = 6;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn random_base62(len: usize) -> Result<String, ring::error::Unspecified> {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte)?;
        // Rejection sampling keeps the alphabet uniform.
        if byte[0] < 248 {
            out.push(ALPHABET[(byte[0] % 62) as usize] as char);
        }
    }
    Ok(out)
}

fn checksum(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = vec![b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A new key: `(public key id, plaintext)`.
pub fn generate() -> Result<(String, String), ring::error::Unspecified> {
    let id = random_base62(ID_LEN)?;
    let secret = random_base62(SECRET_LEN)?;
    let body = format!("{PREFIX}{id}{secret}");
    let check = checksum(&body);
    Ok((id, format!("{body}{check}")))
}

/// The public key id of a well-formed key; `None` for anything malformed.
pub fn parse(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PREFIX)?;
    if rest.len() != ID_LEN + SECRET_LEN + CHECK_LEN
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let (body, check) = key.split_at(key.len() - CHECK_LEN);
    if checksum(body) != check {
        return None;
    }
    Some(&rest[..ID_LEN])
}

/// The stored form of a key.
pub fn hash(pepper: &hmac::Key, key: &str) -> Vec<u8> {
    hmac::sign(pepper, key.as_bytes()).as_ref().to_vec()
}

/// Constant-time comparison of a presented key with a stored hash.
pub fn verify(pepper: &hmac::Key, key: &str, stored: &[u8]) -> bool {
    hmac::verify(pepper, key.as_bytes(), stored).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        let (id, key) = generate().unwrap();
        assert!(key.starts_with(PREFIX));
        assert_eq!(parse(&key), Some(id.as_str()));
        let pepper = hmac::Key::new(hmac::HMAC_SHA256, b"pepper-pepper-pepper-pepper-1234");
        let stored = hash(&pepper, &key);
        assert!(verify(&pepper, &key, &stored));
        let other = hmac::Key::new(hmac::HMAC_SHA256, b"another-pepper-another-pepper-12");
        assert!(!verify(&other, &key, &stored));
    }

    #[test]
    fn malformed_keys_are_refused_without_lookup() {
        let (_, key) = generate().unwrap();
        let mut typo = key.clone().into_bytes();
        let i = PREFIX.len() + 20;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(parse(&String::from_utf8(typo).unwrap()), None);
        assert_eq!(parse(&key[..key.len() - 1]), None);
        assert_eq!(parse("itdocs_live_"), None);
        assert_eq!(parse("Bearer nonsense"), None);
    }
}
