//! The gateway's errors and their one mapping to the API error shape.

use clientstor_http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Invalid(String),
}

impl From<clientstor_db::PoolError> for GatewayError {
    fn from(e: clientstor_db::PoolError) -> Self {
        GatewayError::Unavailable(e.to_string())
    }
}

impl From<GatewayError> for ApiError {
    fn from(error: GatewayError) -> Self {
        match error {
            GatewayError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            GatewayError::Database(diesel::result::Error::NotFound) => ApiError::not_found(),
            GatewayError::Database(e) => ApiError::internal(e),
            GatewayError::Invalid(message) => ApiError::BadRequest(message),
        }
    }
}
