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
/// Installs ring as the process's TLS provider if none is, so the crate works on its own.
pub fn client(
    policy: Arc<Policy>,
    timeout: Duration,
    follow_redirects: bool,
) -> Result<reqwest::Client, OutboundError> {
    client_with(policy, timeout, follow_redirects, false)
}

/// As [`client`]; `accept_invalid_certs` is for monitors told not to verify TLS (self-signed
/// appliances), never for webhooks or APIs that carry data.
pub fn client_with(
    policy: Arc<Policy>,
    timeout: Duration,
    follow_redirects: bool,
    accept_invalid_certs: bool,
) -> Result<reqwest::Client, OutboundError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let redirects = if follow_redirects {
        guarded_redirects(policy.clone())
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(redirects)
        .no_proxy()
        .danger_accept_invalid_certs(accept_invalid_certs)
        .user_agent(concat!("ClientSt0r/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(resolver::GuardedResolver::new(policy)))
        .build()
        .map_err(|e| OutboundError::Client(e.to_string()))
}

/// At most 5 redirects, to http or https only, and never to an address the policy refuses.
/// A name is checked by the guarded resolver when connecting; an address written in the URL
/// (`http://169.254.169.254/`) never reaches a resolver, so it is checked here.
fn guarded_redirects(policy: Arc<Policy>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            return attempt.error("too many redirects");
        }
        let url = attempt.url();
        if !matches!(url.scheme(), "http" | "https") {
            return attempt.error(OutboundError::InvalidUrl);
        }
        let address = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        match address {
            Some(ip) if !policy.permits(ip) => {
                attempt.error(OutboundError::Blocked(ip.to_string()))
            }
            _ => attempt.follow(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that resolves to loopback is refused when the connection is made, not only when a
    /// URL is saved: the guarded resolver drops the address, so nothing is sent.
    #[tokio::test]
    async fn connections_to_names_resolving_to_loopback_are_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let strict = Arc::new(Policy::new(false, &[]).unwrap());
        let guarded = client(strict, Duration::from_secs(2), false).unwrap();
        let error = guarded
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(
            error.is_connect() || error.to_string().contains("error sending request"),
            "{error}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !accepted.is_finished(),
            "no connection reached the listener"
        );
        accepted.abort();

        let open = Arc::new(Policy::new(true, &[]).unwrap());
        let permissive = client(open, Duration::from_secs(2), false).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let _ = permissive
            .get(format!("http://localhost:{port}/"))
            .timeout(Duration::from_millis(500))
            .send()
            .await;
        assert!(
            accepted.await.unwrap(),
            "allowed when private targets are allowed"
        );
    }
}
