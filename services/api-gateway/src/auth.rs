//! Authentication of `Authorization: Bearer itdocs_live_…` and the principal forwarded to the
//! services: the organizations the key reaches (narrowed by `?organization=`), each with the
//! effective role — the user's role there capped by the key's role ceiling.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::HttpRequest;
use chrono::Utc;
use clientstor_http::{ApiError, Principal, RequestId, Role};
use ring::hmac;

use crate::db::identity;
use crate::keys;
use crate::state::Gateway;

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::Unauthorized("Authentication credentials were not provided.".into())
        })?;
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "Use the Authorization header: Bearer <API key>.".into(),
        ));
    }
    Ok(token.trim())
}

fn invalid() -> ApiError {
    ApiError::Unauthorized("Invalid API key.".into())
}

/// The effective role: the weaker of the user's role and the key's ceiling.
fn effective(membership: &str, ceiling: &str) -> Option<Role> {
    Some(Role::parse(membership)?.min(Role::parse(ceiling)?))
}

pub async fn authenticate(gateway: &Gateway, req: &HttpRequest) -> Result<Principal, ApiError> {
    let key = bearer(req)?;
    let prefix = keys::parse(key).ok_or_else(invalid)?;
    let (row, user) = identity::key_by_prefix(&gateway.context.pool, prefix)
        .await?
        .ok_or_else(invalid)?;
    let pepper: &hmac::Key = gateway.pepper(row.pepper_version).ok_or_else(invalid)?;
    if !keys::verify(pepper, key, &row.key_hash) {
        return Err(invalid());
    }
    if row.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(
            "This API key has been revoked.".into(),
        ));
    }
    if row.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::Unauthorized("This API key has expired.".into()));
    }
    if !user.is_active {
        return Err(ApiError::Unauthorized("The key's user is inactive.".into()));
    }
    let mut orgs: BTreeMap<i64, String> = identity::reachable(&gateway.context.pool, &user, &row)
        .await?
        .into_iter()
        .filter_map(|(org, role)| effective(&role, &row.role).map(|r| (org, r.name().to_string())))
        .collect();
    let mut home = orgs
        .contains_key(&row.organization_id)
        .then_some(row.organization_id);
    if let Some(selected) = selected_organization(gateway, req).await? {
        if !orgs.contains_key(&selected) {
            return Err(ApiError::Forbidden(
                "This key cannot reach that organization.".into(),
            ));
        }
        orgs.retain(|org, _| *org == selected);
        home = Some(selected);
    } else if row.scope == "single" {
        orgs.retain(|org, _| Some(*org) == home);
    }
    let roles = orgs
        .values()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|name| Role::parse(name).map(|r| (name.clone(), r.permissions())))
        .collect();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    Ok(Principal {
        uid: user.id,
        kid: Some(row.id),
        rid: request_id,
        exp: Utc::now().timestamp() + gateway.principal_ttl_seconds,
        adm: user.is_platform_admin,
        home,
        orgs,
        roles,
    })
}

use actix_web::HttpMessage as _;

/// `?organization=<id|slug|all>`; `all` (or nothing) selects every reachable organization.
async fn selected_organization(
    gateway: &Gateway,
    req: &HttpRequest,
) -> Result<Option<i64>, ApiError> {
    let value = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "organization")
        .map(|(_, v)| v.into_owned());
    match value.as_deref() {
        None | Some("") | Some("all") => Ok(None),
        Some(wanted) => match identity::find_org(&gateway.context.pool, wanted).await {
            Ok(org) => Ok(Some(org.id)),
            Err(crate::error::GatewayError::Database(diesel::result::Error::NotFound)) => Err(
                ApiError::Forbidden("This key cannot reach that organization.".into()),
            ),
            Err(e) => Err(e.into()),
        },
    }
}
