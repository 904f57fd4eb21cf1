//! The identity the gateway forwards to the services:
//! `X-Clientstor-Principal: <base64url(JSON)>.<base64url(HMAC-SHA256(JSON part))>`, signed with
//! the internal secret shared by all services. A service refuses resource requests whose
//! principal is missing, expired or badly signed, so a pod reached directly serves nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const HEADER: &str = "x-clientstor-principal";

pub use crate::principal_roles::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// User id.
    pub uid: i64,
    /// API key id, when the request came with a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<i64>,
    /// Request id, so logs of every service join up.
    pub rid: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Platform administrator.
    #[serde(default)]
    pub adm: bool,
    /// Where creates go when the request names no organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<i64>,
    /// Reachable organizations (after `?organization=`), each with the name of the effective role.
    pub orgs: BTreeMap<i64, String>,
    /// The permissions of each role named in `orgs`.
    pub roles: BTreeMap<String, BTreeSet<String>>,
}

impl Principal {
    pub fn reaches(&self, org: i64) -> bool {
        self.orgs.contains_key(&org)
    }

    /// Whether the principal holds `permission` in organization `org`.
    pub fn can(&self, org: i64, permission: &str) -> bool {
        self.orgs
            .get(&org)
            .and_then(|role| self.roles.get(role))
            .is_some_and(|perms| perms.contains(permission))
    }

    /// The organizations in which the principal holds `permission`, in ascending order.
    pub fn orgs_with(&self, permission: &str) -> Vec<i64> {
        self.orgs
            .keys()
            .copied()
            .filter(|org| self.can(*org, permission))
            .collect()
    }

    /// The organization a create goes to: the body's when given, else the home organization
    /// (the gateway narrows `home` to `?organization=` when the client names one). The caller
    /// must then check the permission there.
    pub fn target_org(&self, requested: Option<i64>) -> Result<i64, ApiError> {
        match requested
            .or(self.home)
            .or_else(|| self.orgs.keys().next().copied())
        {
            Some(org) if self.reaches(org) => Ok(org),
            Some(_) => Err(ApiError::field(
                "organization",
                "Unknown organization or not reachable with this key.",
            )),
            None => Err(ApiError::Forbidden(
                "This key reaches no organization.".into(),
            )),
        }
    }

    /// Requires `permission` in `org`, else 403.
    pub fn require(&self, org: i64, permission: &str) -> Result<(), ApiError> {
        if self.can(org, permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "You do not have permission to perform this action.".into(),
            ))
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrincipalError {
    #[error("malformed principal")]
    Malformed,
    #[error("bad principal signature")]
    BadSignature,
    #[error("expired principal")]
    Expired,
}

/// The HMAC key shared by the gateway (which signs) and the services (which verify).
#[derive(Clone)]
pub struct PrincipalKey(hmac::Key);

impl PrincipalKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub fn sign(&self, principal: &Principal) -> String {
        // Serializing a struct of plain maps and strings cannot fail.
        let json = serde_json::to_vec(principal).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = hmac::sign(&self.0, body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Checks the signature (constant time) before parsing anything, then the expiry.
    pub fn verify(&self, header: &str, now_unix: i64) -> Result<Principal, PrincipalError> {
        let (body, tag) = header.split_once('.').ok_or(PrincipalError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| PrincipalError::Malformed)?;
        hmac::verify(&self.0, body.as_bytes(), &tag).map_err(|_| PrincipalError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| PrincipalError::Malformed)?;
        let principal: Principal =
            serde_json::from_slice(&json).map_err(|_| PrincipalError::Malformed)?;
        if principal.exp < now_unix {
            return Err(PrincipalError::Expired);
        }
        Ok(principal)
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req))
    }
}

fn extract(req: &HttpRequest) -> Result<Principal, ApiError> {
    let Some(key) = req.app_data::<web::Data<PrincipalKey>>() else {
        return Err(ApiError::internal("PrincipalKey missing from app data"));
    };
    let Some(header) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::Unauthorized(
            "Authentication credentials were not provided.".into(),
        ));
    };
    key.verify(header, chrono::Utc::now().timestamp())
        .map_err(|error| {
            tracing::warn!(%error, "refused principal");
            ApiError::Unauthorized("Invalid or expired credentials.".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(exp: i64) -> Principal {
        let mut roles = BTreeMap::new();
        roles.insert("editor".to_string(), Role::Editor.permissions());
        Principal {
            uid: 1,
            kid: Some(2),
            rid: "r".into(),
            exp,
            adm: false,
            home: Some(10),
            orgs: BTreeMap::from([(10, "editor".to_string())]),
            roles,
        }
    }

    #[test]
    fn signs_and_verifies() {
        let key = PrincipalKey::new(b"0123456789abcdef0123456789abcdef");
        let signed = key.sign(&principal(100));
        assert_eq!(key.verify(&signed, 50).unwrap(), principal(100));
        assert!(key.verify(&signed, 50).unwrap().can(10, "assets_create"));
        assert!(!key.verify(&signed, 50).unwrap().can(10, "assets_delete"));
        assert!(!key.verify(&signed, 50).unwrap().can(11, "assets_view"));
    }

    #[test]
    fn refuses_tampered_expired_and_foreign() {
        let key = PrincipalKey::new(b"0123456789abcdef0123456789abcdef");
        let signed = key.sign(&principal(100));
        assert_eq!(key.verify(&signed, 101), Err(PrincipalError::Expired));
        let (body, tag) = signed.split_once('.').unwrap();
        let mut forged = principal(100);
        forged.adm = true;
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            key.verify(&format!("{forged_body}.{tag}"), 50),
            Err(PrincipalError::BadSignature)
        );
        let other = PrincipalKey::new(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&signed, 50), Err(PrincipalError::BadSignature));
        assert_eq!(key.verify(body, 50), Err(PrincipalError::Malformed));
        assert_eq!(key.verify("", 50), Err(PrincipalError::Malformed));
    }
}
