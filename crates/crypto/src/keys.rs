//! The master key and the data keys it wraps.

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::CryptoError;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// The key-encryption key. Never stored; its fingerprint is, to know which master wrapped what.
pub struct MasterKey {
    key: LessSafeKey,
    fingerprint: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.fingerprint)
    }
}

/// A data key as stored: sealed under a master key, with that master's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub wrapped: Vec<u8>,
    pub master_fingerprint: String,
}

/// An organization's data key of one version, unwrapped, in memory only.
#[derive(Clone)]
pub struct DataKey {
    pub(crate) key: std::sync::Arc<LessSafeKey>,
    pub version: u32,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey(v{})", self.version)
    }
}

fn aes(bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::BadMasterKey)
}

pub(crate) fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// What a wrapped data key is bound to: its organization and version.
fn wrap_aad(organization_id: i64, version: u32) -> Vec<u8> {
    format!("clientstor/data-key/{organization_id}/{version}").into_bytes()
}

impl MasterKey {
    /// 32 bytes given as base64, standard or URL-safe alphabet, padded or not.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .filter(|b| b.len() == KEY_LEN)
            .ok_or(CryptoError::BadMasterKey)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::BadMasterKey);
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        Ok(Self {
            key: aes(bytes)?,
            fingerprint: hex::encode(&digest.as_ref()[..8]),
        })
    }

    /// A short stable id of this master key (first 8 bytes of its SHA-256, hex).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A new random data key for the organization, and its wrapped form to store.
    pub fn new_data_key(
        &self,
        organization_id: i64,
        version: u32,
    ) -> Result<(DataKey, WrappedKey), CryptoError> {
        let raw = random::<KEY_LEN>()?;
        let wrapped = self.wrap(organization_id, version, &raw)?;
        Ok((
            DataKey {
                key: std::sync::Arc::new(aes(&raw)?),
                version,
            },
            wrapped,
        ))
    }

    fn wrap(
        &self,
        organization_id: i64,
        version: u32,
        raw: &[u8],
    ) -> Result<WrappedKey, CryptoError> {
        let nonce = random::<NONCE_LEN>()?;
        let mut sealed = raw.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(wrap_aad(organization_id, version)),
                &mut sealed,
            )
            .map_err(|_| CryptoError::Rejected)?;
        let mut wrapped = nonce.to_vec();
        wrapped.extend_from_slice(&sealed);
        Ok(WrappedKey {
            wrapped,
            master_fingerprint: self.fingerprint.clone(),
        })
    }

    fn unwrap_raw(
        &self,
        organization_id: i64,
        version: u32,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if wrapped.len() != NONCE_LEN + KEY_LEN + AES_256_GCM.tag_len() {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Malformed)?;
        let mut buffer = sealed.to_vec();
        let raw = self
            .key
            .open_in_place(
                nonce,
                Aad::from(wrap_aad(organization_id, version)),
                &mut buffer,
            )
            .map_err(|_| CryptoError::Rejected)?;
        Ok(raw.to_vec())
    }

    /// The data key stored as `wrapped` for this organization and version.
    pub fn unwrap_key(
        &self,
        organization_id: i64,
        version: u32,
        wrapped: &[u8],
    ) -> Result<DataKey, CryptoError> {
        let raw = self.unwrap_raw(organization_id, version, wrapped)?;
        Ok(DataKey {
            key: std::sync::Arc::new(aes(&raw)?),
            version,
        })
    }

    /// Re-wraps a data key wrapped by `previous` under this master key.
    pub fn rewrap(
        &self,
        previous: &MasterKey,
        organization_id: i64,
        version: u32,
        wrapped: &[u8],
    ) -> Result<WrappedKey, CryptoError> {
        let raw = previous.unwrap_raw(organization_id, version, wrapped)?;
        self.wrap(organization_id, version, &raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_keys_parse_both_alphabets_and_only_32_bytes() {
        let bytes: Vec<u8> = (0..32).map(|i| 250 - i).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_ne!(
            standard.trim_end_matches('='),
            url_safe,
            "the alphabets differ here"
        );
        let a = MasterKey::from_base64(&standard).unwrap();
        let b = MasterKey::from_base64(&url_safe).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert_eq!(
            MasterKey::from_base64(&short).unwrap_err(),
            CryptoError::BadMasterKey
        );
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert!(!format!("{a:?}").contains(&standard));
    }

    #[test]
    fn data_keys_unwrap_only_for_their_organization_and_version_and_rewrap() {
        let old = MasterKey::from_bytes(&[7; 32]).unwrap();
        let new = MasterKey::from_bytes(&[8; 32]).unwrap();
        let (key, wrapped) = old.new_data_key(42, 1).unwrap();
        assert_eq!(wrapped.master_fingerprint, old.fingerprint());
        let sealed = crate::seal(&key, &crate::Binding::new(42, "t", 1, "f"), b"s3cret").unwrap();
        assert!(old.unwrap_key(42, 1, &wrapped.wrapped).is_ok());
        assert_eq!(
            old.unwrap_key(43, 1, &wrapped.wrapped).unwrap_err(),
            CryptoError::Rejected
        );
        assert!(old.unwrap_key(42, 2, &wrapped.wrapped).is_err());
        assert!(new.unwrap_key(42, 1, &wrapped.wrapped).is_err());
        let rewrapped = new.rewrap(&old, 42, 1, &wrapped.wrapped).unwrap();
        let again = new.unwrap_key(42, 1, &rewrapped.wrapped).unwrap();
        let opened = crate::open(&again, &crate::Binding::new(42, "t", 1, "f"), &sealed).unwrap();
        assert_eq!(opened, b"s3cret");
    }
}
