//! Assets at scale: a million assets over a thousand organizations (ten thousand in the key's
//! own), then list, search, ordering, filter, detail and create through the gateway.

use std::time::{Duration, Instant};

use clientstor_e2e::Stack;
use diesel_async::RunQueryDsl;

use crate::{Figures, load, table};

const TOTAL: i64 = 1_000_000;
const OWN: i64 = 10_000;
const ORGS: i64 = 1_000;

/// Fills inventory with generated rows (no events: this is data, not traffic).
async fn generate(stack: &Stack) -> Duration {
    let started = Instant::now();
    let mut conn = stack.env.db.connect().await;
    let own = stack.org_id;
    let statements = [
        format!(
            "INSERT INTO inventory.organizations (id, name) SELECT {own} + n, 'Org ' || n FROM generate_series(1, {}) n \
             ON CONFLICT DO NOTHING",
            ORGS - 1
        ),
        // Ten thousand in the key's organization, one of them with a rare serial number.
        format!(
            "INSERT INTO inventory.assets (organization_id, name, asset_type, serial_number, hostname, manufacturer, model, status) \
             SELECT {own}, 'asset-' || n, (ARRAY['server','workstation','laptop','switch'])[1 + n % 4], \
                    CASE WHEN n = 4242 THEN 'SN-RARE-4242' ELSE 'SN' || lpad(n::text, 8, '0') END, \
                    'host' || n || '.acme.lan', (ARRAY['Dell','HP','Lenovo','Cisco'])[1 + n % 4], 'M' || (n % 97), \
                    (ARRAY['active','active','active','retired'])[1 + n % 4] \
             FROM generate_series(1, {OWN}) n"
        ),
        // The rest spread over the other organizations.
        format!(
            "INSERT INTO inventory.assets (organization_id, name, asset_type, serial_number, hostname, manufacturer, model) \
             SELECT {own} + 1 + n % {}, 'asset-' || n, (ARRAY['server','workstation','laptop','switch'])[1 + n % 4], \
                    'SX' || lpad(n::text, 9, '0'), 'host' || n || '.client.lan', (ARRAY['Dell','HP','Lenovo','Cisco'])[1 + n % 4], \
                    'M' || (n % 97) \
             FROM generate_series(1, {}) n",
            ORGS - 1,
            TOTAL - OWN
        ),
        // A table of this size in service has been vacuumed; without it autovacuum would run
        // in the middle of the measurements.
        "VACUUM (ANALYZE) inventory.assets".to_string(),
    ];
    for sql in statements {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    started.elapsed()
}

/// Requests sent at a fixed rate whatever the answers' pace (open loop), for latency
/// percentiles at a stated offered load. `url(i)` gives the i-th request's address.
async fn fixed_rate(
    url: impl Fn(u64) -> String,
    key: &str,
    rate: u64,
    duration: Duration,
) -> (f64, f64, f64, usize) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let count = (rate as f64 * duration.as_secs_f64()) as u64;
    let mut tasks = Vec::with_capacity(count as usize);
    for i in 0..count {
        tokio::time::sleep_until((started + Duration::from_micros(1_000_000 * i / rate)).into())
            .await;
        let request = client.get(url(i)).bearer_auth(key);
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = match request.send().await {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            (sent.elapsed().as_secs_f64() * 1000.0, ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut failures = 0;
    for task in tasks {
        let (ms, ok) = task.await.unwrap();
        latencies.push(ms);
        failures += usize::from(!ok);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99), latencies[latencies.len() - 1], failures)
}

pub async fn section(seconds: u64, connections: usize) -> String {
    let stack = Stack::start_with(&[
        ("gateway.rate_limit.per_minute", "100000000"),
        ("gateway.rate_limit.org_per_minute", "100000000"),
        ("database.pool_size", "16"),
    ])
    .await;
    let generated = generate(&stack).await;
    let duration = Duration::from_secs(seconds);
    let bearer = vec![("authorization".to_string(), format!("Bearer {}", stack.key))];
    let url = |path: &str| stack.url(path);
    let detail = {
        let page: serde_json::Value = stack
            .get("/api/v1/assets/?page_size=1")
            .await
            .json()
            .await
            .unwrap();
        format!("/api/v1/assets/{}/", page["results"][0]["id"])
    };
    load(
        "warm-up",
        url("/api/v1/assets/"),
        bearer.clone(),
        connections,
        Duration::from_secs(2),
    )
    .await;
    let mut results: Vec<Figures> = Vec::new();
    for (name, path) in [
        ("first page", "/api/v1/assets/".to_string()),
        (
            "search, rare term",
            "/api/v1/assets/?search=sn-rare-4242".to_string(),
        ),
        (
            "search, common term",
            "/api/v1/assets/?search=acme.lan".to_string(),
        ),
        (
            "ordering=-updated_at",
            "/api/v1/assets/?ordering=-updated_at".to_string(),
        ),
        (
            "filter asset_type=switch&status=retired",
            "/api/v1/assets/?asset_type=switch&status=retired".to_string(),
        ),
        ("detail", detail.clone()),
    ] {
        let figures = load(name, url(&path), bearer.clone(), connections, duration).await;
        results.push(figures);
    }
    // Creates, one per request, through the gateway.
    let creates = crate::post_load(
        "create",
        url("/api/v1/assets/"),
        &stack.key,
        connections,
        duration,
    )
    .await;
    results.push(creates);
    // Let the creates' events drain (relay, dispatcher) so they do not share the cores.
    for _ in 0..120 {
        if stack
            .count("SELECT count(*) AS n FROM inventory.outbox WHERE sent_at IS NULL")
            .await
            .is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The same search repeated (scripts polling, users paging back and forth), then a
    // different answer each time, so that every request counts and finds its page anew.
    let (high, low) = (500, 50);
    let search = |path: &'static str| move |_: u64| url(path);
    let mut fixed = Vec::new();
    for (name, rate, result) in [
        (
            "rare term (`sn-rare-4242`, 1 match), repeated",
            high,
            fixed_rate(
                search("/api/v1/assets/?search=sn-rare-4242"),
                &stack.key,
                high,
                duration,
            )
            .await,
        ),
        (
            "common term (`acme.lan`, 10000 matches), repeated",
            high,
            fixed_rate(
                search("/api/v1/assets/?search=acme.lan"),
                &stack.key,
                high,
                duration,
            )
            .await,
        ),
        (
            "rare term, a different serial number each request",
            low,
            fixed_rate(
                |i| url(&format!("/api/v1/assets/?search=sn{:08}", 1 + i % 9_999)),
                &stack.key,
                low,
                duration,
            )
            .await,
        ),
        (
            "common term, a different page size each request",
            low,
            fixed_rate(
                |i| {
                    url(&format!(
                        "/api/v1/assets/?search=acme.lan&page_size={}",
                        1 + i % 200
                    ))
                },
                &stack.key,
                low,
                duration,
            )
            .await,
        ),
    ] {
        fixed.push(format!(
            "| {name} | {rate} | {:.2} | {:.2} | {:.2} | {} |",
            result.0, result.1, result.2, result.3
        ));
    }
    stack.stop().await;
    format!(
        "## Assets at scale\n\n{TOTAL} assets over {ORGS} organizations ({OWN} in the key's own, {:.0} s to generate), \
         all requests through the gateway with a key of the {OWN}-asset organization, {connections} closed-loop \
         connections for {seconds} s each (rate limits raised for the run).\n\n{}\n\
         Search at a fixed offered rate (open loop) for {seconds} s each, latency to the last byte:\n\n\
         | search | requests/s offered | p50 ms | p99 ms | max ms | failed |\n|---|---|---|---|---|---|\n{}\n",
        generated.as_secs_f64(),
        table(&results),
        fixed.join("\n"),
    )
}
