//! The Pwned Passwords range API: only the first five hex characters of the password's SHA-1
//! leave the process, with `Add-Padding: true`; suffixes are compared here. Prefix answers are
//! cached (the service itself is a CDN cache of a corpus that changes rarely).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use clientstor_outbound::Policy;

const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HibpError {
    #[error("breach service unreachable: {0}")]
    Unreachable(String),
    #[error("breach service answered {0}")]
    Status(u16),
    #[error("breach service answer is not a range list")]
    Malformed,
}

pub struct Hibp {
    base: String,
    client: reqwest::Client,
    policy: Arc<Policy>,
    ranges: moka::sync::Cache<String, Arc<HashMap<String, u64>>>,
}

/// The SHA-1 of the password, upper-case hex, split into the 5-character prefix and the rest.
pub fn split_hash(password: &[u8]) -> (String, String) {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, password);
    let hex = hex::encode_upper(digest.as_ref());
    let (prefix, suffix) = hex.split_at(5);
    (prefix.to_string(), suffix.to_string())
}

/// `SUFFIX:COUNT` lines (CRLF or LF); padding lines have count 0.
fn parse(body: &str) -> Result<HashMap<String, u64>, HibpError> {
    let mut map = HashMap::new();
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (suffix, count) = line.split_once(':').ok_or(HibpError::Malformed)?;
        let count: u64 = count.trim().parse().map_err(|_| HibpError::Malformed)?;
        if count > 0 {
            map.insert(suffix.trim().to_ascii_uppercase(), count);
        }
    }
    Ok(map)
}

impl Hibp {
    pub fn new(base: &str, policy: Arc<Policy>, timeout: Duration) -> Result<Self, String> {
        let client = clientstor_outbound::client(policy.clone(), timeout, false)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            client,
            policy,
            ranges: moka::sync::Cache::builder()
                .max_capacity(4096)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
        })
    }

    async fn range(&self, prefix: &str) -> Result<Arc<HashMap<String, u64>>, HibpError> {
        if let Some(range) = self.ranges.get(prefix) {
            return Ok(range);
        }
        let url = format!("{}/range/{prefix}", self.base);
        // IP literals never reach the guarded resolver; check the address here too.
        self.policy
            .check_url(&url)
            .await
            .map_err(|e| HibpError::Unreachable(e.to_string()))?;
        let mut request = self.client.get(&url).header("Add-Padding", "true");
        // The check's trace continues at the service, if it records W3C trace context.
        if let Some(trace) = clientstor_events::trace::current() {
            request = request.header("traceparent", trace.child().header());
        }
        let response = request
            .send()
            .await
            .map_err(|e| HibpError::Unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(HibpError::Status(response.status().as_u16()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| HibpError::Unreachable(e.without_url().to_string()))?;
        if body.len() > MAX_BODY {
            return Err(HibpError::Malformed);
        }
        let text = std::str::from_utf8(&body).map_err(|_| HibpError::Malformed)?;
        let range = Arc::new(parse(text)?);
        self.ranges.insert(prefix.to_string(), range.clone());
        Ok(range)
    }

    /// How often the password was seen in breaches (0: not found).
    pub async fn count(&self, password: &[u8]) -> Result<u64, HibpError> {
        let (prefix, suffix) = split_hash(password);
        let range = self.range(&prefix).await?;
        Ok(range.get(&suffix).copied().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_split_and_ranges_parse_with_padding() {
        let (prefix, suffix) = split_hash(b"password");
        assert_eq!(prefix, "5BAA6");
        assert_eq!(suffix, "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
        let body = "003D68EB55068C33ACE09247EE4C639306B:3\r\n\
                    1e4c9b93f3f0682250b6cf8331b7ee68fd8:10434004\r\n\
                    1E4E4C7A7A1D1E0B4AF04F2F2DC4E4D7D5A:0\r\n";
        let range = parse(body).unwrap();
        assert_eq!(range.get(&suffix), Some(&10_434_004));
        assert!(!range.contains_key("1E4E4C7A7A1D1E0B4AF04F2F2DC4E4D7D5A"));
        assert!(parse("garbage").is_err());
    }
}
