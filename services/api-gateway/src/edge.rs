//! The edge middleware in front of every resource route: failed-authentication limit per
//! client address, authentication, per-key and per-organization rate limits, and the
//! rate-limit headers on every answer. The principal is left in the request for the handlers.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _, ResponseError as _, web};
use clientstor_http::ApiError;

use crate::auth;
use crate::browse;
use crate::limits::Bucket;
use crate::limits::gcra::{Quota, Verdict};
use crate::state::Gateway;

/// Paths served without a key: the root pages, the description, Swagger UI and anything
/// outside `/api/` (a browser's `/favicon.ico` is a 404, not a failed authentication).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/api/" | "/api" | "/api/v1/" | "/api/v1" | "/api/v1/openapi.json" | "/api/openapi.json"
    ) || path.starts_with("/api/v1/docs")
        || !path.starts_with("/api")
}

/// The database keeps no NUL characters in text; they are refused at the door, not on write.
pub const NUL_REFUSED: &str = "NUL characters (\\u0000, %00) are not accepted.";

fn has_nul(text: &str) -> bool {
    text.contains('\0') || text.to_ascii_lowercase().contains("%00")
}

/// Whether a JSON text holds a `\u0000` escape (an escaped backslash before `u0000` is not one).
pub fn has_nul_escape(body: &[u8]) -> bool {
    let mut backslashes = 0usize;
    for (i, byte) in body.iter().enumerate() {
        if *byte == b'\\' {
            backslashes += 1;
            continue;
        }
        if backslashes % 2 == 1 && body[i..].starts_with(b"u0000") {
            return true;
        }
        backslashes = 0;
    }
    body.contains(&0)
}

fn seconds(ms: f64) -> u64 {
    (ms / 1000.0).ceil().max(0.0) as u64
}

struct RateHeaders {
    key_quota: Quota,
    org_quota: Quota,
    key: Verdict,
}

impl RateHeaders {
    fn apply(&self, headers: &mut actix_web::http::header::HeaderMap) {
        let pairs = [
            (
                "ratelimit-policy",
                format!(
                    "\"key\";q={};w=60, \"organization\";q={};w=60",
                    self.key_quota.per_minute, self.org_quota.per_minute
                ),
            ),
            (
                "ratelimit",
                format!(
                    "\"key\";r={};t={}",
                    self.key.remaining,
                    seconds(self.key.reset_ms)
                ),
            ),
            ("x-ratelimit-limit", self.key_quota.per_minute.to_string()),
            ("x-ratelimit-remaining", self.key.remaining.to_string()),
            ("x-ratelimit-reset", seconds(self.key.reset_ms).to_string()),
        ];
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}

fn reject<B>(
    req: ServiceRequest,
    error: ApiError,
    headers: Option<&RateHeaders>,
) -> ServiceResponse<EitherBody<B>> {
    let mut response = error.error_response();
    if let Some(h) = headers {
        h.apply(response.headers_mut());
    }
    req.into_response(response).map_into_right_body()
}

/// Whether a path answers a page or JSON by the request's `Accept` (the resources and the root;
/// not Swagger UI, its files or the description).
fn negotiated(path: &str) -> bool {
    path.starts_with("/api") && !path.starts_with("/api/v1/docs") && !path.ends_with("openapi.json")
}

/// The edge, and for a browser the answer rendered as a page (the browsable API). A browser
/// without a key gets the page with the key form; its script re-sends with the key.
pub async fn edge<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let negotiated = negotiated(req.path());
    let mut response = answer(req, next).await?;
    // One URL, two representations: caches (and a browser's back button) must tell them apart.
    if negotiated {
        response.headers_mut().append(
            actix_web::http::header::VARY,
            HeaderValue::from_static("Accept"),
        );
    }
    Ok(response)
}

async fn answer<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if has_nul(req.query_string()) || has_nul(req.path()) {
        return Ok(reject(req, ApiError::BadRequest(NUL_REFUSED.into()), None));
    }
    // A body announced too big is refused before it is read.
    let limit = req
        .app_data::<web::Data<Gateway>>()
        .map(|g| g.max_body_bytes)
        .unwrap_or(usize::MAX);
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Ok(reject(req, ApiError::PayloadTooLarge, None));
    }
    if is_public(req.path()) || !browse::wants_html(req.request()) {
        return guard(req, next).await.map(in_error_shape);
    }
    let Some(gateway) = req.app_data::<web::Data<Gateway>>().cloned() else {
        return guard(req, next).await;
    };
    if !browse::has_credentials(req.request()) {
        let page = browse::shell(req.path(), "This page needs an API key.");
        return Ok(req.into_response(page).map_into_right_body());
    }
    // Owned copies: the request itself must not be cloned before routing.
    let (method, path, query, host) = (
        req.method().to_string(),
        req.path().to_string(),
        req.query_string().to_string(),
        req.connection_info().host().to_string(),
    );
    let answer = guard(req, next).await?;
    let status = answer.status();
    let rate_headers: Vec<_> = answer
        .headers()
        .iter()
        .filter(|(name, _)| {
            name.as_str().starts_with("x-ratelimit") || name.as_str() == "retry-after"
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let (http_request, response) = answer.into_parts();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("answer unreadable"))?;
    let mut page = browse::render(&gateway, (&method, &path, &query), &host, status, &body).await;
    for (name, value) in rate_headers {
        page.headers_mut().insert(name, value);
    }
    Ok(ServiceResponse::new(http_request, page).map_into_right_body())
}

