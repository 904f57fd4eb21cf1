//! Outbound HTTP (webhooks, monitors, RMM, HIBP, CVE feeds) goes through one guarded client:
//! bounded time, no redirects unless asked, and private, loopback, link-local and metadata
//! addresses refused both when a URL is accepted and again when a connection is made (a DNS
//! answer that changes to a private address is caught at connect time), unless allowed by
//! `CLIENTSTOR_OUTBOUND__ALLOW_PRIVATE` or `CLIENTSTOR_OUTBOUND__ALLOWLIST`.

mod policy;
mod resolver;

use std::sync::Arc;
use std::time::Duration;

pub use policy::{OutboundError, Policy};

/// A client whose every connection passes the policy.
pub fn client(
    policy: Arc<Policy>,
    timeout: Duration,
    follow_redirects: bool,
) -> Result<reqwest::Client, OutboundError> {
    let redirects = if follow_redirects {
        reqwest::redirect::Policy::limited(5)
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(redirects)
        .no_proxy()
        .user_agent(concat!("ClientSt0r/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(resolver::GuardedResolver::new(policy)))
        .build()
        .map_err(|e| OutboundError::Client(e.to_string()))
}
