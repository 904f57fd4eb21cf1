//! Fetching the feeds: NVD pages by `startIndex` with `lastModStartDate`/`lastModEndDate`
//! windows of at most 120 days, the API key in the `apiKey` header, a pause between requests
//! (NVD asks for about 6 s without a key), and a longer wait when it throttles with 403, 429
//! or 503 (it sends no `Retry-After`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clientstor_outbound::Policy;

use crate::vulns::nvd::{NvdPage, parse_page};

/// The largest page NVD serves.
pub const PAGE_SIZE: u64 = 2000;
/// NVD refuses wider last-modified windows.
pub const MAX_WINDOW_DAYS: i64 = 120;
const MAX_BODY: usize = 256 * 1024 * 1024;
const THROTTLE_RETRIES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the feed could not be reached: {0}")]
    Unreachable(String),
    #[error("the feed answered {0}")]
    Status(u16),
    #[error("the feed's answer could not be read: {0}")]
    Malformed(String),
}

pub struct FeedClient {
    client: reqwest::Client,
    policy: Arc<Policy>,
    api_key: Option<String>,
    pause: Duration,
}

impl FeedClient {
    pub fn new(
        policy: Arc<Policy>,
        timeout: Duration,
        api_key: Option<String>,
        pause: Duration,
    ) -> Result<Self, String> {
        let client = clientstor_outbound::client(policy.clone(), timeout, true)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            api_key,
            pause,
        })
    }

    async fn get(&self, url: &url::Url, nvd: bool) -> Result<bytes::Bytes, FeedError> {
        self.policy
            .check_url(url.as_str())
            .await
            .map_err(|e| FeedError::Unreachable(e.to_string()))?;
        let mut throttled = 0;
        loop {
            let mut request = self.client.get(url.clone());
            if nvd && let Some(key) = &self.api_key {
                request = request.header("apiKey", key);
            }
            if let Some(trace) = clientstor_events::trace::current() {
                request = request.header("traceparent", trace.child().header());
            }
            let response = request
                .send()
                .await
                .map_err(|e| FeedError::Unreachable(e.without_url().to_string()))?;
            let status = response.status().as_u16();
            if matches!(status, 403 | 429 | 503) && nvd && throttled < THROTTLE_RETRIES {
                throttled += 1;
                tokio::time::sleep((self.pause * 5).max(Duration::from_secs(1))).await;
                continue;
            }
            if !response.status().is_success() {
                return Err(FeedError::Status(status));
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| FeedError::Unreachable(e.without_url().to_string()))?;
            if body.len() > MAX_BODY {
                return Err(FeedError::Malformed("the answer is too large".into()));
            }
            return Ok(body);
        }
    }

    /// One NVD page at `start_index`, optionally limited to a last-modified window.
    pub async fn nvd_page(
        &self,
        base: &str,
        window: Option<(DateTime<Utc>, DateTime<Utc>)>,
        start_index: u64,
    ) -> Result<NvdPage, FeedError> {
        let mut url = url::Url::parse(base).map_err(|e| FeedError::Malformed(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("resultsPerPage", &PAGE_SIZE.to_string());
            query.append_pair("startIndex", &start_index.to_string());
            if let Some((start, end)) = window {
                let format = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string();
                query.append_pair("lastModStartDate", &format(start));
                query.append_pair("lastModEndDate", &format(end));
            }
        }
        let body = self.get(&url, true).await?;
        parse_page(&body).map_err(FeedError::Malformed)
    }

    pub async fn kev(&self, url: &str) -> Result<bytes::Bytes, FeedError> {
        let url = url::Url::parse(url).map_err(|e| FeedError::Malformed(e.to_string()))?;
        self.get(&url, false).await
    }

    /// The pause NVD asks for between requests.
    pub async fn pause(&self) {
        tokio::time::sleep(self.pause).await;
    }
}

/// Last-modified windows of at most 120 days from `since` to `until`.
pub fn windows(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = since;
    while start < until {
        let end = (start + chrono::Duration::days(MAX_WINDOW_DAYS)).min(until);
        out.push((start, end));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_never_exceed_120_days() {
        let since = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let until = DateTime::parse_from_rfc3339("2024-12-31T00:00:00Z")
            .unwrap()
            .to_utc();
        let w = windows(since, until);
        assert_eq!(w.len(), 4);
        assert!(
            w.iter()
                .all(|(a, b)| *b - *a <= chrono::Duration::days(120))
        );
        assert_eq!(w[0].0, since);
        assert_eq!(w[3].1, until);
        assert!(windows(until, until).is_empty());
    }
}
