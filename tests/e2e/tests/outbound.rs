//! Outbound abuse through the API: with private targets not allowed (the production default),
//! webhook and RMM URLs at loopback, IPv6 loopback, private and link-local/metadata addresses,
//! and names that resolve to loopback, are refused when saved, and nothing is made; monitors are
//! saved but their checks of loopback targets are refused without a connection. Nothing is sent
//! to a non-loopback address: those refusals come before any connection. What happens when a
//! connection is made (redirects, names) is tried in a loopback-only network namespace by
//! `crates/outbound/tests/netns.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clientstor_e2e::Stack;
use clientstor_testkit::poll_until;
use serde_json::{Value, json};

const TARGETS: &[&str] = &[
    "http://127.0.0.1:9",
    "http://127.1.2.3",
    "http://[::1]:9",
    "http://[::ffff:127.0.0.1]",
    "http://0.0.0.0",
    "http://10.0.0.1",
    "http://10.20.30.40:8080",
    "http://172.16.0.1",
    "http://192.168.1.1",
    "http://169.254.169.254",
    "http://localhost:9",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_targets_are_refused_for_webhooks_monitors_and_rmm() {
    let stack = Stack::start_with(&[("outbound.allow_private", "false")]).await;
    let mut refused = 0;
    for target in TARGETS {
        let attempts = [
            (
                "/api/v1/webhooks/",
                json!({ "name": "w", "url": format!("{target}/hook"), "events": ["*"] }),
                "url",
            ),
            (
                "/api/v1/integrations/rmm/",
                json!({ "name": "r", "provider": "syncro", "base_url": target,
                        "credentials": { "api_key": "k" } }),
                "base_url",
            ),
        ];
        for (path, body, field) in attempts {
            let response = stack.post(path, body).await;
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap();
            assert_eq!(status, 400, "{path} {target}: {answer}");
            let message = answer[field][0].as_str().unwrap_or_default();
            assert!(
                message.contains("not allowed") || message.contains("private"),
                "{path} {target}: {answer}"
            );
            refused += 1;
        }
    }
    // Monitors are saved whatever their target (the check is refused instead, SYSTEM.md §5):
    // each check of a loopback target fails on the guard and no connection reaches the listener.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let reached = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reached.clone();
    let accepting = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    for url in [
        format!("http://127.0.0.1:{port}/health"),
        format!("http://localhost:{port}/health"),
        format!("http://[::ffff:127.0.0.1]:{port}/health"),
    ] {
        let monitor: Value = stack
            .post(
                "/api/v1/monitors/",
                json!({ "name": "m", "monitor_type": "http", "url": url }),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = monitor["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{monitor}"));
        let now = stack
            .post(&format!("/api/v1/monitors/{id}/check-now/"), json!({}))
            .await;
        assert!(now.status().is_success(), "{url}");
        let error = poll_until("the check", std::time::Duration::from_secs(20), || async {
            let monitor: Value = stack
                .get(&format!("/api/v1/monitors/{id}/"))
                .await
                .json()
                .await
                .ok()?;
            monitor["last_error"].as_str().map(str::to_string)
        })
        .await;
        assert!(
            error.contains("not allowed") || error.contains("refuses"),
            "{url}: {error}"
        );
        refused += 1;
    }
    assert_eq!(
        reached.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a monitor check reached loopback"
    );
    accepting.abort();
    for path in ["/api/v1/webhooks/", "/api/v1/integrations/rmm/"] {
        let list: Value = stack.get(path).await.json().await.unwrap();
        assert_eq!(list["count"], 0, "{path}: {list}");
    }
    println!(
        "outbound: {refused} private targets refused (webhooks and RMM when saved, monitor checks when run), nothing made or reached"
    );
    stack.stop().await;
}
