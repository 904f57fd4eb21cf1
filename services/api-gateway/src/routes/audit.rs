//! Writing audit entries from handlers.

use actix_web::HttpRequest;
use clientstor_http::Principal;

use crate::db::audit::{Entry, record_later};
use crate::state::Gateway;

/// Records who (principal), from where (peer address), did `action` on `object`.
pub fn audit(
    gateway: &Gateway,
    req: &HttpRequest,
    principal: &Principal,
    organization: Option<i64>,
    action: &'static str,
    object: (&'static str, i64),
    detail: serde_json::Value,
) {
    record_later(
        &gateway.context.pool,
        Entry {
            organization_id: organization,
            user_id: Some(principal.uid),
            key_id: principal.kid,
            action,
            object_type: object.0,
            object_id: object.1.to_string(),
            ip: req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            detail,
        },
    );
}
