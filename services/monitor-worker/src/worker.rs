//! The scheduler: claims due monitors a little ahead of time, starts each check at its due
//! moment (bounded concurrency), and hands results to one writer that stores them in batches.
//! Replicas share the table: a claim moves `next_check_at` on by one interval under SKIP
//! LOCKED, so no monitor is checked twice in an interval, and a stopped replica's monitors are
//! simply claimed by the others when they fall due.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clientstor_events::v1::{MonitorChanged, Organization, envelope::Payload};
use clientstor_runtime::Context;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::check::Checker;
use crate::db::checks;
use crate::db::claims::{self, CheckResult, Current, NewState};
use crate::maintenance;
use crate::state::{self, State, Thresholds, Transition};

/// How far ahead monitors are claimed; each check still starts at its due time.
const LOOKAHEAD: Duration = Duration::from_millis(1500);
const POLL: Duration = Duration::from_millis(250);
const BATCH: usize = 500;
const FLUSH: Duration = Duration::from_millis(200);
const ROLLUP_EVERY: Duration = Duration::from_secs(300);

pub fn spawn(context: &Context, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let policy = match clientstor_outbound::Policy::from_settings(&context.settings.outbound) {
        Ok(policy) => Arc::new(policy),
        Err(error) => {
            eprintln!("monitor-worker: {error}");
            std::process::exit(2);
        }
    };
    let checker = match Checker::new(policy) {
        Ok(checker) => Arc::new(checker),
        Err(error) => {
            eprintln!("monitor-worker: {error}");
            std::process::exit(1);
        }
    };
    let metrics = context
        .metrics
        .counter(
            "monitor_checks_total",
            "Checks by result (up, down)",
            &["result"],
        )
        .and_then(|checks| {
            context
                .metrics
                .histogram(
                    "monitor_schedule_lag_seconds",
                    "Start of a check minus its due time",
                    vec![0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 30.0],
                    &[],
                )
                .map(|lag| Metrics { checks, lag })
        });
    let metrics = match metrics {
        Ok(metrics) => Arc::new(metrics),
        Err(error) => {
            eprintln!("monitor-worker: metrics: {error}");
            std::process::exit(1);
        }
    };
    let (results, incoming) = mpsc::channel::<CheckResult>(4 * BATCH);
    let concurrency = context.settings.monitor.concurrency.max(1);
    vec![
        tokio::spawn(schedule(
            context.clone(),
            checker,
            metrics,
            results,
            Arc::new(Semaphore::new(concurrency)),
            shutdown.clone(),
        )),
        tokio::spawn(write(context.clone(), incoming)),
        tokio::spawn(roll_up(context.clone(), shutdown)),
    ]
}

struct Metrics {
    checks: prometheus::IntCounterVec,
    lag: prometheus::HistogramVec,
}

