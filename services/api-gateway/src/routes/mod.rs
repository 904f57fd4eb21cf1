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

/// The gateway's own resources, for `api-gateway openapi`.
pub fn openapi_paths() -> serde_json::Value {
    use clientstor_runtime::openapi::{paths, resource};
    paths(vec![
        resource(
            "/api/v1/organizations/",
            "organization",
            "lcru",
            &["parent", "is_active", "organization"],
        ),
        resource("/api/v1/users/", "user", "lcr", &["organization"]),
        resource(
            "/api/v1/memberships/",
            "membership",
            "lcrud",
            &["user", "organization"],
        ),
        resource("/api/v1/roles/", "role", "lcrud", &[]),
        resource("/api/v1/permissions/", "permission", "l", &[]),
        resource("/api/v1/api-keys/", "API key", "lcrd", &[]),
        resource(
            "/api/v1/audit-log/",
            "audit entry",
            "l",
            &["user", "action", "created_after", "created_before"],
        ),
    ])
}
