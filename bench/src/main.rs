//! `make bench`: closed-loop load against the gateway and against inventory called directly
//! (with a valid signed principal), in the same run on the same machine, plus the cost of a
//! refused key. Figures go to stdout and to docs/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use clientstor_e2e::Stack;
use serde_json::json;

pub struct Figures {
    name: &'static str,
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    statuses: String,
}

/// `connections` loops each sending GETs back to back for `duration`.
pub async fn load(
    name: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    connections: usize,
    duration: Duration,
) -> Figures {
    load_with(name, connections, duration, move |client, _| {
        let mut request = client.get(&url);
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        request
    })
    .await
}

/// `connections` loops each creating an asset per request for `duration`.
pub async fn post_load(
    name: &'static str,
    url: String,
    key: &str,
    connections: usize,
    duration: Duration,
) -> Figures {
    let key = key.to_string();
    load_with(name, connections, duration, move |client, i| {
        client
            .post(&url)
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": format!("bench-create-{i}"), "asset_type": "server"}))
    })
    .await
}

/// `connections` loops each sending the request `make` builds, back to back, for `duration`.
pub async fn load_with<F>(
    name: &'static str,
    connections: usize,
    duration: Duration,
    make: F,
) -> Figures
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let started = Instant::now();
    let tasks = (0..connections).map(|_| {
        let (client, make) = (client.clone(), make.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            while started.elapsed() < duration {
                let request = make(&client, latencies.len());
                let sent = Instant::now();
                let status = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                *statuses.entry(status).or_default() += 1;
            }
            (latencies, statuses)
        })
    });
    let mut latencies = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for result in futures_util::future::join_all(tasks).await {
        let (l, s) = result.unwrap();
        latencies.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        name,
        requests: latencies.len(),
        seconds,
        p50_ms: at(0.50),
        p90_ms: at(0.90),
        p99_ms: at(0.99),
        statuses: statuses
            .iter()
            .map(|(k, v)| format!("{k}×{v}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

mod assets;
mod monitors;
mod rmm;
mod vault;
mod vulns;
mod webhooks;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let setting = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let seconds = setting("BENCH_SECONDS", 10);
    let connections = setting("BENCH_CONNECTIONS", 16) as usize;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    // BENCH_ONLY=assets (or gateway, webhooks, vault, monitors, rmm, vulns) runs one section and only
    // prints it.
    let only = std::env::var("BENCH_ONLY").ok();
    if let Some(only) = only.as_deref() {
        let section = match only {
            "gateway" => gateway_section(seconds, connections).await,
            "webhooks" => webhooks::section(seconds).await,
            "vault" => vault::section(seconds, connections).await,
            "monitors" => monitors::section(seconds).await,
            "rmm" => rmm::section().await,
            "vulns" => vulns::section(),
            _ => assets::section(seconds, connections).await,
        };
        println!("{section}");
        return;
    }
    let gateway = gateway_section(seconds, connections).await;
    let webhooks = webhooks::section(seconds).await;
    let assets = assets::section(seconds, connections).await;
    let vault = vault::section(seconds, connections).await;
    let monitors = monitors::section(120).await;
    let rmm = rmm::section().await;
    let vulns = vulns::section();
    let report = format!(
        "# Benchmarks\n\nProduced by `make bench` (scripts/bench.sh → `cargo run --release -p clientstor-bench`) on {} \
         with {cores} cores. The load generator, the services, Postgres and RabbitMQ share the machine, so compare \
         rows of one run as ratios, not across machines.\n\n{gateway}\n{webhooks}\n{assets}\n{vault}\n{monitors}\n{rmm}\n{vulns}",
        chrono::Utc::now().format("%Y-%m-%d"),
    );
    println!("{report}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/BENCHMARKS.md");
    std::fs::write(&path, report).unwrap();
}

/// The figures as a Markdown table.
pub fn table(results: &[Figures]) -> String {
    let mut table = String::from(
        "| scenario | requests/s | p50 ms | p90 ms | p99 ms | statuses |\n|---|---|---|---|---|---|\n",
    );
    for f in results {
        table.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |\n",
            f.name,
            f.requests as f64 / f.seconds,
            f.p50_ms,
            f.p90_ms,
            f.p99_ms,
            f.statuses
        ));
    }
    table
}

async fn gateway_section(seconds: u64, connections: usize) -> String {
    let duration = Duration::from_secs(seconds);
    // Limits are raised for the run: this measures the path, not the limiter saying no.
    let stack = Stack::start_with(&[
        ("gateway.rate_limit.per_minute", "100000000"),
        ("gateway.rate_limit.org_per_minute", "100000000"),
        ("gateway.rate_limit.auth_failures_per_minute", "100000000"),
        // The production pool size; the test default is smaller.
        ("database.pool_size", "16"),
    ])
    .await;
    for i in 0..25 {
        let created = stack
            .post(
                "/api/v1/assets/",
                json!({"name": format!("bench-{i}"), "asset_type": "server"}),
            )
            .await;
        assert_eq!(created.status(), 201);
    }
    let principal = clientstor_http::Principal {
        uid: 1,
        kid: None,
        rid: "bench".into(),
        exp: chrono::Utc::now().timestamp() + 3 * seconds as i64 + 120,
        adm: false,
        home: Some(stack.org_id),
        orgs: [(stack.org_id, "owner".to_string())].into(),
        roles: [(
            "owner".to_string(),
            clientstor_http::Role::Owner.permissions(),
        )]
        .into(),
    };
    let signed = stack.inventory.context.principal_key.sign(&principal);
    let (_, unknown_key) = api_gateway::keys::generate().unwrap();
    let through_gateway = stack.url("/api/v1/assets/");
    let direct = format!("http://{}/api/v1/assets/", stack.inventory.addr);
    let bearer = |key: &str| vec![("authorization".to_string(), format!("Bearer {key}"))];

    // Warm both paths (connections, caches) before measuring.
    load(
        "warm-up",
        through_gateway.clone(),
        bearer(&stack.key),
        connections,
        Duration::from_secs(2),
    )
    .await;
    load(
        "warm-up",
        direct.clone(),
        vec![("x-clientstor-principal".into(), signed.clone())],
        connections,
        Duration::from_secs(2),
    )
    .await;
    let results = vec![
        load(
            "GET /api/v1/assets/ through the gateway",
            through_gateway.clone(),
            bearer(&stack.key),
            connections,
            duration,
        )
        .await,
        load(
            "GET /api/v1/assets/ on inventory directly",
            direct,
            vec![("x-clientstor-principal".into(), signed)],
            connections,
            duration,
        )
        .await,
        load(
            "unknown key → 401 at the gateway",
            through_gateway,
            bearer(&unknown_key),
            connections,
            duration,
        )
        .await,
    ];
    stack.stop().await;

    let table = table(&results);
    let (gw, direct) = (&results[0], &results[1]);
    let summary = format!(
        "Gateway vs direct, same run: throughput ratio {:.2}; added latency p50 {:+.2} ms, p99 {:+.2} ms.\n",
        (gw.requests as f64 / gw.seconds) / (direct.requests as f64 / direct.seconds),
        gw.p50_ms - direct.p50_ms,
        gw.p99_ms - direct.p99_ms
    );
    format!(
        "## Gateway\n\n{connections} closed-loop connections for {seconds} s per scenario after a 2 s warm-up. \
         Rate limits (per key, per organization, failed authentications) are raised for the run so that every \
         request takes the full path; the 401 row uses a well-formed key that was never issued (one key lookup \
         per request, nothing cached). The page returned has 25 assets.\n\n{table}\n{summary}"
    )
}
