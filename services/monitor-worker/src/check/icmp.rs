//! ICMP echo checks. One socket per address family, opened on first use: an unprivileged ping
//! socket where `net.ipv4.ping_group_range` allows it, a raw socket (root or CAP_NET_RAW)
//! otherwise.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence};
use tokio::sync::OnceCell;

use super::{Checker, Outcome};
use crate::db::claims::Claimed;

#[derive(Default)]
pub struct Pinger {
    v4: OnceCell<Result<Client, String>>,
    v6: OnceCell<Result<Client, String>>,
    next_id: AtomicU16,
}

impl Pinger {
    async fn client(&self, ip: IpAddr) -> Result<&Client, String> {
        let (cell, kind) = match ip {
            IpAddr::V4(_) => (&self.v4, ICMP::V4),
            IpAddr::V6(_) => (&self.v6, ICMP::V6),
        };
        cell.get_or_init(|| async move {
            Client::new(&Config::builder().kind(kind).build())
                .map_err(|e| format!("cannot open an ICMP socket: {e}"))
        })
        .await
        .as_ref()
        .map_err(Clone::clone)
    }
}

fn failed(error: String) -> Outcome {
    Outcome {
        error: Some(error),
        ..Outcome::default()
    }
}

pub async fn check(checker: &Checker, monitor: &Claimed, timeout: Duration) -> Outcome {
    let Some(host) = monitor.host.as_deref() else {
        return failed("no host".into());
    };
    let ip = match checker.resolve(host, 0).await {
        Ok(addrs) => addrs[0],
        Err(error) => return failed(error),
    };
    let client = match checker.icmp.client(ip).await {
        Ok(client) => client,
        Err(error) => return failed(error),
    };
    let id = checker.icmp.next_id.fetch_add(1, Ordering::Relaxed);
    let mut pinger = client.pinger(ip, PingIdentifier(id)).await;
    pinger.timeout(timeout);
    match pinger.ping(PingSequence(0), &[0u8; 16]).await {
        Ok(_) => Outcome {
            ok: true,
            ..Outcome::default()
        },
        Err(error) => failed(format!("no echo reply: {error}")),
    }
}
