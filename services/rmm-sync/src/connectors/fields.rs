//! What the four connectors share: JSON accessors that are strict about a field's type (a
//! string field holding an object makes the record malformed) but lenient about its absence,
//! the platforms' timestamp formats, address lists, asset classes, URLs and the OAuth token call.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use super::http::{CallError, Http, Token};
use crate::device::{clean, normalise_mac};

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(path: &str, value: &Value, wanted: &str) -> String {
    format!("`{path}` is {}, not {wanted}", kind(value))
}

/// The value at a dotted `path`; `None` when a step is absent or null.
pub(super) fn at<'a>(record: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    let mut current = record;
    let mut walked = 0;
    for key in path.split('.') {
        let Value::Object(map) = current else {
            return Err(match walked {
                0 => format!("the record is {}, not an object", kind(current)),
                _ => wrong(&path[..walked - 1], current, "an object"),
            });
        };
        match map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(next) => current = next,
        }
        walked += key.len() + 1;
    }
    Ok(Some(current))
}

/// A trimmed string; empty is `None`.
pub(super) fn text(record: &Value, path: &str) -> Result<Option<String>, String> {
    match at(record, path)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(clean(Some(s))),
        Some(other) => Err(wrong(path, other, "a string")),
    }
}

/// An id sent as a string or an integer, as text.
pub(super) fn id(record: &Value, path: &str) -> Result<Option<String>, String> {
    match at(record, path)? {
        None => Ok(None),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(clean(Some(s))),
        Some(other) => Err(wrong(path, other, "a string or integer id")),
    }
}

pub(super) fn required_id(record: &Value, path: &str) -> Result<String, String> {
    id(record, path)?.ok_or_else(|| format!("`{path}` is missing"))
}

pub(super) fn flag(record: &Value, path: &str) -> Result<Option<bool>, String> {
    match at(record, path)? {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong(path, other, "a boolean")),
    }
}

/// The items of an array; absent is empty.
pub(super) fn list<'a>(record: &'a Value, path: &str) -> Result<&'a [Value], String> {
    match at(record, path)? {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong(path, other, "an array")),
    }
}

/// An array of strings; null items are skipped.
pub(super) fn texts(record: &Value, path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, item) in list(record, path)?.iter().enumerate() {
        match item {
            Value::Null => {}
            Value::String(s) => out.extend(clean(Some(s))),
            other => return Err(wrong(&format!("{path}[{i}]"), other, "a string")),
        }
    }
    Ok(out)
}

/// A number sent as a number or a numeric string; an unreadable string is `None`.
pub(super) fn number(record: &Value, path: &str) -> Result<Option<f64>, String> {
    match at(record, path)? {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => Ok(s.trim().parse().ok().filter(|n: &f64| n.is_finite())),
        Some(other) => Err(wrong(path, other, "a number")),
    }
}

/// Serials that firmware ships unset; storing them would merge unrelated devices.
pub(super) fn placeholder_serial(serial: &str) -> bool {
    const JUNK: &[&str] = &[
        "to be filled by o.e.m.",
        "system serial number",
        "default string",
        "not specified",
        "not applicable",
        "none",
        "n/a",
        "123456789",
    ];
    let lower = serial.trim().to_ascii_lowercase();
    JUNK.contains(&lower.as_str()) || lower.chars().all(|c| matches!(c, '0' | '-' | ' ' | '.'))
}

/// A serial number, placeholders dropped.
pub(super) fn serial(record: &Value, path: &str) -> Result<Option<String>, String> {
    Ok(text(record, path)?.filter(|s| !placeholder_serial(s)))
}

/// ISO-8601 with or without an offset (none = UTC), with `T` or a space, or a bare date;
/// `None` when unreadable or a "never" placeholder (`0001-01-01`, epoch 0).
pub(super) fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    read_iso(text.trim()).and_then(plausible)
}

fn read_iso(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.to_utc());
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Platforms write `0001-01-01` or `0` for "never"; that is no date.
fn plausible(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (t.timestamp() > 86_400).then_some(t)
}

fn from_epoch(value: f64, per_second: f64) -> Option<DateTime<Utc>> {
    let micros = (value * 1_000_000.0 / per_second).round();
    if !micros.is_finite() || micros.abs() > 9.0e18 {
        return None;
    }
    plausible(DateTime::from_timestamp_micros(micros as i64)?)
}

/// An ISO-8601 string.
pub(super) fn iso(record: &Value, path: &str) -> Result<Option<DateTime<Utc>>, String> {
    match text(record, path)? {
        None => Ok(None),
        Some(s) => match read_iso(&s) {
            Some(t) => Ok(plausible(t)),
            None => Err(format!("`{path}` is not a date: {s:?}")),
        },
    }
}

/// An epoch number in `per_second` units (1000 = milliseconds), a numeric string, or ISO.
fn epoch(record: &Value, path: &str, per_second: f64) -> Result<Option<DateTime<Utc>>, String> {
    match at(record, path)? {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().and_then(|v| from_epoch(v, per_second))),
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(v) => Ok(from_epoch(v, per_second)),
            Err(_) => iso(record, path),
        },
        Some(other) => Err(wrong(path, other, "a date")),
    }
}

