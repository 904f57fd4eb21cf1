//! The outbound guard where a bug cannot leak: inside a network namespace with only loopback
//! (`unshare -n`; SYSTEM.md §7), so a guard that fails gives a connection error, never a packet
//! leaving the machine. The test runs itself again in a fresh namespace. There a redirector on
//! 127.0.0.2 (the one allowlisted address) sends the guarded client on to loopback, IPv6
//! loopback, a private and the metadata address, and a name that resolves to loopback; listeners
//! on the loopback targets count every connection that gets through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clientstor_outbound::{Policy, client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const INSIDE: &str = "CLIENTSTOR_OUTBOUND_IN_NETNS";
const NAME: &str = "redirects_and_names_never_reach_refused_addresses";

/// Accepts and counts connections on `listener`, answering 200.
fn count_connections(listener: TcpListener) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 2048];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    });
    count
}

/// Answers `GET /?to=<url>` with a redirect to `<url>`, and `GET /?to=` with a 200.
async fn redirector() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]).to_string();
                let target = request
                    .split_whitespace()
                    .nth(1)
                    .and_then(|path| path.split_once("?to="))
                    .map(|(_, to)| {
                        url::form_urlencoded::parse(format!("to={to}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    })
                    .unwrap_or_default();
                let answer = if target.is_empty() {
                    "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
                } else {
                    format!(
                        "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    addr
}

fn via(redirector: SocketAddr, target: &str) -> String {
    let to: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    format!("http://{redirector}/?to={to}")
}

async fn inside() {
    // Only loopback: an address of another network has no route at all.
    assert!(
        std::net::TcpStream::connect_timeout(
            &"10.0.0.1:80".parse().unwrap(),
            Duration::from_secs(1)
        )
        .is_err(),
        "the namespace has a route out"
    );
    let v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let v4_port = v4.local_addr().unwrap().port();
    let v4_count = count_connections(v4);
    let v6 = TcpListener::bind("[::1]:0").await.unwrap();
    let v6_port = v6.local_addr().unwrap().port();
    let v6_count = count_connections(v6);
    let redirector = redirector().await;

    let strict = Arc::new(Policy::new(false, &["127.0.0.2/32".to_string()]).unwrap());
    let guarded = client(strict, Duration::from_secs(3), true).unwrap();
    // The first hop is allowed: the redirector answers it.
    let first = guarded
        .get(format!("http://{redirector}/?to="))
        .send()
        .await;
    assert!(first.is_ok(), "the allowlisted first hop: {first:?}");
    let targets = [
        format!("http://127.0.0.1:{v4_port}/"),
        format!("http://[::1]:{v6_port}/"),
        format!("http://localhost:{v4_port}/"),
        "http://10.0.0.1/".to_string(),
        "http://10.255.255.254:8080/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("ftp://127.0.0.1:{v4_port}/"),
    ];
    for target in &targets {
        let answer = guarded.get(via(redirector, target)).send().await;
        let error = answer.expect_err(target);
        // Refused by the guard (a redirect error, or the resolver dropping a loopback answer),
        // not by the network.
        let text = format!("{error:?}");
        assert!(
            error.is_redirect() || text.contains("not allowed") || text.contains("resolve"),
            "{target}: {text}"
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        v4_count.load(Ordering::SeqCst),
        0,
        "a connection reached 127.0.0.1"
    );
    assert_eq!(
        v6_count.load(Ordering::SeqCst),
        0,
        "a connection reached [::1]"
    );

    // The same redirect with loopback allowed does get through: the counters can see a leak.
    let open = Arc::new(Policy::new(false, &["127.0.0.0/8".to_string()]).unwrap());
    let permissive = client(open, Duration::from_secs(3), true).unwrap();
    let reached = permissive
        .get(via(redirector, &format!("http://127.0.0.1:{v4_port}/")))
        .send()
        .await
        .unwrap();
    assert_eq!(reached.status(), 200);
    assert_eq!(v4_count.load(Ordering::SeqCst), 1);
    println!(
        "outbound guard in a loopback-only namespace: {} redirect targets refused, 0 connections",
        targets.len()
    );
}

#[tokio::test]
async fn redirects_and_names_never_reach_refused_addresses() {
    if std::env::var_os(INSIDE).is_some() {
        return inside().await;
    }
    let exe = std::env::current_exe().unwrap();
    let output = tokio::process::Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .await
        .expect("unshare runs (root, util-linux and iproute2 are needed)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "inside the namespace:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("0 connections"),
        "the inner test did not run:\n{stdout}"
    );
}
