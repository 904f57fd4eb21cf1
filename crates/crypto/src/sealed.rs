//! Sealed values: `[format 0x01][key version, u32 big-endian][nonce, 12][ciphertext + tag]`.

use ring::aead::{AES_256_GCM, Aad, Nonce};

use crate::keys::random;
use crate::{CryptoError, DataKey};

const FORMAT: u8 = 1;
const HEADER: usize = 1 + 4 + 12;

/// Where a sealed value belongs: organization, table, record id and field. It is the
/// associated data, so the value opens nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding(String);

impl Binding {
    pub fn new(organization_id: i64, table: &str, record_id: i64, field: &str) -> Self {
        Self(format!(
            "clientstor/{organization_id}/{table}/{record_id}/{field}"
        ))
    }
}

fn aad(binding: &Binding, version: u32) -> Vec<u8> {
    format!("{}/v{version}", binding.0).into_bytes()
}

pub fn seal(key: &DataKey, binding: &Binding, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce = random::<12>()?;
    let mut buffer = plaintext.to_vec();
    key.key
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(binding, key.version)),
            &mut buffer,
        )
        .map_err(|_| CryptoError::Rejected)?;
    let mut sealed = Vec::with_capacity(HEADER + buffer.len());
    sealed.push(FORMAT);
    sealed.extend_from_slice(&key.version.to_be_bytes());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&buffer);
    Ok(sealed)
}

/// The version of the data key that sealed `sealed`.
pub fn key_version(sealed: &[u8]) -> Result<u32, CryptoError> {
    if sealed.len() < HEADER + AES_256_GCM.tag_len() || sealed[0] != FORMAT {
        return Err(CryptoError::Malformed);
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&sealed[1..5]);
    Ok(u32::from_be_bytes(version))
}

/// The plaintext, if `sealed` was sealed by `key` for exactly this binding.
pub fn open(key: &DataKey, binding: &Binding, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key_version(sealed)? != key.version {
        return Err(CryptoError::Rejected);
    }
    let nonce =
        Nonce::try_assume_unique_for_key(&sealed[5..HEADER]).map_err(|_| CryptoError::Malformed)?;
    let mut buffer = sealed[HEADER..].to_vec();
    let plaintext = key
        .key
        .open_in_place(nonce, Aad::from(aad(binding, key.version)), &mut buffer)
        .map_err(|_| CryptoError::Rejected)?;
    Ok(plaintext.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;

    #[test]
    fn sealed_values_open_only_where_they_belong() {
        let master = MasterKey::from_bytes(&[3; 32]).unwrap();
        let (key, _) = master.new_data_key(1, 5).unwrap();
        let here = Binding::new(1, "passwords", 10, "password");
        let sealed = seal(&key, &here, b"hunter2").unwrap();
        assert_eq!(key_version(&sealed).unwrap(), 5);
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(open(&key, &here, &sealed).unwrap(), b"hunter2");
        let twice = seal(&key, &here, b"hunter2").unwrap();
        assert_ne!(sealed, twice, "a fresh nonce every time");
        for elsewhere in [
            Binding::new(2, "passwords", 10, "password"),
            Binding::new(1, "passwords", 11, "password"),
            Binding::new(1, "passwords", 10, "otp_secret"),
        ] {
            assert_eq!(
                open(&key, &elsewhere, &sealed).unwrap_err(),
                CryptoError::Rejected
            );
        }
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            open(&key, &here, &tampered).unwrap_err(),
            CryptoError::Rejected
        );
        assert_eq!(
            open(&key, &here, &sealed[..10]).unwrap_err(),
            CryptoError::Malformed
        );
        let (other, _) = master.new_data_key(1, 6).unwrap();
        assert!(open(&other, &here, &sealed).is_err());
    }
}
