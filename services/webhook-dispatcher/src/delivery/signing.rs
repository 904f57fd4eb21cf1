//! Webhook signatures. Receivers verify either:
//! - `webhook-signature: v1,<base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"))>`
//!   (Standard Webhooks), where the key is the base64-decoded part after `whsec_`, or the UTF-8
//!   bytes of a supplied secret without that prefix;
//! - `X-Webhook-Signature: sha256=<hex(HMAC-SHA256(secret string as stored, body))>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

pub const PREFIX: &str = "whsec_";
/// Minimum key length, in bytes, for either form of secret.
pub const MIN_KEY_BYTES: usize = 24;

/// The Standard Webhooks key bytes of a stored secret.
pub fn key_bytes(secret: &str) -> Option<Vec<u8>> {
    match secret.strip_prefix(PREFIX) {
        Some(encoded) => STANDARD
            .decode(encoded)
            .ok()
            .filter(|k| k.len() >= MIN_KEY_BYTES),
        None => Some(secret.as_bytes().to_vec()).filter(|k| k.len() >= MIN_KEY_BYTES),
    }
}

/// A new `whsec_` secret of 32 random bytes.
pub fn generate_secret() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

/// The `webhook-signature` header value.
pub fn standard_signature(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Option<String> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes(secret)?);
    let mut context = hmac::Context::with_key(&key);
    context.update(format!("{message_id}.{timestamp}.").as_bytes());
    context.update(body.as_bytes());
    Some(format!("v1,{}", STANDARD.encode(context.sign().as_ref())))
}

/// The `X-Webhook-Signature` header value.
pub fn legacy_signature(secret: &str, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(hmac::sign(&key, body.as_bytes()).as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // The example from the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let signature =
            standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn plain_secrets_use_their_bytes_and_must_be_long_enough() {
        assert_eq!(key_bytes("short"), None);
        assert_eq!(
            key_bytes("a-plain-secret-of-24-chars!"),
            Some(b"a-plain-secret-of-24-chars!".to_vec())
        );
        assert_eq!(key_bytes("whsec_!!notbase64"), None);
        let generated = generate_secret().unwrap();
        assert_eq!(key_bytes(&generated).map(|k| k.len()), Some(32));
        assert!(legacy_signature("k", "body").starts_with("sha256="));
    }
}
