//! Validation of webhook endpoint input, shared by create, replace and update.

use clientstor_http::{ApiError, ValidationErrors};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Field, Kind, Model};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::db::endpoints::NewEndpoint;
use crate::delivery::signing;

/// Headers a custom header may not set: the signature, identity and framing headers.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-signature",
    "traceparent",
    "x-webhook-event",
    "transfer-encoding",
    "connection",
];

/// The webhook endpoint representation, for the API description and the browsable forms. The
/// create and rotate-secret answers add `secret` (`WebhookWithSecret`).
pub const MODEL: Model = Model {
    name: "Webhook",
    noun: "webhook",
    about: "Webhook endpoints: URLs that receive a signed POST for every subscribed event",
    record: true,
    fields: &[
        Field::rw("name", Kind::String)
            .required()
            .about("At most 255 characters"),
        Field::rw("url", Kind::Uri).required().about(
            "Where events are POSTed; private, loopback, link-local and metadata addresses are refused unless allowed",
        ),
        Field::rw("events", Kind::Strings)
            .required()
            .about("Event names from GET /api/v1/webhooks/events/, or \"*\" for all; at least one"),
        Field::wo("secret", Kind::String).about(
            "Create only: `whsec_` plus base64, or a plain string of at least 24 characters; generated when left out. PUT and PATCH refuse it: use rotate-secret",
        ),
        Field::rw("is_active", Kind::Boolean)
            .about("`true` if not given; setting it to true again re-enables a disabled endpoint"),
        Field::rw("description", Kind::String),
        Field::rw("custom_headers", Kind::Object).about(
            "Extra request headers, name to string value; signature, identity and framing headers cannot be set",
        ),
        Field::rw("ordered", Kind::Boolean).about(
            "`false` if not given; with `true` the events about one subject are attempted in order and a failing one holds back the later ones",
        ),
        Field::ro("disabled_reason", Kind::String)
            .nullable()
            .about("Why the dispatcher disabled the endpoint (410 Gone, failing for five days)"),
        Field::ro("failing_since", Kind::DateTime)
            .nullable()
            .about("Start of the current run of failed attempts"),
    ],
    search: &["name", "url"],
};

#[derive(Debug, Default, Deserialize)]
pub struct WebhookInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub is_active: Option<bool>,
    pub description: Option<String>,
    pub custom_headers: Option<Map<String, Value>>,
    pub ordered: Option<bool>,
    pub organization: Option<i64>,
}

fn header_errors(headers: &Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    for (name, value) in headers {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            errors.push(format!("\"{name}\" is not a valid header name."));
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            errors.push(format!(
                "\"{name}\" is set by the dispatcher and cannot be overridden."
            ));
        }
        match value.as_str() {
            Some(v) if v.contains(['\r', '\n', '\0']) => {
                errors.push(format!("The value of \"{name}\" contains a line break."))
            }
            Some(_) => {}
            None => errors.push(format!("The value of \"{name}\" must be a string.")),
        }
    }
    errors
}

/// Checks every field and returns what to store; every problem is reported at once.
pub async fn validate(
    context: &Context,
    input: WebhookInput,
    organization_id: i64,
) -> Result<NewEndpoint, ApiError> {
    let mut errors = ValidationErrors::new();
    let mut add =
        |field: &str, message: String| errors.entry(field.to_string()).or_default().push(message);
    let name = input.name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 255 {
        add(
            "name",
            "This field is required (at most 255 characters).".into(),
        );
    }
    let url = input.url.unwrap_or_default();
    let policy = clientstor_outbound::Policy::from_settings(&context.settings.outbound)
        .map_err(ApiError::internal)?;
    if let Err(error) = policy.check_url(&url).await {
        add("url", error.to_string());
    }
    let events = input.events.unwrap_or_default();
    if events.is_empty() {
        add(
            "events",
            "Choose at least one event, or \"*\" for all.".into(),
        );
    }
    for event in &events {
        if event != "*" && !clientstor_events::types::is_public(event) {
            add("events", format!("\"{event}\" is not a valid event."));
        }
    }
    let custom_headers = input.custom_headers.unwrap_or_default();
    for message in header_errors(&custom_headers) {
        add("custom_headers", message);
    }
    let secret = match input.secret {
        Some(secret) => {
            if signing::key_bytes(&secret).is_none() {
                let min = signing::MIN_KEY_BYTES;
                add(
                    "secret",
                    format!("A secret is whsec_ plus base64, or at least {min} characters."),
                );
            }
            secret
        }
        None => {
            signing::generate_secret().map_err(|_| ApiError::internal("random generator failed"))?
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(NewEndpoint {
        organization_id,
        name,
        url,
        events,
        secret,
        is_active: input.is_active.unwrap_or(true),
        description: input.description.unwrap_or_default(),
        custom_headers: Value::Object(custom_headers),
        ordered: input.ordered.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_reserved_and_injected_headers() {
        let headers: Map<String, Value> = serde_json::from_str(
            r#"{"X-Tenant": "acme", "Webhook-Signature": "forged", "X-Evil": "a\r\nHost: x", "Bad Name": "v", "X-Num": 5}"#,
        )
        .unwrap();
        let errors = header_errors(&headers);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("Webhook-Signature")));
        assert!(errors.iter().any(|e| e.contains("line break")));
    }
}
