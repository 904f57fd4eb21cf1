//! Sustained mixed load through the gateway, the six services as processes of their own:
//! `RELIABILITY_LOAD_WORKERS` clients (16) send requests back to back for
//! `RELIABILITY_LOAD_SECONDS` (20 in `make test`, 300 in `make reliability`): 40 % reads (lists
//! and records), 20 % searches, 15 % creates, 10 % password reveals and 15 % reads of other
//! resources. Every answer must be the expected one: zero errors. Reported: the rate, the p50
//! and p99 latency, and the resident memory of every service at the start, after the first
//! fifth of the run (warm) and at the end; memory must stay flat after warming up.
//! The per-key, per-organization and reveal limits are raised: rate limits are not what this
//! test tries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clientstor_config::Service;
use clientstor_e2e::env_number;
use clientstor_e2e::processes::{Infrastructure, ProcessStack};
use clientstor_testkit::{TestBus, TestDb};
use reqwest::Method;
use serde_json::{Value, json};

struct Target {
    gateway: String,
    key: String,
    assets: Vec<i64>,
    passwords: Vec<i64>,
}

/// One request of the mix, by its position in a round of 20.
fn request(target: &Target, n: u64) -> (Method, String, Option<Value>, u16, &'static str) {
    let pick = |ids: &[i64]| ids[(n as usize * 7919) % ids.len()];
    match n % 20 {
        0..=3 => (
            Method::GET,
            "/api/v1/assets/?page_size=25&ordering=-updated_at".into(),
            None,
            200,
            "read",
        ),
        4..=7 => (
            Method::GET,
            format!("/api/v1/assets/{}/", pick(&target.assets)),
            None,
            200,
            "read",
        ),
        8..=11 => (
            Method::GET,
            format!("/api/v1/assets/?search=load-{}", n % 97),
            None,
            200,
            "search",
        ),
        12..=14 => (
            Method::POST,
            "/api/v1/assets/".into(),
            Some(
                json!({ "name": format!("load-{n}"), "asset_type": "workstation",
                         "serial_number": format!("LD-{n}"), "tags": ["load"] }),
            ),
            201,
            "create",
        ),
        15..=16 => (
            Method::GET,
            format!("/api/v1/passwords/{}/?reveal=true", pick(&target.passwords)),
            None,
            200,
            "reveal",
        ),
        17 => (
            Method::GET,
            "/api/v1/passwords/?page_size=25".into(),
            None,
            200,
            "other",
        ),
        18 => (Method::GET, "/api/v1/monitors/".into(), None, 200, "other"),
        _ => (Method::GET, "/api/v1/webhooks/".into(), None, 200, "other"),
    }
}

#[derive(Default)]
struct Tally {
    micros: Vec<u32>,
    by_kind: BTreeMap<&'static str, usize>,
    errors: Vec<String>,
}

async fn worker(target: Arc<Target>, first: u64, step: u64, until: Instant) -> Tally {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut tally = Tally::default();
    let mut n = first;
    while Instant::now() < until {
        let (method, path, body, expected, kind) = request(&target, n);
        let mut builder = http
            .request(method.clone(), format!("{}{path}", target.gateway))
            .bearer_auth(&target.key);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let started = Instant::now();
        let outcome = builder.send().await;
        let status = match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                // The whole answer is read, as a client would.
                let _ = response.bytes().await;
                Some(status)
            }
            Err(error) => {
                tally.errors.push(format!("{method} {path}: {error:?}"));
                None
            }
        };
        tally.micros.push(started.elapsed().as_micros() as u32);
        *tally.by_kind.entry(kind).or_default() += 1;
        if let Some(status) = status.filter(|s| *s != expected) {
            tally
                .errors
                .push(format!("{method} {path}: {status}, expected {expected}"));
        }
        n += step;
    }
    tally
}

