//! Helpers the four servers share: request parsing, paging, timestamps and common answers.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

/// The location/site id the servers give a client: `client_id * 10`.
pub(super) fn location_id(client_id: u64) -> u64 {
    client_id.saturating_mul(10)
}

/// "94-40-C9-3A-55-10" → "94:40:C9:3A:55:10".
pub(super) fn colon_mac(mac: &str) -> String {
    mac.replace('-', ":")
}

fn utc(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// "2024-11-18T14:03:27Z"
pub(super) fn iso_utc(secs: i64) -> String {
    utc(secs).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// "2024-11-18T08:03:27.118-06:00": the account-local form Syncro uses.
pub(super) fn iso_local(time: DateTime<Utc>) -> String {
    let offset = FixedOffset::west_opt(6 * 3600).unwrap();
    time.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// The query's parameters, first occurrence wins; names lower-cased when `lower` (Automate).
pub(super) fn query(req: &HttpRequest, lower: bool) -> HashMap<String, String> {
    form(req.query_string().as_bytes(), lower)
}

/// A URL-encoded form, decoded.
pub(super) fn form(bytes: &[u8], lower: bool) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(bytes) {
        let key = if lower {
            key.to_ascii_lowercase()
        } else {
            key.into_owned()
        };
        map.entry(key).or_insert_with(|| value.into_owned());
    }
    map
}

/// A request parameter the server rejects: answered 400 with the message.
pub(super) struct BadRequest(pub(super) String);

impl From<BadRequest> for HttpResponse {
    fn from(BadRequest(message): BadRequest) -> Self {
        HttpResponse::BadRequest().json(json!({ "error": message }))
    }
}

/// A numeric parameter: absent → `None`, unparsable → [`BadRequest`].
pub(super) fn number<T: std::str::FromStr>(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, BadRequest> {
    match params.get(name) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| BadRequest(format!("invalid {name}: {text}"))),
    }
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive).
pub(super) fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The path below `prefix`, split into non-empty segments.
pub(super) fn segments<'a>(path: &'a str, prefix: &str) -> Option<Vec<&'a str>> {
    path.strip_prefix(prefix)
        .map(|rest| rest.split('/').filter(|s| !s.is_empty()).collect())
}

pub(super) fn too_many_requests() -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header(("Retry-After", "1"))
        .json(json!({ "error": "rate limit exceeded" }))
}

/// `after`-keyset slice of items sorted by id: ids above `after`, at most `size`.
pub(super) fn keyset(items: Vec<(u64, Value)>, after: Option<u64>, size: usize) -> Vec<Value> {
    items
        .into_iter()
        .filter(|(id, _)| after.is_none_or(|after| *id > after))
        .take(size)
        .map(|(_, item)| item)
        .collect()
}

/// Page `page` (0-based) of `size` items.
pub(super) fn slice<T: Clone>(items: &[T], page: usize, size: usize) -> Vec<T> {
    items
        .iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .cloned()
        .collect()
}
