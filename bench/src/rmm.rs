//! RMM sync at scale: 10,000 devices served by a local NinjaOne-format server (keyset pages of
//! 250), synced through the API until every device is an asset visible through the gateway;
//! then the same sync again with nothing changed.

use std::time::{Duration, Instant};

use clientstor_e2e::Stack;
use clientstor_testkit::poll_until;
use clientstor_testkit::rmm_platforms::{FakeDevice, Faults, Platform, RmmPlatform};
use serde_json::{Value, json};

const DEVICES: u64 = 10_000;

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Starts a sync and returns the finished run and the seconds it took.
async fn timed_sync(stack: &Stack, id: i64) -> (Value, f64) {
    let started = Instant::now();
    let run = body(
        stack
            .post(&format!("/api/v1/integrations/rmm/{id}/sync/"), json!({}))
            .await,
    )
    .await;
    let run_id = run["id"].as_i64().unwrap();
    let run = poll_until(
        "the run to finish",
        Duration::from_secs(1800),
        || async move {
            let run = body(
                stack
                    .get(&format!("/api/v1/integrations/rmm/{id}/runs/{run_id}/"))
                    .await,
            )
            .await;
            run["finished_at"].is_string().then_some(run)
        },
    )
    .await;
    (run, started.elapsed().as_secs_f64())
}

pub async fn section() -> String {
    let stack = Stack::start_with(&[
        ("gateway.rate_limit.per_minute", "100000000"),
        ("gateway.rate_limit.org_per_minute", "100000000"),
        ("database.pool_size", "16"),
    ])
    .await;
    // 50 customers of 200 devices each.
    let devices: Vec<FakeDevice> = (1..=DEVICES)
        .map(|i| FakeDevice::numbered(i, 1 + i % 50, &format!("Client {}", 1 + i % 50)))
        .collect();
    let server = RmmPlatform::start(Platform::NinjaOne, devices, Faults::default()).await;
    let created = body(
        stack
            .post(
                "/api/v1/integrations/rmm/",
                json!({"name": "bench", "provider": "ninjaone", "base_url": server.base_url,
                       "credentials": server.credentials(), "enabled": false}),
            )
            .await,
    )
    .await;
    let id = created["id"].as_i64().unwrap();

    let started = Instant::now();
    let (first, run_seconds) = timed_sync(&stack, id).await;
    assert_eq!(first["created"], DEVICES as i64, "{first}");
    poll_until(
        "every device to be an asset",
        Duration::from_secs(1800),
        || async {
            let page = body(stack.get("/api/v1/assets/?page_size=1").await).await;
            (page["count"].as_u64() == Some(DEVICES)).then_some(())
        },
    )
    .await;
    let end_to_end = started.elapsed().as_secs_f64();
    let (second, again_seconds) = timed_sync(&stack, id).await;
    assert_eq!(second["unchanged"], DEVICES as i64, "{second}");
    server.stop().await;
    stack.stop().await;
    let per_second = |s: f64| DEVICES as f64 / s;
    format!(
        "## RMM sync\n\n`BENCH_ONLY=rmm make bench`. {DEVICES} devices of 50 customers served by a \
         local NinjaOne-format server (`/v2/devices-detailed`, keyset pages of 250, OAuth client \
         credentials), synced with `POST /api/v1/integrations/rmm/{{id}}/sync/` through the gateway. \
         The run reads the pages, stores the devices and writes one `rmm.device.upserted` per \
         device to the outbox; inventory consumes them and matches or creates an asset each \
         (serial, MAC, hostname lookups, `asset.created` to its outbox). End to end stops when \
         `GET /api/v1/assets/` counts all {DEVICES}.\n\n\
         | step | seconds | devices/s |\n|---|---|---|\n\
         | first sync: run finished ({} pages) | {run_seconds:.1} | {:.0} |\n\
         | first sync: every device an asset through the API | {end_to_end:.1} | {:.0} |\n\
         | second sync, nothing changed (no events) | {again_seconds:.1} | {:.0} |\n\n\
         The end-to-end figure is bound by inventory applying the events one by one (link \
         lookup, serial, MAC and hostname matches, insert, `asset.created`) on the same cores \
         as the sync, the relay and the broker. The second sync publishes nothing: it reads and \
         compares the pages and touches the rows.\n",
        first["pages_fetched"],
        per_second(run_seconds),
        per_second(end_to_end),
        per_second(again_seconds),
    )
}
