//! Envelope encryption for secrets at rest (vault passwords and OTP secrets, RMM credentials).
//!
//! - A master key (32 bytes, from configuration) wraps per-organization data keys.
//! - Data keys are versioned; every ciphertext starts with the version of the key that sealed
//!   it, so old ciphertexts keep opening while a rotation re-encrypts them.
//! - AES-256-GCM with a random 96-bit nonce. The associated data binds the organization, the
//!   record and the field: a ciphertext copied to another row, field or organization fails to
//!   open instead of yielding another secret.

mod keys;
mod sealed;

pub use keys::{DataKey, MasterKey, WrappedKey};
pub use sealed::{Binding, key_version, open, seal};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes of base64 (standard or URL-safe alphabet)")]
    BadMasterKey,
    #[error("the ciphertext is malformed")]
    Malformed,
    #[error("the ciphertext does not open with this key for this record and field")]
    Rejected,
    #[error("random number generator failed")]
    Random,
}
