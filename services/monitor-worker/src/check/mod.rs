//! One check of one monitor: HTTP(S), TCP connect or ICMP echo, plus the TLS certificate of
//! https monitors (read at most hourly, even when expired or untrusted).

pub mod http;
pub mod icmp;
pub mod tcp;
pub mod tls;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clientstor_outbound::Policy;

use crate::db::claims::{CheckResult, Claimed};

/// What every check needs, shared by the worker's tasks.
pub struct Checker {
    pub policy: Arc<Policy>,
    pub http: http::Clients,
    pub icmp: icmp::Pinger,
}

/// A check's raw outcome.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: bool,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

impl Checker {
    pub fn new(policy: Arc<Policy>) -> Result<Self, String> {
        Ok(Self {
            http: http::Clients::new(policy.clone())?,
            icmp: icmp::Pinger::default(),
            policy,
        })
    }

    /// The addresses `host` resolves to that the outbound policy permits.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        let addrs: Vec<IpAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .map(|a| a.ip())
            .collect();
        let permitted: Vec<IpAddr> = addrs
            .iter()
            .copied()
            .filter(|ip| self.policy.permits(*ip))
            .collect();
        if permitted.is_empty() {
            return Err(if addrs.is_empty() {
                format!("{host} has no address")
            } else {
                format!("{host} resolves to an address that outbound policy refuses")
            });
        }
        Ok(permitted)
    }

    pub async fn run(&self, monitor: &Claimed) -> CheckResult {
        let timeout =
            Duration::from_secs(u64::try_from(monitor.timeout_seconds.max(1)).unwrap_or(10));
        let started_at = Utc::now();
        let started = std::time::Instant::now();
        let outcome = match monitor.monitor_type.as_str() {
            "http" => http::check(self, monitor, timeout).await,
            "tcp" => tcp::check(self, monitor, timeout).await,
            "icmp" => icmp::check(self, monitor, timeout).await,
            other => Outcome {
                error: Some(format!("unknown monitor type {other}")),
                ..Outcome::default()
            },
        };
        let elapsed = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        // The certificate: for https monitors, hourly.
        let tls = match (&monitor.url, monitor.monitor_type.as_str()) {
            (Some(url), "http")
                if url.starts_with("https://")
                    && monitor
                        .tls_checked_at
                        .is_none_or(|at| Utc::now() - at > chrono::Duration::hours(1)) =>
            {
                tls::read(self, url, timeout).await.ok()
            }
            _ => None,
        };
        CheckResult {
            monitor_id: monitor.id,
            due_at: monitor.due_at,
            checked_at: started_at,
            ok: outcome.ok,
            response_time_ms: Some(elapsed),
            status_code: outcome.status_code,
            error: outcome.error,
            tls,
        }
    }
}

/// Whether `code` matches a list like `200-299,301,302`.
pub fn status_matches(expected: &str, code: u16) -> bool {
    expected
        .split(',')
        .map(str::trim)
        .any(|part| match part.split_once('-') {
            Some((low, high)) => match (low.trim().parse::<u16>(), high.trim().parse::<u16>()) {
                (Ok(low), Ok(high)) => (low..=high).contains(&code),
                _ => false,
            },
            None => part.parse::<u16>().is_ok_and(|c| c == code),
        })
}

/// Whether an expected-status list is well formed.
pub fn status_list_valid(expected: &str) -> bool {
    !expected.trim().is_empty()
        && expected.split(',').map(str::trim).all(|part| {
            let valid = |s: &str| {
                s.trim()
                    .parse::<u16>()
                    .is_ok_and(|c| (100..=599).contains(&c))
            };
            match part.split_once('-') {
                Some((low, high)) => valid(low) && valid(high),
                None => valid(part),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_status_lists() {
        assert!(status_matches("200-299,301", 204));
        assert!(status_matches("200-299,301", 301));
        assert!(!status_matches("200-299,301", 302));
        assert!(status_list_valid("200-399, 418"));
        assert!(!status_list_valid("200-"));
        assert!(!status_list_valid("abc"));
        assert!(!status_list_valid("99"));
    }
}
