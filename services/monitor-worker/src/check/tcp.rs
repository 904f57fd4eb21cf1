//! TCP checks: a connection to host:port within the timeout.

use std::time::Duration;

use super::{Checker, Outcome};
use crate::db::claims::Claimed;

pub async fn check(checker: &Checker, monitor: &Claimed, timeout: Duration) -> Outcome {
    let (Some(host), Some(port)) = (monitor.host.as_deref(), monitor.port) else {
        return Outcome {
            error: Some("no host or port".into()),
            ..Outcome::default()
        };
    };
    let port = u16::try_from(port).unwrap_or(0);
    let addrs = match checker.resolve(host, port).await {
        Ok(addrs) => addrs,
        Err(error) => {
            return Outcome {
                error: Some(error),
                ..Outcome::default()
            };
        }
    };
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((addrs[0], port))).await {
        Ok(Ok(_)) => Outcome {
            ok: true,
            ..Outcome::default()
        },
        Ok(Err(error)) => Outcome {
            error: Some(format!("connect: {error}")),
            ..Outcome::default()
        },
        Err(_) => Outcome {
            error: Some(format!("connect timed out after {} s", timeout.as_secs())),
            ..Outcome::default()
        },
    }
}
