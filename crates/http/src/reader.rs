//! Reading typed fields out of a JSON object, collecting every problem by field name.

use crate::{ApiError, ValidationErrors};
use chrono::NaiveDate;
use serde_json::{Map, Value};

pub struct Reader<'a> {
    pub map: &'a Map<String, Value>,
    pub errors: ValidationErrors,
}

impl<'a> Reader<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            errors: ValidationErrors::new(),
        }
    }
}

impl Reader<'_> {
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    /// An optional string: absent, null or blank is `None`.
    pub fn text(&mut self, field: &str, max: usize) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.chars().count() > max {
                    self.fail(
                        field,
                        format!("Ensure this field has no more than {max} characters."),
                    );
                }
                (!s.is_empty()).then(|| s.to_string())
            }
            Some(_) => {
                self.fail(field, "Not a valid string.");
                None
            }
        }
    }

    pub fn choice(&mut self, field: &str, choices: &[&str], default: &str) -> String {
        let value = self.text(field, 50).unwrap_or_else(|| default.to_string());
        if !choices.contains(&value.as_str()) {
            self.fail(field, format!("\"{value}\" is not a valid choice."));
        }
        value
    }

    pub fn number(&mut self, field: &str, min: f64, max: f64) -> Option<f64> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(v) if (min..=max).contains(&v) => Some(v),
                _ => {
                    self.fail(
                        field,
                        format!("Ensure this value is between {min} and {max}."),
                    );
                    None
                }
            },
            Some(_) => {
                self.fail(field, "A valid number is required.");
                None
            }
        }
    }

    pub fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let text = self.text(field, 10)?;
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                self.fail(field, "Date has wrong format. Use YYYY-MM-DD.");
                None
            }
        }
    }

    /// A non-negative decimal with at most `places` decimals, from a number or a string, as an
    /// integer count of its smallest unit (`"12.5"` with 2 places is 1250).
    pub fn fixed(&mut self, field: &str, places: usize) -> Option<i64> {
        let value = match self.map.get(field) {
            None | Some(Value::Null) => return None,
            Some(value) => value,
        };
        let parsed = fixed(value, places);
        if parsed.is_none() {
            self.fail(
                field,
                format!("A positive amount with at most {places} decimal places is required."),
            );
        }
        parsed
    }

    /// A list of distinct, non-empty strings of at most 100 characters; absent is empty.
    pub fn tags(&mut self, field: &str) -> Vec<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut tags: Vec<String> = Vec::new();
                for item in items {
                    match item.as_str().map(str::trim) {
                        Some(tag) if !tag.is_empty() && tag.chars().count() <= 100 => {
                            if !tags.iter().any(|t| t == tag) {
                                tags.push(tag.to_string());
                            }
                        }
                        _ => self.fail(
                            field,
                            "Each tag is a non-empty string of at most 100 characters.",
                        ),
                    }
                }
                tags
            }
            Some(_) => {
                self.fail(field, "Expected a list of strings.");
                Vec::new()
            }
        }
    }

    /// A JSON object; absent is empty.
    pub fn object(&mut self, field: &str) -> Value {
        match self.map.get(field) {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(Value::Object(o)) => Value::Object(o.clone()),
            Some(_) => {
                self.fail(field, "Expected a JSON object.");
                Value::Null
            }
        }
    }

    /// An RFC 3339 date-time, or a date (midnight UTC).
    pub fn datetime(&mut self, field: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let text = self.text(field, 40)?;
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&text) {
            return Some(at.with_timezone(&chrono::Utc));
        }
        if let Ok(date) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            return date.and_hms_opt(0, 0, 0).map(|at| at.and_utc());
        }
        self.fail(
            field,
            "Datetime has wrong format. Use RFC 3339, e.g. 2026-01-31T12:00:00Z.",
        );
        None
    }

    pub fn boolean(&mut self, field: &str) -> bool {
        match self.map.get(field) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(field, "Must be true or false.");
                false
            }
        }
    }
}

fn fixed(value: &Value, places: usize) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || whole.len() > 15
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > places
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = 10_i64.checked_pow(u32::try_from(places).ok()?)?;
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if places == 0 {
        0
    } else {
        format!("{fraction:0<places$}").parse().ok()?
    };
    whole.checked_mul(scale)?.checked_add(fraction)
}

/// An integer count of a smallest unit shown as a decimal string (1250 with 2 places is
/// `"12.50"`).
pub fn decimal(units: i64, places: usize) -> String {
    let scale = 10_i64.pow(places as u32);
    if places == 0 {
        return units.to_string();
    }
    format!("{}.{:0places$}", units / scale, units % scale)
}

/// The body's `organization` for a create: absent or null is `None`, anything but an integer is
/// a 400 on the field.
pub fn requested_organization(map: &Map<String, Value>) -> Result<Option<i64>, ApiError> {
    match map.get("organization") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::field("organization", "A valid integer is required.")),
    }
}

/// The request body as a JSON object, or a 400.
pub fn object(value: &Value) -> Result<&Map<String, Value>, ApiError> {
    value
        .as_object()
        .ok_or_else(|| ApiError::BadRequest("Expected a JSON object.".into()))
}

/// A `PATCH` body laid over the record as the API returns it: absent fields keep their value,
/// `null` clears a nullable one.
pub fn merged(current: Value, patch: &Value) -> Result<Map<String, Value>, ApiError> {
    let mut merged = match current {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (field, value) in object(patch)? {
        merged.insert(field.clone(), value.clone());
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixed_point_amounts() {
        assert_eq!(fixed(&json!("12345.6"), 2), Some(1_234_560));
        assert_eq!(fixed(&json!(99.99), 2), Some(9_999));
        assert_eq!(fixed(&json!("3.459"), 3), Some(3_459));
        assert_eq!(fixed(&json!("1.234"), 2), None);
        assert_eq!(fixed(&json!("-5"), 2), None);
        assert_eq!(fixed(&json!(true), 2), None);
        assert_eq!(decimal(1_234_560, 2), "12345.60");
        assert_eq!(decimal(3_459, 3), "3.459");
        assert_eq!(decimal(7, 2), "0.07");
    }
}
