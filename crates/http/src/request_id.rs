//! Every request runs inside a span carrying its request id and trace id, so every log line of
//! the request names them. The request id comes from `X-Request-Id` (set by the gateway) or is
//! generated, is echoed in the response, and is readable by the error mapper through a
//! task-local. The W3C `traceparent` is continued from the caller or started here; this hop's
//! context is current for the request (events made by it carry it on) and is returned in the
//! response's `traceparent`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument as _;

use clientstor_events::trace::{self, TraceParent};

use crate::metrics::HttpMetrics;

pub const HEADER: &str = "x-request-id";
pub const TRACEPARENT: &str = "traceparent";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The request id, as an extension on the request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The id of the request being served, or an empty string outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

fn accept_incoming(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Middleware: request id, span, one access-log line, and HTTP metrics.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accept_incoming(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let incoming = req
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse);
    let trace = incoming
        .as_ref()
        .map_or_else(TraceParent::root, TraceParent::child);
    let metrics = req.app_data::<web::Data<HttpMetrics>>().cloned();
    let service = metrics.as_ref().map_or("", |m| m.service()).to_string();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = %trace.trace_id,
        service = %service,
    );
    clientstor_telemetry::link(
        &span,
        &trace.trace_id,
        incoming.as_ref().map_or(&trace.parent_id, |i| &i.parent_id),
    );
    let started = Instant::now();
    let result = REQUEST_ID
        .scope(
            request_id.clone(),
            trace::scope(trace.clone(), next.call(req).instrument(span.clone())),
        )
        .await;
    let elapsed = started.elapsed();
    let _entered = span.enter();
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into());
            if let Some(metrics) = metrics {
                metrics.observe(&method, &route, status, elapsed);
            }
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(HEADER), value);
            }
            if let Ok(value) = HeaderValue::from_str(&trace.header()) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(TRACEPARENT), value);
            }
            tracing::info!(%method, %path, status, duration_ms = elapsed.as_millis() as u64, "request");
            Ok(response)
        }
        Err(error) => {
            tracing::warn!(%method, %path, error = %error, "request failed before a response");
            Err(error)
        }
    }
}
