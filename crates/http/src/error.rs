//! The one place where errors become HTTP responses. Every non-validation error has the shape
//! `{"detail", "code", "request_id"}`; validation errors are `{"<field>": ["message", …]}`.
//! A 5xx body never carries internal text: the cause is logged with the request id instead.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;

use crate::request_id::current_request_id;

pub type ValidationErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug)]
pub enum ApiError {
    /// 400 with `{"<field>": ["message"]}`.
    Validation(ValidationErrors),
    /// 400 with a body of any shape, for example the per-item array of a bulk create.
    ValidationBody(serde_json::Value),
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    PayloadTooLarge,
    TooManyRequests {
        retry_after_seconds: u64,
    },
    /// 502: an upstream service answered badly or not at all.
    BadGateway,
    /// 503: a dependency (database pool, broker) is unavailable.
    Unavailable,
    /// 500; the cause is logged, never sent.
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = ValidationErrors::new();
        errors.insert(field.to_string(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    pub fn not_found() -> Self {
        ApiError::NotFound("Not found.".into())
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) | ApiError::ValidationBody(_) => "invalid",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "not_authenticated",
            ApiError::Forbidden(_) => "permission_denied",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::TooManyRequests { .. } => "throttled",
            ApiError::BadGateway => "bad_gateway",
            ApiError::Unavailable => "service_unavailable",
            ApiError::Internal(_) => "server_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d) => d.clone(),
            ApiError::Validation(_) | ApiError::ValidationBody(_) => "Invalid input.".into(),
            ApiError::PayloadTooLarge => "Request body is too large.".into(),
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => {
                format!(
                    "Request was throttled. Expected available in {retry_after_seconds} seconds."
                )
            }
            ApiError::BadGateway => {
                "The service behind the gateway did not answer properly.".into()
            }
            ApiError::Unavailable => "Service temporarily unavailable, try again soon.".into(),
            ApiError::Internal(_) => "A server error occurred.".into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(cause) => write!(f, "internal error: {cause}"),
            other => write!(f, "{}: {}", other.code(), other.detail()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::ValidationBody(_) | ApiError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadGateway => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request_id = current_request_id();
        if let ApiError::Internal(cause) = self {
            tracing::error!(request_id = %request_id, error = %cause, "request failed");
        }
        let mut builder = HttpResponse::build(status);
        if let ApiError::Unauthorized(_) = self {
            builder.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::TooManyRequests {
            retry_after_seconds,
        } = self
        {
            builder.insert_header(("Retry-After", retry_after_seconds.to_string()));
        }
        match self {
            ApiError::Validation(errors) => builder.json(errors),
            ApiError::ValidationBody(body) => builder.json(body),
            _ => builder.json(json!({
                "detail": self.detail(),
                "code": self.code(),
                "request_id": request_id,
            })),
        }
    }
}

/// JSON bodies that do not parse become a 400 in our shape rather than actix's plain text.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            let error = match &err {
                actix_web::error::JsonPayloadError::Overflow { .. }
                | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                    ApiError::PayloadTooLarge
                }
                actix_web::error::JsonPayloadError::ContentType => {
                    ApiError::BadRequest("Content-Type must be application/json.".into())
                }
                other => ApiError::BadRequest(format!("JSON parse error: {other}")),
            };
            error.into()
        })
}

/// Query strings that do not parse become a 400 naming the problem.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::BadRequest(format!("Invalid query string: {err}")).into()
    })
}

/// The default service: unknown paths answer in the API error shape.
pub async fn not_found_handler(_req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}
