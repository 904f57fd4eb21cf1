//! The vault's errors and their one mapping to the API error shape.

use clientstor_http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// A stored secret does not open: wrong key, moved ciphertext, or tampering.
    #[error("secret of entry {entry} does not decrypt: {cause}")]
    Undecryptable {
        entry: i64,
        cause: clientstor_crypto::CryptoError,
    },
    #[error("encryption failed: {0}")]
    Crypto(#[from] clientstor_crypto::CryptoError),
    #[error("{0}")]
    Config(String),
    #[error("keyring: {0}")]
    Keyring(#[from] clientstor_keyring::KeyringError),
}

impl From<clientstor_db::PoolError> for VaultError {
    fn from(e: clientstor_db::PoolError) -> Self {
        VaultError::Unavailable(e.to_string())
    }
}

impl From<VaultError> for ApiError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            VaultError::Database(diesel::result::Error::NotFound) => ApiError::not_found(),
            VaultError::Undecryptable { entry, cause } => {
                tracing::error!(entry, %cause, "stored secret does not decrypt");
                ApiError::Conflict(
                    "The stored secret of this entry cannot be decrypted; it may have been \
                     copied from another entry or altered."
                        .into(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}
