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
            GatewayError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) => {
                // The constraint names which field clashes, e.g. organizations_name_key.
                let field = info
                    .constraint_name()
                    .and_then(|c| c.strip_suffix("_key"))
                    .and_then(|c| c.rsplit_once('_').map(|(_, f)| f.to_string()))
                    .unwrap_or_else(|| "non_field_errors".into());
                ApiError::field(&field, "A record with this value already exists.")
            }
            GatewayError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _,
            )) => ApiError::Conflict("Still in use; remove what refers to it first.".into()),
            // A NUL in a JSON string of the gateway's own resources: Postgres text cannot hold it.
            GatewayError::Database(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("0x00") =>
            {
                ApiError::BadRequest(crate::edge::NUL_REFUSED.into())
            }
            GatewayError::Database(e) => ApiError::internal(e),
            GatewayError::Invalid(message) => ApiError::BadRequest(message),
        }
    }
}