/// The framework's own refusals (a body that cannot be read, say) in the API error shape.
fn in_error_shape<B>(response: ServiceResponse<EitherBody<B>>) -> ServiceResponse<EitherBody<B>> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match status.as_u16() {
        400 => ApiError::BadRequest("The request could not be read.".into()),
        404 => ApiError::not_found(),
        413 => ApiError::PayloadTooLarge,
        500.. => ApiError::internal("unshaped server error"),
        _ => return response,
    };
    let (request, _) = response.into_parts();
    ServiceResponse::new(request, error.error_response()).map_into_right_body()
}

async fn guard<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if is_public(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(gateway) = req.app_data::<web::Data<Gateway>>().cloned() else {
        return Ok(reject(
            req,
            ApiError::internal("gateway state missing"),
            None,
        ));
    };
    // Brute force: an address that keeps failing is refused before its keys are checked.
    let client = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let failures = Bucket {
        key: format!("authfail:{client}"),
        quota: gateway.limits.auth_failures,
    };
    if !gateway.limiter.has_capacity(&failures).await {
        gateway
            .rate_limited
            .with_label_values(&["auth_failures"])
            .inc();
        return Ok(reject(
            req,
            ApiError::TooManyRequests {
                retry_after_seconds: 60,
            },
            None,
        ));
    }
    let authenticated = match auth::authenticate(&gateway, req.request()).await {
        Ok(a) => a,
        Err(error) => {
            if let ApiError::Unauthorized(reason) = &error {
                tracing::warn!(client = %client, "authentication failed");
                gateway
                    .limiter
                    .acquire(std::slice::from_ref(&failures))
                    .await;
                // Only the public key id is kept, never what was presented as the secret.
                let presented = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let key_id = presented
                    .split_whitespace()
                    .last()
                    .and_then(crate::keys::parse)
                    .unwrap_or_default();
                crate::db::audit::record_later(
                    &gateway.context.pool,
                    crate::db::audit::Entry {
                        action: "auth.failed",
                        ip: client.clone(),
                        detail: serde_json::json!({"reason": reason, "key_id": key_id, "path": req.path()}),
                        ..Default::default()
                    },
                );
            }
            return Ok(reject(req, error, None));
        }
    };
    let key_quota = gateway.limits.key_quota(&authenticated.key.row);
    let org_quota = gateway.limits.org;
    let buckets = [
        Bucket {
            key: format!("key:{}", authenticated.key.row.id),
            quota: key_quota,
        },
        Bucket {
            key: format!("org:{}", authenticated.key.row.organization_id),
            quota: org_quota,
        },
    ];
    let verdicts = gateway.limiter.acquire(&buckets).await;
    let headers = RateHeaders {
        key_quota,
        org_quota,
        key: verdicts[0],
    };
    if let Some((index, denied)) = verdicts.iter().enumerate().find(|(_, v)| !v.allowed) {
        let scope = if index == 0 { "key" } else { "organization" };
        gateway.rate_limited.with_label_values(&[scope]).inc();
        let retry_after_seconds = seconds(denied.retry_after_ms).max(1);
        tracing::info!(key_id = authenticated.key.row.id, "rate limited");
        return Ok(reject(
            req,
            ApiError::TooManyRequests {
                retry_after_seconds,
            },
            Some(&headers),
        ));
    }
    gateway.touch(&authenticated.key.row, &client);
    req.extensions_mut().insert(authenticated.principal);
    let mut response = next.call(req).await?;
    headers.apply(response.headers_mut());
    Ok(response.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_escapes_but_not_escaped_backslashes() {
        assert!(has_nul_escape(br#"{"name": "a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"name": "\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name": "\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name": "u0000 \u0041"}"#));
        assert!(has_nul("search=%00") && has_nul("search=a%00b") && !has_nul("search=%0a"));
    }
}
