//! The dispatcher as a real process, killed with SIGKILL in the middle of a burst.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clientstor_config::Service;
use clientstor_events::v1::AssetChanged;
use clientstor_events::{Organization, Payload, encode, new_envelope};
use clientstor_testkit::{Receiver, TestEnv, poll_until};
use diesel_async::RunQueryDsl;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::ShortString;

const EVENTS: usize = 1000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(env: &TestEnv, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_webhook-dispatcher"))
        .arg("serve")
        .env_clear()
        .env("CLIENTSTOR_DATABASE__URL", &env.db.url)
        .env("CLIENTSTOR_AMQP__URL", &env.bus.url)
        .env("CLIENTSTOR_AMQP__EXCHANGE", &env.bus.exchange)
        .env("CLIENTSTOR_AMQP__QUEUE_PREFIX", &env.bus.queue_prefix)
        .env("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", &env.internal_secret)
        .env("CLIENTSTOR_WEBHOOKS__LISTEN", format!("127.0.0.1:{port}"))
        .env("CLIENTSTOR_WEBHOOKS__TIMEOUT_SECONDS", "2")
        .env("CLIENTSTOR_WEBHOOKS__RETRY_SCHEDULE", "0,1s,1s,1s,1s")
        .env("CLIENTSTOR_OUTBOUND__ALLOW_PRIVATE", "true")
        .env("CLIENTSTOR_TELEMETRY__LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

async fn ready(port: u16) {
    poll_until(
        "the dispatcher to be ready",
        Duration::from_secs(60),
        || async move {
            let response = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
                .await
                .ok()?;
            response.status().is_success().then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_dispatcher_delivers_every_event_after_restart() {
    let env = TestEnv::new(&[(Service::Webhooks, &webhook_dispatcher::MIGRATIONS)]).await;
    let receiver = Receiver::start().await;
    let mut conn = env.db.connect().await;
    diesel::sql_query("INSERT INTO webhooks.organizations (id, name) VALUES (1, 'Acme')")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO webhooks.endpoints (organization_id, name, url, events, secret) \
         VALUES (1, 'burst', '{}', ARRAY['asset.created'], 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')",
        receiver.url("/burst")
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let port = free_port();
    let mut child = spawn(&env, port);
    ready(port).await;

    let connection =
        lapin::Connection::connect(&env.bus.url, lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut expected = BTreeSet::new();
    for i in 0..EVENTS {
        let envelope = new_envelope(
            clientstor_events::types::ASSET_CREATED,
            "test",
            Organization {
                id: 1,
                name: "Acme".into(),
            },
            Payload::AssetChanged(AssetChanged {
                id: i as i64,
                name: format!("a{i}"),
                asset_type: "server".into(),
                ..Default::default()
            }),
        );
        expected.insert(format!(
            "msg_{}",
            uuid::Uuid::parse_str(&envelope.event_id).unwrap().simple()
        ));
        let confirm = channel
            .basic_publish(
                ShortString::from(env.bus.exchange.as_str()),
                ShortString::from(clientstor_events::types::ASSET_CREATED),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &encode(&envelope),
                lapin::BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        drop(confirm);
    }
    channel.wait_for_confirms().await.unwrap();
    // Kill it while the burst is being delivered.
    poll_until(
        "a fifth of the burst to arrive",
        Duration::from_secs(60),
        || async { (receiver.requests().len() >= EVENTS / 5).then_some(()) },
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let delivered_before_restart = receiver.requests().len();
    assert!(delivered_before_restart < EVENTS, "the kill came mid-burst");

    let mut child = spawn(&env, port);
    ready(port).await;
    let ids = poll_until(
        "every event delivered",
        Duration::from_secs(120),
        || async {
            let ids: BTreeSet<String> = receiver
                .requests()
                .iter()
                .filter_map(|r| r.header("webhook-id").map(str::to_string))
                .collect();
            (ids.len() >= EVENTS).then_some(ids)
        },
    )
    .await;
    assert_eq!(
        ids, expected,
        "each event arrives with its stable webhook-id"
    );
    println!(
        "delivered before the kill: {delivered_before_restart}; requests in all: {}",
        receiver.requests().len()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = connection.close(200, ShortString::from("done")).await;
}
