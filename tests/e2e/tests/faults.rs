//! Faults during a steady stream of asset changes with a webhook subscribed: the receiver answers
//! 500 for a while (`RELIABILITY_OUTAGE_SECONDS`: 15 in `make test`, 60 in `make reliability`),
//! then recovers. Every committed change's webhook arrives (counted by `webhook-id`), every
//! delivery ends in `success`, and the dispatcher's `/readyz` stays ready: a failing receiver is
//! not the dispatcher's fault. The retry schedule is shortened to 0, 2, 4, 8, 16, 32 and 64 s (two
//! minutes in all, more than the outage) so that the run takes about the outage plus a minute.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use clientstor_e2e::{Stack, env_number};
use clientstor_testkit::Receiver;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_for_a_while_loses_no_event() {
    let outage = env_number("RELIABILITY_OUTAGE_SECONDS", 15);
    let stack = Stack::start_with(&[
        ("webhooks.retry_schedule", "0,2s,4s,8s,16s,32s,64s"),
        ("gateway.rate_limit.per_minute", "100000000"),
        ("gateway.rate_limit.org_per_minute", "100000000"),
    ])
    .await;
    let receiver = Receiver::start().await;
    receiver.respond_with(500);
    let hook: Value = stack
        .post(
            "/api/v1/webhooks/",
            json!({ "name": "flaky", "url": receiver.url("/in"),
                    "events": ["asset.created", "asset.updated"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let hook_id = hook["id"].as_i64().unwrap_or_else(|| panic!("{hook}"));
    let readyz = format!("http://{}/readyz", stack.webhooks.addr);

    // The stream: a create every 100 ms, and an update of every third asset.
    let started = Instant::now();
    let mut committed = 0usize;
    let mut ready_during_outage = 0usize;
    let mut checks_of_readiness = 0usize;
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(outage) {
        n += 1;
        let created = stack
            .post(
                "/api/v1/assets/",
                json!({ "name": format!("stream-{n}"), "asset_type": "server" }),
            )
            .await;
        assert_eq!(created.status(), 201);
        committed += 1;
        if n % 3 == 0 {
            let id = created.json::<Value>().await.unwrap()["id"].clone();
            let patched = stack
                .send(
                    reqwest::Method::PATCH,
                    &format!("/api/v1/assets/{id}/"),
                    Some(json!({ "notes": "changed during the outage" })),
                )
                .await;
            assert_eq!(patched.status(), 200);
            committed += 1;
        }
        if n % 10 == 0 {
            checks_of_readiness += 1;
            if stack.http.get(&readyz).send().await.unwrap().status() == 200 {
                ready_during_outage += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed_attempts = receiver.count();
    receiver.respond_with(200);
    let recovered = Instant::now();

    // Every change arrives once the receiver answers again.
    let deadline = recovered + Duration::from_secs(100);
    let delivered = loop {
        let ids: BTreeSet<String> = receiver
            .requests()
            .iter()
            .filter(|r| r.at >= recovered)
            .filter_map(|r| r.header("webhook-id").map(str::to_string))
            .collect();
        if ids.len() >= committed || Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let all_ids: BTreeSet<String> = receiver
        .requests()
        .iter()
        .filter_map(|r| r.header("webhook-id").map(str::to_string))
        .collect();
    assert_eq!(
        delivered.len(),
        committed,
        "{} of {committed} changes delivered after the outage",
        delivered.len()
    );
    assert_eq!(all_ids.len(), committed, "one webhook-id per change");
    assert_eq!(
        ready_during_outage, checks_of_readiness,
        "the dispatcher stays ready while a receiver fails"
    );
    let log: Value = stack
        .get(&format!(
            "/api/v1/webhooks/{hook_id}/deliveries/?page_size=1&status=success"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        log["count"], committed,
        "every delivery ends in success: {log}"
    );
    println!(
        "faults: receiver down {outage} s: {committed} changes, {failed_attempts} refused attempts, \
         {} delivered after recovery in {:.1} s, 0 lost",
        delivered.len(),
        recovered.elapsed().as_secs_f64()
    );
    stack.stop().await;
}
