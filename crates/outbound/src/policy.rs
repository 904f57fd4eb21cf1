use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use clientstor_config::OutboundSettings;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OutboundError {
    #[error("Enter a valid http or https URL.")]
    InvalidUrl,
    #[error("The address {0} is private or reserved and not allowed.")]
    Blocked(String),
    #[error("The host {0} could not be resolved.")]
    Unresolvable(String),
    #[error("invalid setting CLIENTSTOR_OUTBOUND__ALLOWLIST: {0}")]
    BadAllowlist(String),
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Which addresses outbound calls may reach.
#[derive(Debug, Clone)]
pub struct Policy {
    allow_private: bool,
    allowlist: Vec<(IpAddr, u8)>,
}

fn parse_cidr(text: &str) -> Result<(IpAddr, u8), OutboundError> {
    let bad = || OutboundError::BadAllowlist(text.to_string());
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (
            a.parse::<IpAddr>().map_err(|_| bad())?,
            Some(b.parse::<u8>().map_err(|_| bad())?),
        ),
        None => (text.parse::<IpAddr>().map_err(|_| bad())?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    if bits > max {
        return Err(bad());
    }
    Ok((addr, bits))
}

fn in_cidr(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn v4_reserved(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata service
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 carrier-grade NAT
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || o[0] >= 240
}

fn v6_reserved(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reserved(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || first == 0x0064 // NAT64 can reach private IPv4
}

impl Policy {
    pub fn new(allow_private: bool, allowlist: &[String]) -> Result<Self, OutboundError> {
        let allowlist = allowlist
            .iter()
            .map(|c| parse_cidr(c.trim()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            allow_private,
            allowlist,
        })
    }

    pub fn from_settings(settings: &OutboundSettings) -> Result<Self, OutboundError> {
        Self::new(settings.allow_private, &settings.allowlist)
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        let reserved = match ip {
            IpAddr::V4(v4) => v4_reserved(v4),
            IpAddr::V6(v6) => v6_reserved(v6),
        };
        !reserved || self.allow_private || self.allowlist.iter().any(|net| in_cidr(ip, *net))
    }

    /// Checks a URL given by a user: http or https, a host, and every address it resolves to
    /// permitted. Called when the URL is saved; the resolver checks again at connect time.
    pub async fn check_url(&self, text: &str) -> Result<url::Url, OutboundError> {
        let url = url::Url::parse(text).map_err(|_| OutboundError::InvalidUrl)?;
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(OutboundError::InvalidUrl);
        }
        let host = url
            .host_str()
            .ok_or(OutboundError::InvalidUrl)?
            .trim_matches(['[', ']'])
            .to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return if self.permits(ip) {
                Ok(url)
            } else {
                Err(OutboundError::Blocked(ip.to_string()))
            };
        }
        let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| OutboundError::Unresolvable(host.clone()))?
            .collect();
        if addrs.is_empty() {
            return Err(OutboundError::Unresolvable(host));
        }
        match addrs.iter().find(|a| !self.permits(a.ip())) {
            Some(blocked) => Err(OutboundError::Blocked(blocked.ip().to_string())),
            None => Ok(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_private_and_metadata_unless_allowed() {
        let strict = Policy::new(false, &[]).unwrap();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !strict.permits(ip.parse().unwrap()),
                "{ip} should be refused"
            );
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(
                strict.permits(ip.parse().unwrap()),
                "{ip} should be allowed"
            );
        }
        let listed =
            Policy::new(false, &["10.0.0.0/8".to_string(), "fd00::/8".to_string()]).unwrap();
        assert!(listed.permits("10.9.9.9".parse().unwrap()));
        assert!(listed.permits("fd12::1".parse().unwrap()));
        assert!(!listed.permits("192.168.1.1".parse().unwrap()));
        assert!(
            Policy::new(true, &[])
                .unwrap()
                .permits("127.0.0.1".parse().unwrap())
        );
        assert!(Policy::new(false, &["10.0.0.0/33".to_string()]).is_err());
    }

    #[tokio::test]
    async fn checks_urls_without_network() {
        let strict = Policy::new(false, &[]).unwrap();
        assert_eq!(
            strict.check_url("ftp://example.com/").await,
            Err(OutboundError::InvalidUrl)
        );
        assert_eq!(
            strict.check_url("not a url").await,
            Err(OutboundError::InvalidUrl)
        );
        assert_eq!(
            strict.check_url("http://user:pw@8.8.8.8/").await,
            Err(OutboundError::InvalidUrl)
        );
        assert!(matches!(
            strict.check_url("http://127.0.0.1:9/hook").await,
            Err(OutboundError::Blocked(_))
        ));
        assert!(matches!(
            strict.check_url("http://[::1]/hook").await,
            Err(OutboundError::Blocked(_))
        ));
        assert!(matches!(
            strict.check_url("http://localhost/hook").await,
            Err(OutboundError::Blocked(_))
        ));
        assert!(strict.check_url("https://8.8.8.8/hook").await.is_ok());
    }
}
