//! Reading typed fields out of a JSON object, collecting every problem by field name.

use chrono::NaiveDate;
use clientstor_http::{ApiError, ValidationErrors};
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
