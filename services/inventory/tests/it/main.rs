//! Inventory against real Postgres and RabbitMQ.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clientstor_config::Service;
use clientstor_testkit::{FaultProxy, TestEnv, poll_until};

async fn readyz(addr: std::net::SocketAddr) -> u16 {
    reqwest::get(format!("http://{addr}/readyz"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_postgres() {
    let env = TestEnv::new(&[(Service::Inventory, &inventory::MIGRATIONS)]).await;
    let proxy = FaultProxy::to("127.0.0.1:5432").await;
    let url = env
        .db
        .url
        .replace("127.0.0.1:5432", &proxy.addr.to_string());
    let settings = env.settings(
        Service::Inventory,
        &[
            ("database.url", &url),
            ("database.acquire_timeout_seconds", "1"),
        ],
    );
    let running = clientstor_runtime::start(&inventory::definition(), settings)
        .await
        .unwrap();
    let addr = running.addr;

    poll_until("ready", Duration::from_secs(30), || async {
        (readyz(addr).await == 200).then_some(())
    })
    .await;
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    proxy.cut();
    poll_until(
        "not ready while Postgres is unreachable",
        Duration::from_secs(30),
        || async { (readyz(addr).await == 503).then_some(()) },
    )
    .await;
    let body: serde_json::Value = reqwest::get(format!("http://{addr}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(body["checks"]["database"], "ok", "{body}");
    assert_eq!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .status(),
        200,
        "alive all the same"
    );

    proxy.restore();
    poll_until("ready again", Duration::from_secs(30), || async {
        (readyz(addr).await == 200).then_some(())
    })
    .await;

    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("clientstor_http_requests_total"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/readyz\""), "{metrics}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_once_and_readiness_requires_it() {
    let env = TestEnv::new(&[]).await;
    let settings = env.settings(Service::Inventory, &[]);
    let running = clientstor_runtime::start(&inventory::definition(), settings)
        .await
        .unwrap();
    let addr = running.addr;
    poll_until(
        "not ready before migrations",
        Duration::from_secs(30),
        || async {
            let body: serde_json::Value = reqwest::get(format!("http://{addr}/readyz"))
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (body["checks"]["migrations"] != "ok").then_some(())
        },
    )
    .await;
    let applied = clientstor_db::run_migrations(&env.db.url, "inventory", &inventory::MIGRATIONS)
        .await
        .unwrap();
    assert!(!applied.is_empty());
    let again = clientstor_db::run_migrations(&env.db.url, "inventory", &inventory::MIGRATIONS)
        .await
        .unwrap();
    assert!(again.is_empty(), "a second run applies nothing");
    poll_until(
        "ready after migrations",
        Duration::from_secs(30),
        || async { (readyz(addr).await == 200).then_some(()) },
    )
    .await;
    running.stop().await;
}
