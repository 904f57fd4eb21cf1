//! The monitor service's errors and their one mapping to the API error shape.

use clientstor_http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

impl From<clientstor_db::PoolError> for MonitorError {
    fn from(e: clientstor_db::PoolError) -> Self {
        MonitorError::Unavailable(e.to_string())
    }
}

impl From<MonitorError> for ApiError {
    fn from(error: MonitorError) -> Self {
        match error {
            MonitorError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            MonitorError::Database(diesel::result::Error::NotFound) => ApiError::not_found(),
            MonitorError::Database(e) => ApiError::internal(e),
        }
    }
}
