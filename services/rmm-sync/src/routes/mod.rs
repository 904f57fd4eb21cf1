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

/// The API description of every route of [`configure`].
pub fn openapi(spec: &mut clientstor_runtime::openapi::Spec) {
    integrations::openapi(spec);
    runs::openapi(spec);
    devices::openapi(spec);
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

#[cfg(test)]
mod tests {
    use clientstor_runtime::openapi::{Spec, operations};

    use crate::connectors::Provider;

    fn document() -> serde_json::Value {
        let mut spec = Spec::new();
        super::openapi(&mut spec);
        spec.document("rmm-sync")
    }

    #[test]
    fn every_route_is_described() {
        let base = "/api/v1/integrations/rmm/";
        let mut expected: Vec<(String, String)> = [
            ("GET", ""),
            ("POST", ""),
            ("GET", "{id}/"),
            ("PUT", "{id}/"),
            ("PATCH", "{id}/"),
            ("DELETE", "{id}/"),
            ("POST", "{id}/sync/"),
            ("GET", "{id}/runs/"),
            ("GET", "{id}/runs/{run_id}/"),
            ("GET", "{id}/devices/"),
            ("GET", "{id}/alerts/"),
            ("GET", "{id}/mapping/"),
            ("POST", "{id}/test/"),
        ]
        .iter()
        .map(|(method, path)| (method.to_string(), format!("{base}{path}")))
        .collect();
        expected.sort();
        assert_eq!(operations(&document()), expected);
    }

    #[test]
    fn every_reference_resolves() {
        let document = document();
        let unresolved = clientstor_runtime::openapi::unresolved_references(&document);
        assert!(unresolved.is_empty(), "{unresolved:?}");
    }

    #[test]
    fn credentials_and_regions_of_every_provider_are_described() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        let input = &schemas["RmmIntegrationInput"]["properties"];
        assert_eq!(input["credentials"]["writeOnly"], true);
        assert!(
            schemas["RmmIntegration"]["properties"]
                .get("credentials")
                .is_none()
        );
        let region = input["region"]["description"].as_str().unwrap_or_default();
        for name in Provider::ALL {
            let provider = Provider::parse(name).unwrap();
            for field in provider.credential_fields() {
                assert!(
                    schemas["RmmCredentials"]["properties"]
                        .get(*field)
                        .is_some()
                );
            }
            for (region_name, _) in provider.regions() {
                assert!(region.contains(region_name), "{region_name}");
            }
        }
    }
}
