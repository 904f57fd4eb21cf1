//! Infrastructure faults during a steady stream of changes, with the six services as processes
//! of their own on a PostgreSQL cluster and a RabbitMQ node of the test's own (never the
//! machine's shared ones, SYSTEM.md §7). In turn: the broker stops (`rabbitmqctl stop_app`) and
//! starts again; PostgreSQL crashes (`pg_ctl stop -m immediate`) and starts again; each of the six
//! services is killed with SIGKILL and started again. Each fault lasts
//! `RELIABILITY_FAULT_SECONDS` (5 in `make test`, 20 in `make reliability`).
//!
//! The stream creates an asset every 50 ms, updates every third one and stores a password every
//! fifth round, through the gateway, with a webhook subscribed to the asset events. Afterwards:
//! every change answered with 2xx is there (read back through the API), every committed asset
//! change's webhook arrived (counted by `webhook-id`, matched to the assets by id), the services
//! recovered without help, and `/readyz` told the truth throughout: not ready while a dependency
//! was down, no answer while killed, ready otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clientstor_config::Service;
use clientstor_e2e::env_number;
use clientstor_e2e::processes::{Infrastructure, ProcessStack};
use clientstor_testkit::{PrivatePostgres, PrivateRabbit, Receiver};
use serde_json::{Value, json};

/// What the stream sent and how it was answered.
#[derive(Default)]
struct Ledger {
    phase: String,
    /// Asset id → (name, phase) for every create answered 201.
    created: BTreeMap<i64, (String, String)>,
    /// Asset ids whose update was answered 200, with the notes written.
    updated: BTreeMap<i64, String>,
    /// Password ids whose create was answered 201.
    passwords: Vec<i64>,
    /// (phase, status) → count of answers that were not 2xx, and requests with no answer.
    refused: BTreeMap<(String, String), usize>,
    /// Answers outside 2xx that were not in the error shape.
    unshaped: Vec<String>,
}

impl Ledger {
    fn refuse(&mut self, outcome: String) {
        let phase = self.phase.clone();
        *self.refused.entry((phase, outcome)).or_default() += 1;
    }
}

type Shared = Arc<Mutex<Ledger>>;

async fn answer(
    ledger: &Shared,
    response: Result<reqwest::Response, reqwest::Error>,
    expected: u16,
) -> Option<Value> {
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            let kind = if error.is_timeout() {
                "timeout"
            } else {
                "no answer"
            };
            ledger.lock().unwrap().refuse(kind.to_string());
            return None;
        }
    };
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status == expected {
        return Some(body);
    }
    let mut ledger = ledger.lock().unwrap();
    ledger.refuse(status.to_string());
    if body["code"].as_str().is_none() || body["detail"].as_str().is_none() {
        ledger.unshaped.push(format!("{status}: {body}"));
    }
    None
}

