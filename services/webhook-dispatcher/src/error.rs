//! The dispatcher's errors and their one mapping to the API error shape.

use clientstor_http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

impl From<clientstor_db::PoolError> for WebhookError {
    fn from(e: clientstor_db::PoolError) -> Self {
        WebhookError::Unavailable(e.to_string())
    }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            WebhookError::Database(diesel::result::Error::NotFound) => ApiError::not_found(),
            WebhookError::Database(e) => ApiError::internal(e),
        }
    }
}
