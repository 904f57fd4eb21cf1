//! The scheduler and the run workers. Every replica queues the integrations that are due (the
//! unique index keeps one active run per integration), takes back runs whose lease passed, and
//! executes queued runs up to `RMM__CONCURRENCY` at once. A manual sync wakes it at once.

use std::sync::Arc;
use std::time::Duration;

use clientstor_runtime::Context;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::connectors::Http;
use crate::connectors::http::Retry;
use crate::db::runs;
use crate::error::RmmError;
use crate::metrics::Metrics;
use crate::sync::Runner;

pub fn spawn(context: &Context, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let fail = |what: &str, error: String| -> ! {
        eprintln!("rmm-sync: {what}: {error}");
        std::process::exit(2);
    };
    let settings = context.settings.rmm.clone();
    let keyring = crate::secrets::keyring(&context.settings).unwrap_or_else(|e| fail("keys", e));
    let policy = clientstor_outbound::Policy::from_settings(&context.settings.outbound)
        .map(Arc::new)
        .unwrap_or_else(|e| fail("outbound", e.to_string()));
    let timeout = Duration::from_secs(context.settings.outbound.timeout_seconds.max(1));
    let http = Http::new(policy, timeout, Retry::default()).unwrap_or_else(|e| fail("http", e));
    let metrics = Metrics::register(&context.metrics).unwrap_or_else(|e| fail("metrics", e));
    let runner = Arc::new(Runner {
        pool: context.pool.clone(),
        keyring,
        http,
        settings,
        outbox: context.outbox.clone(),
        metrics,
    });
    let context = context.clone();
    vec![tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(runner.settings.concurrency.max(1)));
        let tick = Duration::from_secs(runner.settings.poll_seconds.max(1));
        loop {
            match pass(&runner, &slots).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "sync scheduling pass failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = context.work.notified() => {}
                _ = tokio::time::sleep(tick) => {}
            }
        }
    })]
}

/// Queues due integrations, retakes stale runs, and starts one queued run if a slot is free.
/// True when it started one (there may be more).
async fn pass(runner: &Arc<Runner>, slots: &Arc<Semaphore>) -> Result<bool, RmmError> {
    let Ok(permit) = slots.clone().try_acquire_owned() else {
        return Ok(false);
    };
    let lease = Duration::from_secs(runner.settings.lease_seconds.max(10));
    let run = {
        let mut conn = runner.pool.get().await?;
        runs::queue_due(&mut conn).await?;
        runs::requeue_stale(&mut conn).await?;
        runs::claim(&mut conn, lease).await?
    };
    let Some(run) = run else {
        return Ok(false);
    };
    let runner = runner.clone();
    let trace = run
        .traceparent
        .as_deref()
        .and_then(clientstor_events::trace::TraceParent::parse)
        .map(|t| t.child())
        .unwrap_or_else(clientstor_events::trace::TraceParent::root);
    tokio::spawn(clientstor_events::trace::scope(trace, async move {
        let id = run.id;
        if let Err(error) = runner.execute(run).await {
            // The lease runs out and another pass retries the run.
            tracing::warn!(run = id, %error, "run interrupted");
        }
        drop(permit);
    }));
    Ok(true)
}
