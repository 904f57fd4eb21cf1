//! Authentication of `Authorization: Bearer itdocs_live_…` and the principal forwarded to the
//! services: the organizations the key reaches (narrowed by `?organization=`), each with the
//! effective role — the user's role there capped by the key's role ceiling.
//!
//! A resolved key (row, user, reach) is cached for at most half a second, so revocation, expiry
//! and membership changes reach every replica within a second without a query per request.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::{HttpMessage as _, HttpRequest};
use chrono::Utc;
use clientstor_http::{ApiError, Principal, RequestId, Role};

use crate::db::identity::{self, KeyRow, UserRow};
use crate::keys;
use crate::roles::{RoleRef, effective};
use crate::state::Gateway;

// Half a second: revocation and expiry reach every replica well within the promised second.
const CACHE_TTL: Duration = Duration::from_millis(500);
const CACHE_MAX: usize = 50_000;

pub struct ResolvedKey {
    at: Instant,
    pub row: KeyRow,
    pub user: UserRow,
    reach: BTreeMap<i64, RoleRef>,
}

#[derive(Default)]
pub struct KeyCache(RwLock<HashMap<String, Arc<ResolvedKey>>>);

impl KeyCache {
    fn get(&self, prefix: &str) -> Option<Arc<ResolvedKey>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(prefix)
            .filter(|k| k.at.elapsed() < CACHE_TTL)
            .cloned()
    }

    fn put(&self, prefix: &str, key: Arc<ResolvedKey>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_MAX {
            map.retain(|_, k| k.at.elapsed() < CACHE_TTL);
        }
        map.insert(prefix.to_string(), key);
    }

    /// Forgets a key at once on this replica (others follow within the TTL).
    pub fn forget(&self, prefix: &str) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(prefix);
    }
}

/// A request that passed authentication.
pub struct Authenticated {
    pub principal: Principal,
    pub key: Arc<ResolvedKey>,
}

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

async fn resolve(gateway: &Gateway, prefix: &str) -> Result<Option<Arc<ResolvedKey>>, ApiError> {
    if let Some(cached) = gateway.keys.get(prefix) {
        return Ok(Some(cached));
    }
    let Some((row, user)) = identity::key_by_prefix(&gateway.context.pool, prefix).await? else {
        return Ok(None);
    };
    let reach = identity::reachable(&gateway.context.pool, &user, &row).await?;
    let resolved = Arc::new(ResolvedKey {
        at: Instant::now(),
        row,
        user,
        reach,
    });
    gateway.keys.put(prefix, resolved.clone());
    Ok(Some(resolved))
}

pub async fn authenticate(gateway: &Gateway, req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let presented = bearer(req)?;
    let prefix = keys::parse(presented).ok_or_else(invalid)?;
    let key = resolve(gateway, prefix).await?.ok_or_else(invalid)?;
    let pepper = gateway.pepper(key.row.pepper_version).ok_or_else(invalid)?;
    if !keys::verify(pepper, presented, &key.row.key_hash) {
        return Err(invalid());
    }
    if key.row.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(
            "This API key has been revoked.".into(),
        ));
    }
    if key.row.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::Unauthorized("This API key has expired.".into()));
    }
    if !key.user.is_active {
        return Err(ApiError::Unauthorized("The key's user is inactive.".into()));
    }
    let ceiling = Role::parse(&key.row.role).unwrap_or(Role::ReadOnly);
    let mut orgs: BTreeMap<i64, String> = BTreeMap::new();
    let mut role_perms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (org, grant) in &key.reach {
        let (name, perms) = effective(grant, ceiling);
        orgs.insert(*org, name.clone());
        role_perms.entry(name).or_insert(perms);
    }
    let mut home = orgs
        .contains_key(&key.row.organization_id)
        .then_some(key.row.organization_id);
    if let Some(selected) = selected_organization(gateway, req).await? {
        if !orgs.contains_key(&selected) {
            return Err(ApiError::Forbidden(
                "This key cannot reach that organization.".into(),
            ));
        }
        orgs.retain(|org, _| *org == selected);
        home = Some(selected);
    }
    let used: BTreeSet<&String> = orgs.values().collect();
    let roles = role_perms
        .into_iter()
        .filter(|(name, _)| used.contains(name))
        .collect();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let principal = Principal {
        uid: key.user.id,
        kid: Some(key.row.id),
        rid: request_id,
        exp: Utc::now().timestamp() + gateway.principal_ttl_seconds,
        adm: key.user.is_platform_admin,
        home,
        orgs,
        roles,
    };
    Ok(Authenticated { principal, key })
}

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
