//! The rmm service's errors and their one mapping to the API error shape.

use clientstor_http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum RmmError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("keyring: {0}")]
    Keyring(#[from] clientstor_keyring::KeyringError),
    /// Stored credentials do not open: wrong key, moved ciphertext, or tampering.
    #[error("credentials of integration {integration} do not decrypt: {cause}")]
    Undecryptable {
        integration: i64,
        cause: clientstor_crypto::CryptoError,
    },
    #[error("encryption failed: {0}")]
    Crypto(#[from] clientstor_crypto::CryptoError),
    #[error("{0}")]
    Config(String),
}

impl From<clientstor_db::PoolError> for RmmError {
    fn from(e: clientstor_db::PoolError) -> Self {
        RmmError::Unavailable(e.to_string())
    }
}

impl From<RmmError> for ApiError {
    fn from(error: RmmError) -> Self {
        match error {
            RmmError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            RmmError::Database(diesel::result::Error::NotFound) => ApiError::not_found(),
            RmmError::Undecryptable { integration, cause } => {
                tracing::error!(integration, %cause, "stored credentials do not decrypt");
                ApiError::Conflict(
                    "The stored credentials of this integration cannot be decrypted; enter them \
                     again."
                        .into(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}
