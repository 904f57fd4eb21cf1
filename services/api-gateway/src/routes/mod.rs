//! Resources the gateway serves itself; everything else under `/api/` is forwarded.

mod api_keys;
mod audit;
mod audit_log;
mod memberships;
mod organizations;
mod permissions;
mod roles;
mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    organizations::configure(cfg);
    users::configure(cfg);
    memberships::configure(cfg);
    roles::configure(cfg);
    api_keys::configure(cfg);
    permissions::configure(cfg);
    audit_log::configure(cfg);
}

/// The built-in roles, weakest last.
pub(crate) const ROLES: &[&str] = &["owner", "admin", "editor", "readonly"];

/// The API description of every route of [`configure`] (under `/api/v1/`; `/api/…` is the same
/// thing).
pub fn openapi(spec: &mut clientstor_runtime::openapi::Spec) {
    organizations::openapi(spec);
    users::openapi(spec);
    memberships::openapi(spec);
    roles::openapi(spec);
    permissions::openapi(spec);
    api_keys::openapi(spec);
    audit_log::openapi(spec);
}

/// A list that is not a plain resource list: paging and the page-error answer.
fn paged(action: clientstor_runtime::openapi::Action) -> clientstor_runtime::openapi::Action {
    use clientstor_runtime::openapi::Kind;
    action
        .query("page", Kind::Integer, "1-based")
        .query(
            "page_size",
            Kind::Integer,
            "25 by default; above 200 is served as 200",
        )
        .error("400", "A paging or filter parameter is not valid")
        .error("404", "A page past the end")
}

#[cfg(test)]
mod tests {
    use clientstor_runtime::openapi::{Spec, operations};

    fn document() -> serde_json::Value {
        let mut spec = Spec::new();
        super::openapi(&mut spec);
        spec.document("api-gateway")
    }

    #[test]
    fn every_route_is_described() {
        let mut expected: Vec<(String, String)> = [
            ("GET", "organizations/"),
            ("POST", "organizations/"),
            ("GET", "organizations/{id}/"),
            ("PATCH", "organizations/{id}/"),
            ("GET", "users/"),
            ("POST", "users/"),
            ("GET", "users/{id}/"),
            ("GET", "memberships/"),
            ("POST", "memberships/"),
            ("GET", "memberships/{id}/"),
            ("PATCH", "memberships/{id}/"),
            ("DELETE", "memberships/{id}/"),
            ("GET", "roles/"),
            ("POST", "roles/"),
            ("GET", "roles/{id}/"),
            ("PATCH", "roles/{id}/"),
            ("DELETE", "roles/{id}/"),
            ("GET", "permissions/"),
            ("GET", "api-keys/"),
            ("POST", "api-keys/"),
            ("GET", "api-keys/{id}/"),
            ("DELETE", "api-keys/{id}/"),
            ("GET", "audit-log/"),
        ]
        .iter()
        .map(|(method, path)| (method.to_string(), format!("/api/v1/{path}")))
        .collect();
        expected.sort();
        assert_eq!(operations(&document()), expected);
    }

    #[test]
    fn every_reference_resolves_and_every_resource_has_a_tag() {
        let document = document();
        let unresolved = clientstor_runtime::openapi::unresolved_references(&document);
        assert!(unresolved.is_empty(), "{unresolved:?}");
        let tags: Vec<&str> = document["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["description"].as_str().is_some_and(|d| !d.is_empty()))
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(
            tags,
            [
                "api-keys",
                "audit-log",
                "memberships",
                "organizations",
                "permissions",
                "roles",
                "users"
            ]
        );
    }

    #[test]
    fn the_plaintext_key_is_never_accepted_and_secrets_are_not_answered() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        assert!(schemas["ApiKeyInput"]["properties"].get("key").is_none());
        assert_eq!(schemas["ApiKey"]["properties"]["key"]["readOnly"], true);
        assert!(schemas["User"]["properties"].get("role").is_none());
        assert_eq!(
            schemas["UserInput"]["properties"]["role"]["writeOnly"],
            true
        );
    }
}
