//! 10,000 HTTP monitors at a 60 s interval against a local target, checked by the release
//! `monitor-worker` binary as its own process: checks per second, schedule lag (start of a
//! check minus its due time) p50/p99, and the worker's CPU share and RSS from /proc.

use std::time::{Duration, Instant};

use clientstor_config::Service;
use clientstor_testkit::{Receiver, TestEnv};
use diesel::sql_types::{BigInt, Double};
use diesel_async::RunQueryDsl;

const MONITORS: i64 = 10_000;
const INTERVAL: i64 = 60;

#[derive(diesel::QueryableByName)]
struct Lag {
    #[diesel(sql_type = BigInt)]
    checks: i64,
    #[diesel(sql_type = Double)]
    p50: f64,
    #[diesel(sql_type = Double)]
    p99: f64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
}

/// (user + system CPU seconds, RSS in MiB, peak RSS in MiB) of a process.
fn usage(pid: u32) -> (f64, f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (cpu, kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

pub async fn section(seconds: u64) -> String {
    let env = TestEnv::new(&[(Service::Monitor, &monitor_worker::MIGRATIONS)]).await;
    let target = Receiver::start().await;
    let mut conn = env.db.connect().await;
    diesel::sql_query(format!(
        "INSERT INTO monitor.monitors (organization_id, name, monitor_type, url, interval_seconds, \
           timeout_seconds, next_check_at) \
         SELECT 1, 'bench-' || n, 'http', '{}', {INTERVAL}, 10, \
           now() + interval '5 seconds' + (n % {INTERVAL}) * interval '1 second' \
                 + (n / {INTERVAL} % 1000) * interval '1 millisecond' \
         FROM generate_series(1, {MONITORS}) n",
        target.url("/health")
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let binary =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/monitor-worker");
    let mut child = tokio::process::Command::new(&binary)
        .arg("serve")
        .env("CLIENTSTOR_DATABASE__URL", &env.db.url)
        .env("CLIENTSTOR_DATABASE__POOL_SIZE", "8")
        .env("CLIENTSTOR_AMQP__URL", &env.bus.url)
        .env("CLIENTSTOR_AMQP__EXCHANGE", &env.bus.exchange)
        .env("CLIENTSTOR_AMQP__QUEUE_PREFIX", &env.bus.queue_prefix)
        .env("CLIENTSTOR_GATEWAY__INTERNAL_SECRET", &env.internal_secret)
        .env("CLIENTSTOR_MONITOR__LISTEN", "127.0.0.1:0")
        .env("CLIENTSTOR_OUTBOUND__ALLOW_PRIVATE", "true")
        .env("CLIENTSTOR_TELEMETRY__LOG_LEVEL", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let pid = child.id().unwrap_or_default();
    // One interval to settle, then the measured window.
    let warm_up = Duration::from_secs(INTERVAL as u64 + 5);
    let window = Duration::from_secs(seconds.max(INTERVAL as u64));
    tokio::time::sleep(warm_up).await;
    let (cpu_start, _, _) = usage(pid);
    let started = Instant::now();
    let since = chrono::Utc::now();
    tokio::time::sleep(window).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu_end, rss, peak) = usage(pid);
    let until = chrono::Utc::now();
    let _ = child.kill().await;
    let lag: Lag = diesel::sql_query(
        "SELECT count(*) AS checks, \
           coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM checked_at - due_at)), 0) * 1000 AS p50, \
           coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM checked_at - due_at)), 0) * 1000 AS p99, \
           count(*) FILTER (WHERE NOT ok) AS failed \
         FROM monitor.checks WHERE checked_at >= $1 AND checked_at < $2",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(since)
    .bind::<diesel::sql_types::Timestamptz, _>(until)
    .get_result(&mut conn)
    .await
    .unwrap();
    let rate = lag.checks as f64 / elapsed;
    let cpu_share = (cpu_end - cpu_start) / elapsed;
    format!(
        "## Monitors\n\n{MONITORS} HTTP monitors at a {INTERVAL} s interval against a local target, checked by \
         the release `monitor-worker` binary in its own process (the target, Postgres and RabbitMQ share the \
         machine). Measured over {elapsed:.0} s after one interval of warm-up; lag is the start of a check \
         minus its due time.\n\n\
         | checks/s (expected {:.0}) | lag p50 ms | lag p99 ms | failed checks | worker CPU (cores) | RSS MiB | peak RSS MiB |\n\
         |---|---|---|---|---|---|---|\n\
         | {rate:.1} | {:.1} | {:.1} | {} | {cpu_share:.2} | {rss:.0} | {peak:.0} |\n",
        MONITORS as f64 / INTERVAL as f64,
        lag.p50,
        lag.p99,
        lag.failed,
    )
}