async fn stream(gateway: String, key: String, ledger: Shared, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let phase = ledger.lock().unwrap().phase.clone();
        let name = format!("stream-{n}");
        let created = http
            .post(format!("{gateway}/api/v1/assets/"))
            .bearer_auth(&key)
            .json(&json!({ "name": name, "asset_type": "server" }))
            .send()
            .await;
        if let Some(asset) = answer(&ledger, created, 201).await {
            let id = asset["id"].as_i64().unwrap();
            ledger
                .lock()
                .unwrap()
                .created
                .insert(id, (name, phase.clone()));
            if n.is_multiple_of(3) {
                let notes = format!("changed during {phase}");
                let patched = http
                    .patch(format!("{gateway}/api/v1/assets/{id}/"))
                    .bearer_auth(&key)
                    .json(&json!({ "notes": notes }))
                    .send()
                    .await;
                if answer(&ledger, patched, 200).await.is_some() {
                    ledger.lock().unwrap().updated.insert(id, notes);
                }
            }
        }
        if n.is_multiple_of(5) {
            let stored = http
                .post(format!("{gateway}/api/v1/passwords/"))
                .bearer_auth(&key)
                .json(&json!({ "title": format!("stream {n}"), "password": format!("pw-{n}") }))
                .send()
                .await;
            if let Some(password) = answer(&ledger, stored, 201).await {
                let id = password["id"].as_i64().unwrap();
                ledger.lock().unwrap().passwords.push(id);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What `/readyz` of every service said during a fault, polled every 250 ms.
#[derive(Default)]
struct Observed {
    checks: usize,
    /// Service → (ready answers, not-ready answers, no answer).
    seen: BTreeMap<&'static str, (usize, usize, usize)>,
}

async fn observe(stack: &ProcessStack, seconds: u64) -> Observed {
    let mut observed = Observed::default();
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        observed.checks += 1;
        for service in Service::ALL {
            let entry = observed.seen.entry(service.binary()).or_default();
            match stack.ready(service).await {
                Some(true) => entry.0 += 1,
                Some(false) => entry.1 += 1,
                None => entry.2 += 1,
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    observed
}

async fn all_ready(stack: &ProcessStack, since: Instant) -> f64 {
    for service in Service::ALL {
        stack.wait_ready(service, Duration::from_secs(90)).await;
    }
    since.elapsed().as_secs_f64()
}

/// Takes a dependency away for `hold` seconds (`stop`) and brings it back (`start`): every
/// service must answer not ready meanwhile, and all must be ready again by themselves. Returns
/// the seconds that took.
async fn dependency_down(
    stack: &ProcessStack,
    what: &str,
    hold: u64,
    stop: impl FnOnce(),
    start: impl FnOnce(),
) -> f64 {
    tokio::task::block_in_place(stop);
    let seen = observe(stack, hold).await;
    let restarted = Instant::now();
    tokio::task::block_in_place(start);
    let recovery = all_ready(stack, restarted).await;
    for (service, (_, not_ready, silent)) in &seen.seen {
        assert!(
            *not_ready > 0 && *silent == 0,
            "{service}: /readyz while {what}: {:?}",
            seen.seen
        );
    }
    recovery
}

fn set_phase(ledger: &Shared, phase: &str) {
    ledger.lock().unwrap().phase = phase.to_string();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_database_and_service_crashes_lose_nothing() {
    let hold = env_number("RELIABILITY_FAULT_SECONDS", 5);
    let postgres = PrivatePostgres::start();
    let rabbit = PrivateRabbit::start();
    let infrastructure = Infrastructure {
        database_url: postgres.url(),
        amqp_url: rabbit.url(),
        exchange: "clientstor.events".into(),
        queue_prefix: String::new(),
    };
    // Rate limits are not what this test tries; retries are shortened so that deliveries held
    // back by a fault are attempted again within the test's minutes.
    let mut stack = ProcessStack::start(
        &infrastructure,
        &[
            ("webhooks.retry_schedule", "0,1s,2s,4s,8s,16s,32s,64s"),
            ("gateway.rate_limit.per_minute", "100000000"),
            ("gateway.rate_limit.org_per_minute", "100000000"),
        ],
    )
    .await;
    let receiver = Receiver::start().await;
    let hook = stack
        .http
        .post(stack.url("/api/v1/webhooks/"))
        .bearer_auth(&stack.key)
        .json(&json!({ "name": "stream", "url": receiver.url("/in"),
                       "events": ["asset.created", "asset.updated"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);

    let ledger: Shared = Arc::default();
    set_phase(&ledger, "steady");
    let stop = Arc::new(AtomicBool::new(false));
    let streaming = tokio::spawn(stream(
        stack.gateway.clone(),
        stack.key.clone(),
        ledger.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut report = Vec::new();

    // The broker stops: every service notices, says so, and reconnects when it is back.
    set_phase(&ledger, "rabbitmq");
    let recovery = dependency_down(
        &stack,
        "the broker was stopped",
        hold,
        || rabbit.stop_app(),
        || rabbit.start_app(),
    )
    .await;
    report.push(format!(
        "rabbitmq stopped {hold} s: every service not ready during it, all ready {recovery:.1} s after start_app"
    ));

    // PostgreSQL crashes: every service says it is not ready, and recovers by itself.
    set_phase(&ledger, "postgres");
    let recovery = dependency_down(
        &stack,
        "the database was down",
        hold,
        || postgres.crash(),
        || postgres.start_again(),
    )
    .await;
    report.push(format!(
        "postgres crashed for {hold} s: every service not ready during it, all ready {recovery:.1} s after restart"
    ));

    // Each service killed in turn: it is silent, the others stay ready.
    for victim in Service::ALL {
        set_phase(&ledger, victim.binary());
        stack.kill(victim);
        let seen = observe(&stack, hold).await;
        let restarted = Instant::now();
        stack.restart(victim);
        stack.wait_ready(victim, Duration::from_secs(60)).await;
        let recovery = restarted.elapsed().as_secs_f64();
        for (service, (ready, _, _)) in &seen.seen {
            let expected = if *service == victim.binary() {
                0
            } else {
                seen.checks
            };
            assert_eq!(
                *ready,
                expected,
                "{service}: /readyz while {} was killed: {:?}",
                victim.binary(),
                seen.seen
            );
        }
        report.push(format!(
            "{} killed (SIGKILL) for {hold} s: silent, the others ready; ready {recovery:.1} s after restart",
            victim.binary()
        ));
    }
    set_phase(&ledger, "after");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    streaming.await.unwrap();

    let ledger = Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap();
    assert!(
        ledger.unshaped.is_empty(),
        "{} answers outside the error shape, the first: {:?}",
        ledger.unshaped.len(),
        &ledger.unshaped[..ledger.unshaped.len().min(5)]
    );

    // Every change answered with 2xx is there.
    for (id, (name, _)) in &ledger.created {
        let asset: Value = stack
            .get(&format!("/api/v1/assets/{id}/"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(asset["name"], *name, "asset {id}: {asset}");
        if let Some(notes) = ledger.updated.get(id) {
            assert_eq!(asset["notes"], *notes, "asset {id}: {asset}");
        }
    }
    for id in &ledger.passwords {
        let status = stack
            .get(&format!("/api/v1/passwords/{id}/"))
            .await
            .status();
        assert_eq!(status, 200, "password {id}");
    }

    // Every asset change answered 2xx has its webhook. A change can also commit while its answer
    // is lost (the gateway killed mid-request, say): it is real, so it has a webhook too.
    let created_ids: BTreeSet<i64> = ledger.created.keys().copied().collect();
    let updated_ids: BTreeSet<i64> = ledger.updated.keys().copied().collect();
    let seen = |requests: &[clientstor_testkit::Received],
                event: &str|
     -> BTreeMap<i64, BTreeSet<String>> {
        let mut ids: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        for request in requests {
            let body = request.json();
            if body["event"] == event {
                ids.entry(body["data"]["id"].as_i64().unwrap())
                    .or_default()
                    .insert(request.header("webhook-id").unwrap().to_string());
            }
        }
        ids
    };
    let deadline = Instant::now() + Duration::from_secs(150);
    let (requests, created_seen, updated_seen) = loop {
        let requests = receiver.requests();
        let created_seen = seen(&requests, "asset.created");
        let updated_seen = seen(&requests, "asset.updated");
        let complete = created_ids.iter().all(|id| created_seen.contains_key(id))
            && updated_ids.iter().all(|id| updated_seen.contains_key(id));
        if complete || Instant::now() > deadline {
            break (requests, created_seen, updated_seen);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let missing: Vec<&i64> = created_ids
        .iter()
        .filter(|id| !created_seen.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "asset.created never arrived for {missing:?}"
    );
    let missing: Vec<&i64> = updated_ids
        .iter()
        .filter(|id| !updated_seen.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "asset.updated never arrived for {missing:?}"
    );
    // One webhook-id per change: a repeated delivery keeps its id (each asset is created once
    // and updated at most once).
    for (event, seen) in [
        ("asset.created", &created_seen),
        ("asset.updated", &updated_seen),
    ] {
        for (id, webhook_ids) in seen {
            assert_eq!(
                webhook_ids.len(),
                1,
                "{event} of asset {id} under {webhook_ids:?}"
            );
        }
    }
    // The changes whose answer was lost are there.
    let unanswered: BTreeSet<i64> = created_seen
        .keys()
        .filter(|id| !created_ids.contains(id))
        .copied()
        .collect();
    for id in &unanswered {
        let status = stack.get(&format!("/api/v1/assets/{id}/")).await.status();
        assert_eq!(status, 200, "asset {id}, announced by a webhook");
    }
    let webhook_ids: BTreeSet<&str> = requests
        .iter()
        .filter_map(|r| r.header("webhook-id"))
        .collect();
    let committed = ledger.created.len() + ledger.updated.len();

    let mut per_phase: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, phase) in ledger.created.values() {
        *per_phase.entry(phase.as_str()).or_default() += 1;
    }
    for line in &report {
        println!("outages: {line}");
    }
    println!(
        "outages: {} assets created, {} updated, {} passwords stored (2xx), all read back; \
         webhooks for all {committed} of these changes, {} webhook-ids in all ({} changes \
         committed with their answer lost), {} requests ({} repeated), 0 lost; creates per \
         phase {per_phase:?}; refused or unanswered {:?}",
        ledger.created.len(),
        ledger.updated.len(),
        ledger.passwords.len(),
        webhook_ids.len(),
        webhook_ids.len().saturating_sub(committed),
        requests.len(),
        requests.len() - webhook_ids.len(),
        ledger.refused
    );
    drop(stack);
    drop(rabbit);
    drop(postgres);
}
