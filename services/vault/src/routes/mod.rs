//! HTTP routes of the vault. The gateway forwards `/api/v1/passwords/…` and
//! `/api/v1/vault/…` here with a signed principal.

mod access_log;
mod breach_scan;
mod password_input;
mod passwords;
mod reveal;

use actix_web::{HttpRequest, web};
use clientstor_http::{ApiError, Principal};
use clientstor_runtime::Context;

use crate::db::access_log::Access;
use crate::db::passwords::PasswordRow;
use crate::keyring::{Keyring, KeyringCell};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(KeyringCell::default()));
    // Fixed paths before `{id}`.
    breach_scan::configure(cfg);
    access_log::configure(cfg);
    reveal::configure(cfg);
    passwords::configure(cfg);
}

pub fn openapi_paths() -> serde_json::Value {
    clientstor_runtime::openapi::paths(vec![
        passwords::openapi_paths(),
        reveal::openapi_paths(),
        access_log::openapi_paths(),
        breach_scan::openapi_paths(),
    ])
}

pub(crate) fn keyring(
    cell: &KeyringCell,
    context: &Context,
) -> Result<std::sync::Arc<Keyring>, ApiError> {
    Ok(cell.get(&context.settings)?)
}

/// Who is asking, as the access log records it; taken from the request before a transaction.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    user_id: i64,
    api_key_id: Option<i64>,
    client_address: Option<String>,
    request_id: String,
}

impl Caller {
    pub(crate) fn of(req: &HttpRequest, principal: &Principal) -> Self {
        // The gateway puts the client's address first.
        let client_address = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        Self {
            user_id: principal.uid,
            api_key_id: principal.kid,
            client_address,
            request_id: principal.rid.clone(),
        }
    }

    /// The access record of `action` on `row`.
    pub(crate) fn access(&self, row: &PasswordRow, action: &'static str) -> Access {
        Access {
            organization_id: row.organization_id,
            password_id: row.id,
            password_title: row.title.clone(),
            action,
            user_id: self.user_id,
            api_key_id: self.api_key_id,
            client_address: self.client_address.clone(),
            request_id: Some(self.request_id.clone()),
        }
    }
}

/// An id from the path; anything else is a 404.
pub(crate) fn path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}
