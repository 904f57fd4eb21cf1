//! Webhook delivery: signed deliveries per second with the log written, commit-to-first-attempt
//! latency at a steady event rate, and fan-out of one event to many endpoints.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use clientstor_e2e::Stack;
use clientstor_events::v1::AssetChanged;
use clientstor_events::{Organization, Payload, new_envelope};
use clientstor_testkit::Receiver;
use diesel_async::RunQueryDsl;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn add_endpoints(stack: &Stack, org: i64, url: &str, count: usize) {
    let mut conn = stack.env.db.connect().await;
    diesel::sql_query(format!(
        "INSERT INTO webhooks.endpoints (organization_id, name, url, events, secret) \
         SELECT {org}, 'bench-' || n, '{url}', ARRAY['asset.created'], '{SECRET}' FROM generate_series(1, {count}) n"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

/// Waits until every attempt has been written, then removes the endpoints (and so their
/// deliveries) for the next scenario.
async fn clear(conn: &mut diesel_async::AsyncPgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    for _ in 0..600 {
        let open: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM webhooks.deliveries WHERE attempt_count = 0",
        )
        .get_result(conn)
        .await
        .unwrap();
        if open.n == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    diesel::sql_query("DELETE FROM webhooks.endpoints")
        .execute(conn)
        .await
        .unwrap();
}

async fn wait_for(receiver: &Receiver, count: usize, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while receiver.count() < count {
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Some(started.elapsed())
}

/// Writes one `asset.created` to inventory's outbox, as a create would, and wakes the relay.
async fn commit_event(stack: &Stack, conn: &mut diesel_async::AsyncPgConnection, i: i64) -> String {
    let envelope = new_envelope(
        clientstor_events::types::ASSET_CREATED,
        "bench",
        Organization {
            id: stack.org_id,
            name: "Acme Corp".into(),
        },
        Payload::AssetChanged(AssetChanged {
            id: i,
            name: format!("a{i}"),
            asset_type: "server".into(),
            ..Default::default()
        }),
    );
    clientstor_bus::enqueue(conn, "inventory", &envelope)
        .await
        .unwrap();
    stack.inventory.context.outbox.notify();
    format!("msg_{}", uuid_simple(&envelope.event_id))
}

fn uuid_simple(id: &str) -> String {
    id.replace('-', "")
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

pub async fn section(seconds: u64) -> String {
    // The production pool size; the test default is smaller.
    let stack = Stack::start_with(&[
        ("webhooks.retry_schedule", "0,1s"),
        ("database.pool_size", "16"),
    ])
    .await;
    let mut out = String::from("## Webhooks\n\n");

    // 1. Throughput: deliveries made due all at once, one endpoint, the log written per attempt.
    let receiver = Receiver::start().await;
    add_endpoints(&stack, stack.org_id, &receiver.url("/t"), 1).await;
    let total = 5000;
    let mut conn = stack.env.db.connect().await;
    diesel::sql_query(format!(
        "INSERT INTO webhooks.deliveries (endpoint_id, organization_id, event_id, event_type, message_id, body) \
         SELECT e.id, e.organization_id, gen_random_uuid(), 'asset.created', 'msg_' || n, \
                '{{\"event\":\"asset.created\",\"data\":{{\"id\":' || n || '}}}}' \
         FROM webhooks.endpoints e, generate_series(1, {total}) n WHERE e.name = 'bench-1'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let elapsed = wait_for(&receiver, total, Duration::from_secs(300)).await;
    let throughput = elapsed.map(|e| total as f64 / e.as_secs_f64());
    out.push_str(&format!(
        "- Signed deliveries to one loopback receiver, attempt and status written for each: **{}** deliveries/s \
         ({total} due at once).\n",
        throughput.map_or("did not finish".into(), |t| format!("{t:.0}"))
    ));
    clear(&mut conn).await;

    // 2. Latency from the event's commit (outbox insert) to the first attempt, at a steady rate.
    let receiver = Receiver::start().await;
    add_endpoints(&stack, stack.org_id, &receiver.url("/l"), 1).await;
    let rate = 500u64;
    let count = (rate * seconds) as usize;
    let mut inventory_conn = stack.env.db.connect().await;
    let mut committed: HashMap<String, Instant> = HashMap::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let due = started + Duration::from_micros(1_000_000 * i as u64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let id = commit_event(&stack, &mut inventory_conn, i as i64).await;
        committed.insert(id, Instant::now());
    }
    let offered = count as f64 / started.elapsed().as_secs_f64();
    let finished = wait_for(&receiver, count, Duration::from_secs(120))
        .await
        .is_some();
    let mut latencies: Vec<f64> = receiver
        .requests()
        .iter()
        .filter_map(|r| {
            let at = committed.get(r.header("webhook-id")?)?;
            Some(r.at.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    out.push_str(&format!(
        "- Commit to first attempt at {offered:.0} events/s for {seconds} s ({count} events{}): p50 **{:.1} ms**, \
         p90 {:.1} ms, p99 **{:.1} ms**, max {:.1} ms. The path: outbox row → relay (woken on commit) → RabbitMQ \
         with publisher confirms → dispatcher consumer (inbox + delivery row) → worker.\n",
        if finished { "" } else { ", not all delivered in time" },
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
    ));
    clear(&mut conn).await;

    // 3. Fan-out: one event to a thousand endpoints.
    let receiver = Receiver::start().await;
    let endpoints = 1000;
    add_endpoints(&stack, stack.org_id, &receiver.url("/f"), endpoints).await;
    let started = Instant::now();
    commit_event(&stack, &mut inventory_conn, 1).await;
    let fanout = wait_for(&receiver, endpoints, Duration::from_secs(120)).await;
    out.push_str(&format!(
        "- Fan-out of one event to {endpoints} endpoints: all delivered {} after the commit.\n",
        fanout.map_or("not within 120 s".into(), |d| format!(
            "{:.0} ms",
            d.as_secs_f64() * 1000.0
        ))
    ));
    let _ = started;
    stack.stop().await;
    out
}