async fn schedule(
    context: Context,
    checker: Arc<Checker>,
    metrics: Arc<Metrics>,
    results: mpsc::Sender<CheckResult>,
    permits: Arc<Semaphore>,
    shutdown: CancellationToken,
) {
    loop {
        let room = i64::try_from(permits.available_permits().min(BATCH)).unwrap_or(0);
        if room > 0 {
            let horizon = Utc::now() + chrono::Duration::from_std(LOOKAHEAD).unwrap_or_default();
            match claims::claim(&context.pool, horizon, room).await {
                Ok(claimed) => {
                    for monitor in claimed {
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            return;
                        };
                        let (checker, results) = (checker.clone(), results.clone());
                        let metrics = metrics.clone();
                        tokio::spawn(async move {
                            let wait = (monitor.due_at - Utc::now()).to_std().unwrap_or_default();
                            tokio::time::sleep(wait).await;
                            let result = checker.run(&monitor).await;
                            let lag = (result.checked_at - result.due_at).num_milliseconds();
                            metrics
                                .lag
                                .with_label_values::<&str>(&[])
                                .observe(lag.max(0) as f64 / 1000.0);
                            metrics
                                .checks
                                .with_label_values(&[if result.ok { "up" } else { "down" }])
                                .inc();
                            drop(permit);
                            let _ = results.send(result).await;
                        });
                    }
                }
                Err(error) => tracing::warn!(%error, "claiming due monitors failed"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = context.work.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Collects results for up to FLUSH or BATCH and writes them in one transaction; ends when
/// every sender is gone (after the in-flight checks of a shutdown).
async fn write(context: Context, mut incoming: mpsc::Receiver<CheckResult>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let Some(first) = incoming.recv().await else {
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + FLUSH;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, incoming.recv()).await {
                Ok(Some(result)) => batch.push(result),
                Ok(None) | Err(_) => break,
            }
        }
        // Retried until stored: a result is not dropped for a passing database error.
        let mut delay = Duration::from_millis(100);
        loop {
            match claims::write_batch(&context.pool, &batch, decide).await {
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, results = batch.len(), "writing check results failed");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        context.outbox.notify();
        batch.clear();
    }
}

fn target(monitor: &Current) -> String {
    match (
        monitor.monitor_type.as_str(),
        &monitor.url,
        &monitor.host,
        monitor.port,
    ) {
        ("http", Some(url), _, _) => url.clone(),
        (_, _, Some(host), Some(port)) => format!("{host}:{port}"),
        (_, _, Some(host), None) => host.clone(),
        _ => String::new(),
    }
}

/// The new state of `monitor` after `result`, and its event.
fn decide(
    monitor: &Current,
    organization_name: &str,
    result: &CheckResult,
) -> (NewState, Option<clientstor_events::v1::Envelope>) {
    let before = State {
        status: monitor.status.clone(),
        announced_status: monitor.announced_status.clone(),
        consecutive_failures: monitor.consecutive_failures,
        consecutive_successes: monitor.consecutive_successes,
        down_since: monitor.down_since,
    };
    let in_maintenance = maintenance::active(&monitor.maintenance_windows, result.checked_at);
    let (after, transition) = state::apply(
        &before,
        result.ok,
        result.checked_at,
        &Thresholds {
            failure: monitor.failure_threshold,
            success: monitor.success_threshold,
        },
        in_maintenance,
    );
    let checked_at = result
        .checked_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let event = transition.map(|transition| {
        let (event_type, error, down_since, downtime) = match transition {
            Transition::WentDown => (
                clientstor_events::types::MONITOR_DOWN,
                result.error.clone(),
                None,
                None,
            ),
            Transition::CameUp { down_since } => (
                clientstor_events::types::MONITOR_UP,
                None,
                down_since.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                down_since.map(|at| (result.checked_at - at).num_seconds()),
            ),
        };
        clientstor_events::new_envelope(
            event_type,
            "monitor-worker",
            Organization {
                id: monitor.organization_id,
                name: organization_name.to_string(),
            },
            Payload::MonitorChanged(MonitorChanged {
                monitor_id: monitor.id,
                name: monitor.name.clone(),
                url: target(monitor),
                monitor_type: monitor.monitor_type.clone(),
                checked_at: checked_at.clone(),
                error,
                consecutive_failures: after.consecutive_failures,
                down_since,
                downtime_seconds: downtime,
            }),
        )
    });
    (
        NewState {
            id: monitor.id,
            status: after.status,
            announced_status: after.announced_status,
            consecutive_failures: after.consecutive_failures,
            consecutive_successes: after.consecutive_successes,
            down_since: after.down_since,
        },
        event,
    )
}

async fn roll_up(context: Context, shutdown: CancellationToken) {
    let settings = &context.settings.monitor;
    loop {
        if let Err(error) = checks::roll_up(
            &context.pool,
            i64::try_from(settings.raw_retention_days).unwrap_or(7),
            i64::try_from(settings.rollup_retention_days).unwrap_or(90),
        )
        .await
        {
            tracing::warn!(%error, "rolling up check history failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(ROLLUP_EVERY) => {}
        }
    }
}
