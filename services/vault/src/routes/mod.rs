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

/// The API description of the vault.
pub fn openapi(spec: &mut clientstor_runtime::openapi::Spec) {
    passwords::openapi(spec);
    reveal::openapi(spec);
    access_log::openapi(spec);
    breach_scan::openapi(spec);
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

#[cfg(test)]
mod tests {
    use clientstor_runtime::openapi::{Spec, operations};
    use serde_json::Value;

    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(target)) => out.push(target.clone()),
                        _ => refs(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_description_covers_every_route_and_resolves() {
        let mut spec = Spec::new();
        super::openapi(&mut spec);
        let document = spec.document("vault");
        let expected: Vec<(String, String)> = [
            ("DELETE", "/api/v1/passwords/{id}/"),
            ("GET", "/api/v1/passwords/"),
            ("GET", "/api/v1/passwords/breach-scan/{id}/"),
            ("GET", "/api/v1/passwords/{id}/"),
            ("GET", "/api/v1/passwords/{id}/access-log/"),
            ("GET", "/api/v1/passwords/{id}/otp/"),
            ("GET", "/api/v1/vault/access-log/"),
            ("PATCH", "/api/v1/passwords/{id}/"),
            ("POST", "/api/v1/passwords/"),
            ("POST", "/api/v1/passwords/breach-scan/"),
            ("PUT", "/api/v1/passwords/{id}/"),
        ]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
        assert_eq!(operations(&document), expected);
        let mut targets = Vec::new();
        refs(&document, &mut targets);
        for target in targets {
            assert!(
                document.pointer(target.trim_start_matches('#')).is_some(),
                "{target}"
            );
        }
        let detail = &document["paths"]["/api/v1/passwords/{id}/"]["get"];
        assert!(
            detail["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "reveal" && p["schema"]["type"] == "boolean")
        );
        // Lists leave the password out; the single-entry answers carry it.
        let password = &document["components"]["schemas"]["Password"];
        assert!(password["properties"].get("password").is_none());
        assert_eq!(
            document["components"]["schemas"]["PasswordInput"]["properties"]["password"]["writeOnly"],
            true
        );
        assert!(
            document["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|t| t["name"] == "vault"))
        );
    }

    /// Every documented operation reaches a handler (no 404 or 405 from the router: without a
    /// principal the handlers refuse before doing anything), and no other method of a
    /// documented path does.
    #[actix_web::test]
    async fn the_router_serves_exactly_the_documented_methods() {
        let mut spec = Spec::new();
        super::openapi(&mut spec);
        clientstor_testkit::routes::assert_router_matches(
            super::configure,
            &spec.document("vault"),
        )
        .await;
    }
}