fn memory(stack: &ProcessStack) -> BTreeMap<&'static str, u64> {
    Service::ALL
        .iter()
        .map(|&s| (s.binary(), stack.rss_kib(s) / 1024))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_through_the_gateway_has_no_errors_and_flat_memory() {
    let seconds = env_number("RELIABILITY_LOAD_SECONDS", 20);
    let workers = env_number("RELIABILITY_LOAD_WORKERS", 16);
    let db = TestDb::new(&[]).await;
    let bus = TestBus::new();
    let infrastructure = Infrastructure {
        database_url: db.url.clone(),
        amqp_url: bus.url.clone(),
        exchange: bus.exchange.clone(),
        queue_prefix: bus.queue_prefix.clone(),
    };
    let stack = ProcessStack::start(
        &infrastructure,
        &[
            ("gateway.rate_limit.per_minute", "100000000"),
            ("gateway.rate_limit.org_per_minute", "100000000"),
            ("vault.reveal_limit_per_hour", "100000000"),
        ],
    )
    .await;

    // Something to read, search and reveal.
    let mut assets = Vec::new();
    let mut passwords = Vec::new();
    for n in 0..100u32 {
        let send = |path: &str, body: Value| {
            stack
                .http
                .request(Method::POST, stack.url(path))
                .bearer_auth(&stack.key)
                .json(&body)
                .send()
        };
        let asset: Value = send(
            "/api/v1/assets/",
            json!({ "name": format!("load-seed-{n}"), "asset_type": "server",
                    "manufacturer": "Dell", "model": format!("R{n}"), "tags": ["seed"] }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assets.push(asset["id"].as_i64().unwrap_or_else(|| panic!("{asset}")));
        if n.is_multiple_of(5) {
            let password: Value = send(
                "/api/v1/passwords/",
                json!({ "title": format!("seed {n}"), "username": "admin",
                        "password": format!("seed-secret-{n}") }),
            )
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            passwords.push(
                password["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{password}")),
            );
        }
    }
    let target = Arc::new(Target {
        gateway: stack.gateway.clone(),
        key: stack.key.clone(),
        assets,
        passwords,
    });

    let at_start = memory(&stack);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..workers)
        .map(|w| tokio::spawn(worker(target.clone(), w, workers, until)))
        .collect();
    // Memory every tenth of the run; the sample after the first fifth is the warm one.
    let mut samples = Vec::new();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs_f64(seconds as f64 / 10.0)).await;
        samples.push(memory(&stack));
    }
    let warm = samples[1].clone();
    let mut total = Tally::default();
    for handle in handles {
        let tally = handle.await.unwrap();
        total.micros.extend(tally.micros);
        total.errors.extend(tally.errors);
        for (kind, count) in tally.by_kind {
            *total.by_kind.entry(kind).or_default() += count;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let at_end = memory(&stack);

    assert!(
        total.errors.is_empty(),
        "{} errors, the first: {:?}",
        total.errors.len(),
        &total.errors[..total.errors.len().min(10)]
    );
    let requests = total.micros.len();
    total.micros.sort_unstable();
    let percentile = |p: f64| {
        let index = ((requests as f64 * p).ceil() as usize).clamp(1, requests) - 1;
        f64::from(total.micros[index]) / 1000.0
    };
    // The secrets revealed thousands of times are in no service's log.
    assert_eq!(
        stack.log_mentions("seed-secret-"),
        0,
        "a revealed secret was logged"
    );
    // Flat: at most a fifth more than when warm, plus 4 MiB of slack for the allocator.
    for service in Service::ALL {
        let (warm, end) = (warm[service.binary()], at_end[service.binary()]);
        assert!(
            end * 5 <= warm * 6 + 20,
            "{}: resident memory grew from {warm} MiB (warm) to {end} MiB",
            service.binary()
        );
    }
    println!(
        "load: {workers} clients for {elapsed:.0} s: {requests} requests, {:.0}/s, 0 errors; \
         mix {:?}; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        requests as f64 / elapsed,
        total.by_kind,
        percentile(0.50),
        percentile(0.99),
        percentile(1.0),
    );
    println!("load: resident memory (MiB) at start {at_start:?}, warm {warm:?}, end {at_end:?}");
    for service in Service::ALL {
        let series: Vec<String> = samples
            .iter()
            .map(|s| s[service.binary()].to_string())
            .collect();
        println!(
            "load: {} MiB every tenth of the run: {}",
            service.binary(),
            series.join(" ")
        );
    }
    drop(stack);
}
