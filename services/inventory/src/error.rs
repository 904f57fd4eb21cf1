//! Inventory's errors and their one mapping to the API error shape.

use clientstor_http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// An error of a computation shared by concurrent requests.
    #[error("{0}")]
    Shared(std::sync::Arc<InventoryError>),
}

impl From<clientstor_db::PoolError> for InventoryError {
    fn from(e: clientstor_db::PoolError) -> Self {
        InventoryError::Unavailable(e.to_string())
    }
}

impl From<InventoryError> for ApiError {
    fn from(error: InventoryError) -> Self {
        match error {
            InventoryError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::Unavailable
            }
            InventoryError::Database(diesel::result::Error::NotFound) => ApiError::not_found(),
            InventoryError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) => {
                // Unique indexes are named <table>_<field>, e.g. vehicles_vin.
                let field = info
                    .constraint_name()
                    .and_then(|c| c.split_once('_').map(|(_, f)| f.to_string()))
                    .unwrap_or_else(|| "non_field_errors".into());
                ApiError::field(&field, "A record with this value already exists.")
            }
            InventoryError::Database(e) => ApiError::internal(e),
            InventoryError::Shared(e) => match &*e {
                InventoryError::Unavailable(cause) => {
                    tracing::warn!(%cause, "database unavailable");
                    ApiError::Unavailable
                }
                other => ApiError::internal(other),
            },
        }
    }
}
