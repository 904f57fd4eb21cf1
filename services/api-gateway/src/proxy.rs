//! The public edge: authenticate, then forward `/api/v1/<resource>/…` (and the `/api/<resource>/…`
//! alias) to the owning service with the signed principal.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, Principal, RequestId};

use crate::state::Gateway;

/// Headers passed through in each direction; everything else (hop-by-hop, credentials) stays.
const REQUEST_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "accept-language",
    "if-match",
    "if-none-match",
];
const RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "location",
    "etag",
    "retry-after",
    "x-ratelimit-limit",
];

/// `(canonical path, resource, client prefix)` for a path under `/api/`.
fn route(path: &str) -> Option<(String, &str, &'static str)> {
    let (rest, prefix) = match path.strip_prefix("/api/v1/") {
        Some(rest) => (rest, "/api/v1"),
        None => (path.strip_prefix("/api/")?, "/api"),
    };
    let resource = rest.split('/').next().filter(|r| !r.is_empty())?;
    Some((format!("/api/v1/{rest}"), resource, prefix))
}

pub async fn forward(
    req: HttpRequest,
    body: web::Bytes,
    gateway: web::Data<Gateway>,
    principal: web::ReqData<Principal>,
) -> Result<HttpResponse, ApiError> {
    let Some((path, resource, prefix)) = route(req.path()) else {
        return Err(ApiError::not_found());
    };
    let Some(upstream) = gateway.upstreams.get(resource) else {
        return Err(ApiError::not_found());
    };
    if body.len() > gateway.max_body_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    if crate::edge::has_nul_escape(&body) {
        return Err(ApiError::BadRequest(crate::edge::NUL_REFUSED.into()));
    }
    let mut url = format!("{upstream}{path}");
    if !req.query_string().is_empty() {
        url.push('?');
        url.push_str(req.query_string());
    }
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ApiError::BadRequest("Unsupported method.".into()))?;
    let info = req.connection_info().clone();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let mut outbound = gateway
        .client
        .request(method, &url)
        .header(
            clientstor_http::principal::HEADER,
            gateway.context.principal_key.sign(&principal),
        )
        .header(clientstor_http::request_id::HEADER, request_id)
        .header("x-forwarded-host", info.host())
        .header("x-forwarded-proto", info.scheme())
        .header("x-forwarded-prefix", prefix);
    // The trace continues in the service as a child of the gateway's hop.
    if let Some(trace) = clientstor_events::trace::current() {
        outbound = outbound.header("traceparent", trace.child().header());
    }
    // The TCP peer, not a client-supplied Forwarded header: services record it in audit logs.
    if let Some(peer) = req.peer_addr() {
        outbound = outbound.header("x-forwarded-for", peer.ip().to_string());
    }
    for name in REQUEST_HEADERS {
        if let Some(value) = req.headers().get(*name) {
            outbound = outbound.header(*name, value.as_bytes());
        }
    }
    // A connection the service closed as the request went out is tried once more on a fresh
    // one, for methods that may be repeated.
    let retry = matches!(req.method().as_str(), "GET" | "HEAD" | "PUT" | "DELETE")
        .then(|| outbound.try_clone())
        .flatten();
    let response = match outbound.body(body.clone()).send().await {
        Ok(response) => response,
        Err(error) if retry.is_some() && error.is_request() && !error.is_timeout() => {
            tracing::info!(%error, %resource, "upstream connection lost; retrying once");
            retry
                .map(|again| again.body(body))
                .ok_or(ApiError::BadGateway)?
                .send()
                .await
                .map_err(|error| {
                    tracing::warn!(%error, %resource, "upstream unreachable");
                    ApiError::BadGateway
                })?
        }
        Err(error) => {
            tracing::warn!(%error, %resource, "upstream unreachable");
            return Err(ApiError::BadGateway);
        }
    };
    let status =
        StatusCode::from_u16(response.status().as_u16()).map_err(|_| ApiError::BadGateway)?;
    let mut reply = HttpResponse::build(status);
    for name in RESPONSE_HEADERS {
        if let Some(value) = response.headers().get(*name) {
            reply.insert_header((*name, value.as_bytes()));
        }
    }
    let bytes = response.bytes().await.map_err(|_| ApiError::BadGateway)?;
    Ok(reply.body(bytes))
}

use actix_web::HttpMessage as _;

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn maps_aliases_to_v1() {
        assert_eq!(
            route("/api/v1/assets/"),
            Some(("/api/v1/assets/".into(), "assets", "/api/v1"))
        );
        assert_eq!(
            route("/api/assets/7/"),
            Some(("/api/v1/assets/7/".into(), "assets", "/api"))
        );
        assert_eq!(
            route("/api/v1/assets"),
            Some(("/api/v1/assets".into(), "assets", "/api/v1"))
        );
        assert_eq!(route("/api/"), None);
        assert_eq!(route("/other"), None);
    }
}
