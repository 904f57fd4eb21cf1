//! HTTP routes of rmm-sync. The gateway forwards `/api/v1/integrations/…` here with a signed
//! principal.

mod devices;
pub(crate) mod integration_input;
mod integrations;
mod runs;

use actix_web::web;
use clientstor_http::{ApiError, Principal};
use clientstor_keyring::{Keyring, KeyringCell};
use clientstor_runtime::Context;
use diesel_async::AsyncPgConnection;

use crate::db::integrations::{self as repo, IntegrationRow};

pub const VIEW: &str = "integrations_view";
pub const CONFIGURE: &str = "integrations_configure";
pub const SYNC: &str = "integrations_sync";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(KeyringCell::default()));
    // Nested paths before `{id}`.
    runs::configure(cfg);
    devices::configure(cfg);
    integrations::configure(cfg);
}

pub fn openapi_paths() -> serde_json::Value {
    clientstor_runtime::openapi::paths(vec![
        integrations::openapi_paths(),
        runs::openapi_paths(),
        devices::openapi_paths(),
    ])
}

pub(crate) fn keyring(
    cell: &KeyringCell,
    context: &Context,
) -> Result<std::sync::Arc<Keyring>, ApiError> {
    cell.get(|| crate::secrets::keyring(&context.settings))
        .map_err(ApiError::internal)
}

/// An id from the path; anything else is a 404.
pub(crate) fn path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// The integration if the caller may view it; any other id is a 404.
pub(crate) async fn visible(
    principal: &Principal,
    conn: &mut AsyncPgConnection,
    raw: &str,
) -> Result<IntegrationRow, ApiError> {
    Ok(repo::get(conn, &principal.orgs_with(VIEW), path_id(raw)?).await?)
}

pub(crate) fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
