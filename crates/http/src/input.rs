//! Helpers for request bodies.

use serde::{Deserialize, Deserializer};

/// For `PATCH` fields that may be cleared: absent → `None`, `null` → `Some(None)`,
/// a value → `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "nullable")]
        serial: Option<Option<String>>,
    }

    #[test]
    fn tells_absent_from_null() {
        let absent: Patch = serde_json::from_str("{}").unwrap();
        let null: Patch = serde_json::from_str(r#"{"serial": null}"#).unwrap();
        let value: Patch = serde_json::from_str(r#"{"serial": "x"}"#).unwrap();
        assert_eq!(absent.serial, None);
        assert_eq!(null.serial, Some(None));
        assert_eq!(value.serial, Some(Some("x".into())));
    }
}
