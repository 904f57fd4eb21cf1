//! Every service's `/metrics` in valid Prometheus text format, with the numbers that matter,
//! moving as traffic goes through.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use clientstor_e2e::Stack;
use clientstor_testkit::rmm_platforms::{FakeDevice, Faults, Platform, RmmPlatform};
use clientstor_testkit::{Receiver, poll_until};
use serde_json::json;

/// Parses the text format strictly: `# HELP`/`# TYPE` comments, and `name{labels} value` lines.
/// Returns each series with its value; panics on a malformed line.
async fn scrape(addr: SocketAddr) -> HashMap<String, f64> {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut series = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "bad comment: {line}"
            );
            continue;
        }
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line: {line}"));
        let metric = name.split('{').next().unwrap();
        assert!(
            metric
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "bad name: {line}"
        );
        if name.contains('{') {
            assert!(name.ends_with('}'), "bad labels: {line}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        series.insert(name.to_string(), value);
    }
    series
}

/// The sum of every series of `metric` whose labels contain all of `labels`.
fn total(series: &HashMap<String, f64>, metric: &str, labels: &[&str]) -> f64 {
    series
        .iter()
        .filter(|(name, _)| {
            name.split('{').next() == Some(metric) && labels.iter().all(|l| name.contains(l))
        })
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_exposes_the_numbers_that_matter() {
    let stack = Stack::start_with(&[
        ("monitor.min_interval_seconds", "1"),
        ("gateway.rate_limit.auth_failures_per_minute", "3"),
    ])
    .await;
    let receiver = Receiver::start().await;
    stack
        .post(
            "/api/v1/webhooks/",
            json!({"name": "m", "url": receiver.url("/hook"), "events": ["asset.created"]}),
        )
        .await;
    let before = scrape(stack.inventory.addr).await;
    for i in 0..3 {
        let created = stack
            .post(
                "/api/v1/assets/",
                json!({"name": format!("m{i}"), "asset_type": "server"}),
            )
            .await;
        assert_eq!(created.status(), 201);
    }
    stack
        .post(
            "/api/v1/monitors/",
            json!({"name": "local", "monitor_type": "tcp", "host": "127.0.0.1",
                   "port": stack.inventory.addr.port(), "interval_seconds": 1, "timeout_seconds": 1}),
        )
        .await;
    // An RMM sync of two devices.
    let devices = (1..=2)
        .map(|i| FakeDevice::numbered(i, 1, "Acme"))
        .collect();
    let platform = RmmPlatform::start(Platform::Syncro, devices, Faults::default()).await;
    let integration: serde_json::Value = stack
        .post(
            "/api/v1/integrations/rmm/",
            json!({"name": "syncro", "provider": "syncro", "base_url": platform.base_url,
                   "credentials": platform.credentials()}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(integration["id"].is_i64(), "{integration}");
    // Failed authentications past the limit are refused.
    for _ in 0..5 {
        stack
            .get_as("itdocs_live_nonexistentkey000000000000", "/api/v1/assets/")
            .await;
    }
    poll_until("the webhooks", Duration::from_secs(20), || async {
        (receiver.count() >= 3).then_some(())
    })
    .await;

    let inventory = scrape(stack.inventory.addr).await;
    let created = |series: &HashMap<String, f64>| {
        total(
            series,
            "clientstor_http_requests_total",
            &["method=\"POST\"", "status=\"201\""],
        )
    };
    assert_eq!(created(&inventory) - created(&before), 3.0);
    for metric in [
        "clientstor_http_request_duration_seconds_bucket",
        "clientstor_db_pool_connections",
        "clientstor_db_pool_max_connections",
        "clientstor_outbox_pending_events",
        "clientstor_outbox_oldest_pending_age_seconds",
    ] {
        assert!(
            inventory.keys().any(|k| k.starts_with(metric)),
            "inventory lacks {metric}"
        );
    }

    let webhooks = poll_until("webhook metrics", Duration::from_secs(10), || async {
        let series = scrape(stack.webhooks.addr).await;
        (total(
            &series,
            "clientstor_webhook_attempts_total",
            &["outcome=\"delivered\""],
        ) >= 3.0)
            .then_some(series)
    })
    .await;
    assert!(
        total(
            &webhooks,
            "clientstor_consumer_events_total",
            &["outcome=\"applied\""]
        ) >= 3.0
    );
    assert!(
        total(
            &webhooks,
            "clientstor_consumer_event_age_seconds_count",
            &[]
        ) >= 3.0
    );
    assert!(
        total(
            &webhooks,
            "clientstor_webhook_delivery_latency_seconds_count",
            &[]
        ) >= 3.0
    );

    let monitor = poll_until("monitor metrics", Duration::from_secs(10), || async {
        let series = scrape(stack.monitor.addr).await;
        (total(
            &series,
            "clientstor_monitor_checks_total",
            &["result=\"up\""],
        ) >= 1.0)
            .then_some(series)
    })
    .await;
    assert!(
        total(
            &monitor,
            "clientstor_monitor_schedule_lag_seconds_count",
            &[]
        ) >= 1.0
    );

    let gateway = scrape(stack.gateway.admin_addr).await;
    assert!(
        total(
            &gateway,
            "clientstor_rate_limited_total",
            &["scope=\"auth_failures\""]
        ) >= 1.0
    );
    assert!(
        total(
            &gateway,
            "clientstor_http_requests_total",
            &["status=\"401\""]
        ) >= 1.0
    );
    assert!(
        scrape(stack.vault.addr)
            .await
            .keys()
            .any(|k| k.starts_with("clientstor_db_pool"))
    );

    let rmm = poll_until("rmm metrics", Duration::from_secs(30), || async {
        let series = scrape(stack.rmm.addr).await;
        (total(
            &series,
            "clientstor_rmm_runs_total",
            &["outcome=\"succeeded\""],
        ) >= 1.0)
            .then_some(series)
    })
    .await;
    assert_eq!(
        total(
            &rmm,
            "clientstor_rmm_devices_processed_total",
            &["result=\"created\""]
        ),
        2.0
    );
    platform.stop().await;
    stack.stop().await;
}