/// Datto: epoch milliseconds (or a date string, as its Swagger says).
pub(super) fn epoch_ms(record: &Value, path: &str) -> Result<Option<DateTime<Utc>>, String> {
    epoch(record, path, 1000.0)
}

/// NinjaOne: epoch seconds with a fraction.
pub(super) fn epoch_secs(record: &Value, path: &str) -> Result<Option<DateTime<Utc>>, String> {
    epoch(record, path, 1.0)
}

/// Adds the addresses in `text` (comma separated) that identify the device: no link-local
/// (169.254/16, fe80::/10), loopback or unspecified address, no duplicates.
pub(super) fn push_ip(list: &mut Vec<String>, text: &str) {
    for part in text.split([',', ';']) {
        let part = part.trim();
        let bare = part.split_once('%').map_or(part, |(ip, _zone)| ip);
        let Ok(ip) = bare.parse::<IpAddr>() else {
            continue;
        };
        let usable = match ip {
            IpAddr::V4(v4) => !(v4.is_link_local() || v4.is_loopback() || v4.is_unspecified()),
            IpAddr::V6(v6) => {
                !((v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_loopback() || v6.is_unspecified())
            }
        };
        let ip = ip.to_string();
        if usable && !list.contains(&ip) {
            list.push(ip);
        }
    }
}

/// Adds the normalised MACs in `text` (comma separated), no duplicates.
pub(super) fn push_mac(list: &mut Vec<String>, text: &str) {
    for mac in text.split([',', ';']).filter_map(normalise_mac) {
        if !list.contains(&mac) {
            list.push(mac);
        }
    }
}

/// Inventory's asset type for a platform's free-text class; unknown classes are `other`.
pub(super) fn asset_class(class: &str) -> Option<String> {
    let class = class.trim().to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| class.contains(w));
    let kind = if class.is_empty() || class == "unknown" {
        return None;
    } else if has(&["laptop", "notebook", "portable"]) {
        "laptop"
    } else if has(&["virtual", "vm guest"]) {
        "virtual_machine"
    } else if has(&["server", "esxi", "hypervisor"]) {
        "server"
    } else if has(&["desktop", "tower", "all in one", "mini pc"]) {
        "desktop"
    } else if has(&["workstation"]) {
        "workstation"
    } else if has(&["mobile", "phone", "tablet", "android", "ios"]) {
        "mobile"
    } else if has(&["printer"]) {
        "printer"
    } else if has(&["switch"]) {
        "switch"
    } else if has(&["router"]) {
        "router"
    } else if has(&["firewall"]) {
        "firewall"
    } else {
        "other"
    };
    Some(kind.to_string())
}

