//! HTTP(S) checks: method, expected status codes, optional keyword in the first MiB of the body.

use std::sync::Arc;
use std::time::Duration;

use clientstor_outbound::Policy;

use super::{Checker, Outcome, status_matches};
use crate::db::claims::Claimed;

/// Responses are read up to this size for the keyword; the rest is not downloaded.
const BODY_CAP: usize = 1024 * 1024;

/// One guarded client per (follow redirects, verify TLS) combination.
pub struct Clients {
    clients: [reqwest::Client; 4],
}

impl Clients {
    pub fn new(policy: Arc<Policy>) -> Result<Self, String> {
        let make = |follow, accept_invalid| {
            clientstor_outbound::client_with(
                policy.clone(),
                Duration::from_secs(120),
                follow,
                accept_invalid,
            )
            .map_err(|e| e.to_string())
        };
        Ok(Self {
            clients: [
                make(false, false)?,
                make(false, true)?,
                make(true, false)?,
                make(true, true)?,
            ],
        })
    }

    fn pick(&self, follow_redirects: bool, verify_tls: bool) -> &reqwest::Client {
        &self.clients[usize::from(follow_redirects) * 2 + usize::from(!verify_tls)]
    }
}

fn failed(error: String) -> Outcome {
    Outcome {
        ok: false,
        status_code: None,
        error: Some(error),
    }
}

pub async fn check(checker: &Checker, monitor: &Claimed, timeout: Duration) -> Outcome {
    let Some(url) = monitor.url.as_deref() else {
        return failed("no url".into());
    };
    // IP literals never reach the guarded resolver.
    if let Err(error) = checker.policy.check_url(url).await {
        return failed(error.to_string());
    }
    let method =
        reqwest::Method::from_bytes(monitor.http_method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let client = checker
        .http
        .pick(monitor.follow_redirects, monitor.verify_tls);
    let request = client.request(method, url).timeout(timeout);
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let error = error.without_url();
            let text = if error.is_timeout() {
                format!("timed out after {} s", timeout.as_secs())
            } else {
                let mut text = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(inner) = source {
                    text = format!("{text}: {inner}");
                    source = inner.source();
                }
                text
            };
            return failed(text);
        }
    };
    let code = response.status().as_u16();
    let mut outcome = Outcome {
        ok: status_matches(&monitor.expected_status, code),
        status_code: Some(i32::from(code)),
        error: None,
    };
    if !outcome.ok {
        outcome.error = Some(format!("unexpected status {code}"));
        return outcome;
    }
    if let Some(keyword) = monitor.keyword.as_deref().filter(|k| !k.is_empty()) {
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout(timeout, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    body.extend_from_slice(&chunk);
                    if body.len() >= BODY_CAP {
                        body.truncate(BODY_CAP);
                        break;
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(error)) => return failed(format!("body: {}", error.without_url())),
                Err(_) => return failed("body timed out".into()),
            }
        }
        if !String::from_utf8_lossy(&body).contains(keyword) {
            outcome.ok = false;
            outcome.error = Some(format!("keyword {keyword:?} not found"));
        }
    }
    outcome
}
