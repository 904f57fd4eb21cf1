use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Deserializer};

/// A setting that must never reach a log line: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Decodes a base64 (standard or URL-safe, padded or not) secret into key bytes.
    pub fn decode_base64(&self) -> Result<Vec<u8>, base64::DecodeError> {
        let trimmed = self.0.trim();
        base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(trimmed))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(secret.expose(), "hunter2-very-secret");
    }

    #[test]
    fn decodes_both_base64_alphabets() {
        assert_eq!(
            Secret::new("AAEC/w==").decode_base64().ok(),
            Some(vec![0, 1, 2, 255])
        );
        assert_eq!(
            Secret::new("AAEC_w").decode_base64().ok(),
            Some(vec![0, 1, 2, 255])
        );
        assert!(Secret::new("not base64!").decode_base64().is_err());
    }
}