/// `base` + `path`, then `segments` (each percent-encoded, for ids) and the query.
pub(super) fn endpoint(
    base: &str,
    path: &str,
    segments: &[&str],
    query: &[(&str, &str)],
) -> Result<Url, CallError> {
    let invalid = || CallError::Transport("the integration's base URL is not a valid URL".into());
    let mut url =
        Url::parse(&format!("{}{path}", base.trim_end_matches('/'))).map_err(|_| invalid())?;
    if !segments.is_empty() {
        url.path_segments_mut()
            .map_err(|()| invalid())?
            .extend(segments);
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// The credential `field`, refused early when empty so no request goes out without it.
pub(super) fn credential(
    credentials: &super::Credentials,
    field: &str,
) -> Result<String, CallError> {
    match credentials.get(field).trim() {
        "" => Err(CallError::Unauthorized(format!(
            "the `{field}` credential is empty"
        ))),
        value => Ok(value.to_string()),
    }
}

/// A token request the platform turned down (400 `invalid_grant`/`invalid_client` included)
/// is a credentials problem; only the OAuth error code is kept from the answer.
pub(super) fn refused_login(error: CallError) -> CallError {
    match error {
        CallError::Status {
            status: status @ (400 | 401 | 403),
            detail,
        } => {
            let code = serde_json::from_str::<Value>(&detail)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(str::to_string))
                .filter(|c| {
                    c.len() <= 40 && c.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            CallError::Unauthorized(match code {
                Some(code) => format!("the token request was answered {status} {code}"),
                None => format!("the token request was answered {status}"),
            })
        }
        other => other,
    }
}

/// POSTs an OAuth form to `url` (with HTTP Basic client credentials when given) and reads
/// `access_token` and `expires_in` from the answer.
pub(super) async fn oauth_token(
    http: &Http,
    url: &Url,
    form: &str,
    basic: Option<(&str, &str)>,
) -> Result<Token, CallError> {
    let answer = http
        .send(|client| {
            let request = client
                .post(url.as_str())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ACCEPT, "application/json")
                .body(form.to_string());
            match basic {
                Some((user, password)) => request.basic_auth(user, Some(password)),
                None => request,
            }
        })
        .await
        .map_err(refused_login)?;
    bearer(&answer.json()?)
}

/// Longest token lifetime believed: a huge `expires_in` would overflow `Instant` arithmetic.
pub(super) const LONGEST_TOKEN: u64 = 30 * 86_400;

/// The token in an OAuth answer; without `expires_in` it is assumed to last an hour.
pub(super) fn bearer(body: &Value) -> Result<Token, CallError> {
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(CallError::Unauthorized(
            "the token answer held no access token".into(),
        ));
    }
    let seconds = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(Token::expiring_in(
        token.to_string(),
        seconds.unwrap_or(3600).clamp(60, LONGEST_TOKEN),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessors_are_strict_about_type_and_lenient_about_absence() {
        let v = json!({"a": {"b": "  x "}, "n": null, "o": {"k": 1}, "i": 7, "f": 1.5, "l": ["q", null]});
        assert_eq!(text(&v, "a.b").unwrap().as_deref(), Some("x"));
        assert_eq!(text(&v, "n").unwrap(), None);
        assert_eq!(text(&v, "missing.deeper").unwrap(), None);
        assert_eq!(text(&v, "o").unwrap_err(), "`o` is an object, not a string");
        assert_eq!(
            text(&v, "a.b.c").unwrap_err(),
            "`a.b` is a string, not an object"
        );
        assert_eq!(id(&v, "i").unwrap().as_deref(), Some("7"));
        assert!(id(&v, "f").is_err());
        assert!(required_id(&v, "n").is_err());
        assert_eq!(texts(&v, "l").unwrap(), vec!["q"]);
        assert!(texts(&v, "o").is_err());
    }

    #[test]
    fn timestamps_in_every_platform_format() {
        let v = json!({
            "ms": 1731938607000i64, "ms_text": "1731938607000", "ms_iso": "2024-11-18T14:03:27Z",
            "secs": 1731938607.214, "naive": "2024-11-18T14:03:27", "offset": "2024-11-18T08:03:27.118-06:00",
            "ticks": "2024-11-18T14:03:27.1234567", "never": "0001-01-01T00:00:00", "bad": "yesterday",
            "zero": 0, "obj": {}
        });
        let want = DateTime::from_timestamp(1731938607, 0).unwrap();
        assert_eq!(epoch_ms(&v, "ms").unwrap(), Some(want));
        assert_eq!(epoch_ms(&v, "ms_text").unwrap(), Some(want));
        assert_eq!(epoch_ms(&v, "ms_iso").unwrap(), Some(want));
        assert_eq!(
            epoch_secs(&v, "secs").unwrap().unwrap().timestamp_millis(),
            1731938607214
        );
        assert_eq!(iso(&v, "naive").unwrap(), Some(want));
        assert_eq!(
            iso(&v, "offset").unwrap().unwrap().timestamp_millis(),
            1731938607118
        );
        assert_eq!(iso(&v, "ticks").unwrap().unwrap().timestamp(), 1731938607);
        assert_eq!(iso(&v, "never").unwrap(), None);
        assert_eq!(epoch_ms(&v, "zero").unwrap(), None);
        assert!(iso(&v, "bad").is_err());
        assert!(epoch_ms(&v, "obj").is_err());
    }

    #[test]
    fn addresses_skip_link_local_and_duplicates() {
        let mut ips = Vec::new();
        for ip in [
            "10.0.0.5",
            "169.254.3.4",
            "fe80::1c2d:3e4f%7",
            "10.0.0.5",
            "2001:db8::1",
            "junk",
        ] {
            push_ip(&mut ips, ip);
        }
        assert_eq!(ips, vec!["10.0.0.5", "2001:db8::1"]);
        let mut macs = Vec::new();
        push_mac(&mut macs, "94-40-C9-3A-55-10, 94:40:c9:3a:55:10");
        assert_eq!(macs, vec!["94:40:c9:3a:55:10"]);
    }

    #[test]
    fn placeholders_classes_and_urls() {
        for junk in [
            "To be filled by O.E.M.",
            "System Serial Number",
            "Default string",
            "0",
            "0000-0000",
        ] {
            assert!(placeholder_serial(junk), "{junk}");
        }
        assert!(!placeholder_serial("MXL1234ABC"));
        assert_eq!(asset_class("Laptop").as_deref(), Some("laptop"));
        assert_eq!(asset_class("ESXi Host").as_deref(), Some("server"));
        assert_eq!(asset_class("Network Device").as_deref(), Some("other"));
        assert_eq!(asset_class("Unknown"), None);
        let url = endpoint(
            "https://h:8443/",
            "/api/v2/audit/device",
            &["a b/c"],
            &[("max", "5")],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://h:8443/api/v2/audit/device/a%20b%2Fc?max=5"
        );
    }

    #[test]
    fn oauth_answers_and_refusals() {
        assert!(bearer(&json!({"access_token": "t", "expires_in": 3600})).is_ok());
        assert!(bearer(&json!({"access_token": "t", "expires_in": u64::MAX})).is_ok());
        assert!(matches!(
            bearer(&json!({"access_token": ""})),
            Err(CallError::Unauthorized(_))
        ));
        let refused = refused_login(CallError::Status {
            status: 400,
            detail: r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#.into(),
        });
        assert_eq!(
            refused,
            CallError::Unauthorized("the token request was answered 400 invalid_grant".into())
        );
    }
}
