//! The delivery worker: claims due deliveries and sends each in a task of its own (so a slow or
//! dead receiver never holds up the others), records every attempt, and schedules the next one
//! from the retry schedule with ±20 % jitter, honouring `Retry-After` on 429 and 503.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clientstor_runtime::Context;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{schedule, signing};
use crate::db::deliveries::{self, AttemptOutcome, Due, EndpointVerdict, Finished};
use crate::db::endpoints::{self, EndpointRow};

/// Deliveries in flight at once, across all endpoints.
const CONCURRENCY: usize = 256;
const POLL: Duration = Duration::from_millis(100);
/// How much of a receiver's answer the delivery log keeps.
const BODY_LOG_BYTES: usize = 4096;
const USER_AGENT: &str = concat!("ClientSt0r-Webhooks/", env!("CARGO_PKG_VERSION"));

struct Worker {
    context: Context,
    client: reqwest::Client,
    policy: Arc<clientstor_outbound::Policy>,
    schedule: Vec<Duration>,
    lease_seconds: i32,
    recorder: tokio::sync::mpsc::Sender<Finished>,
    /// Attempts by outcome (delivered, failed, gone).
    attempts: prometheus::IntCounterVec,
    /// From the delivery's creation (its event's consumption) to its successful attempt.
    latency: prometheus::HistogramVec,
}

/// Starts the worker; it stops when `shutdown` is cancelled. Bad settings stop the process at
/// start, naming the setting.
pub fn spawn(context: &Context, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let settings = &context.settings;
    let schedule = match schedule::parse(&settings.webhooks.retry_schedule) {
        Ok(schedule) if !schedule.is_empty() => schedule,
        Ok(_) | Err(_) => {
            eprintln!(
                "setting CLIENTSTOR_WEBHOOKS__RETRY_SCHEDULE is not a list of delays like 0,5s,5m,2h"
            );
            std::process::exit(2);
        }
    };
    let policy = match clientstor_outbound::Policy::from_settings(&settings.outbound) {
        Ok(policy) => Arc::new(policy),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    let timeout = Duration::from_secs(settings.webhooks.timeout_seconds.max(1));
    let client = match clientstor_outbound::client(policy.clone(), timeout, false) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("webhook-dispatcher: {error}");
            std::process::exit(1);
        }
    };
    let (recorder, finished) = tokio::sync::mpsc::channel(8192);
    let metrics = context
        .metrics
        .counter(
            "webhook_attempts_total",
            "Webhook attempts by outcome",
            &["outcome"],
        )
        .and_then(|attempts| {
            context
                .metrics
                .histogram(
                    "webhook_delivery_latency_seconds",
                    "From a delivery's creation to its successful attempt",
                    vec![
                        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0, 3600.0, 86400.0,
                    ],
                    &[],
                )
                .map(|latency| (attempts, latency))
        });
    let (attempts, latency) = match metrics {
        Ok(metrics) => metrics,
        Err(error) => {
            eprintln!("webhook-dispatcher: metrics: {error}");
            std::process::exit(1);
        }
    };
    let worker = Worker {
        attempts,
        latency,
        context: context.clone(),
        client,
        policy,
        schedule,
        // Longer than any send can take, short enough that a crashed worker's claims come back soon.
        lease_seconds: timeout.as_secs() as i32 + 10,
        recorder,
    };
    let pool = context.pool.clone();
    vec![
        tokio::spawn(worker.run(shutdown)),
        tokio::spawn(record(pool, finished)),
    ]
}

/// Writes finished attempts in batches: one transaction for all that are waiting. If writing
/// keeps failing, the leases expire and the deliveries are sent again (at least once).
async fn record(pool: clientstor_db::Pool, mut finished: tokio::sync::mpsc::Receiver<Finished>) {
    let mut batch = Vec::with_capacity(512);
    while finished.recv_many(&mut batch, 512).await > 0 {
        let mut tries = 0;
        loop {
            match deliveries::record_batch(&pool, &batch).await {
                Ok(disabled) => {
                    for id in disabled {
                        tracing::warn!(endpoint_id = id, "webhook endpoint disabled");
                    }
                    break;
                }
                Err(error) if tries < 5 => {
                    tries += 1;
                    tracing::warn!(%error, tries, "cannot record webhook attempts; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                Err(error) => {
                    tracing::error!(%error, attempts = batch.len(), "webhook attempts not recorded; they will be sent again");
                    break;
                }
            }
        }
        batch.clear();
    }
}

/// `delay` scaled by a random factor in [0.8, 1.2], so retries of many deliveries spread out.
fn jittered(delay: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    let unit = match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    delay.mul_f64(0.8 + 0.4 * unit)
}

impl Worker {
    async fn run(self, shutdown: CancellationToken) {
        let worker = Arc::new(self);
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        while !shutdown.is_cancelled() {
            let free = permits.available_permits() as i64;
            if free > 0 {
                match deliveries::claim_due(&worker.context.pool, free, worker.lease_seconds).await
                {
                    Ok(due) if !due.is_empty() => {
                        worker.dispatch(due, &permits).await;
                        continue;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot claim deliveries"),
                }
            }
            // Woken when the consumer commits new deliveries; the poll catches retries coming due.
            tokio::select! {
                _ = worker.context.work.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => {}
            }
        }
        // Let sends in flight finish and record their attempts.
        let _ = tokio::time::timeout(
            Duration::from_secs(20),
            permits.acquire_many(CONCURRENCY as u32),
        )
        .await;
    }

    async fn dispatch(self: &Arc<Self>, due: Vec<Due>, permits: &Arc<Semaphore>) {
        let mut ids: Vec<i64> = due.iter().map(|d| d.endpoint_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let endpoints: HashMap<i64, Arc<EndpointRow>> =
            match endpoints::by_ids(&self.context.pool, &ids).await {
                Ok(rows) => rows.into_iter().map(|e| (e.id, Arc::new(e))).collect(),
                Err(error) => {
                    // The leases expire and the deliveries are claimed again.
                    tracing::warn!(%error, "cannot load webhook endpoints");
                    return;
                }
            };
        for delivery in due {
            let Some(endpoint) = endpoints.get(&delivery.endpoint_id).cloned() else {
                continue;
            };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let worker = self.clone();
            tokio::spawn(async move {
                worker.deliver(&endpoint, delivery).await;
                drop(permit);
            });
        }
    }

    async fn deliver(&self, endpoint: &EndpointRow, due: Due) {
        let span = tracing::info_span!(
            "webhook",
            delivery_id = due.id,
            endpoint_id = due.endpoint_id
        );
        if let Some(trace) = clientstor_events::trace::TraceParent::parse(&due.traceparent) {
            clientstor_telemetry::link(&span, &trace.trace_id, &trace.parent_id);
        }
        let (outcome, retry_after) =
            tracing::Instrument::instrument(self.send(endpoint, &due), span).await;
        let attempts_made = due.attempt_count as usize + 1;
        let status = outcome.response_status;
        let verdict = match (outcome.success, status) {
            (true, _) => EndpointVerdict::Healthy,
            (false, Some(410)) => EndpointVerdict::Disable("the receiver answered 410 Gone"),
            (false, _) => EndpointVerdict::Failing,
        };
        let next = if outcome.success || matches!(verdict, EndpointVerdict::Disable(_)) {
            None
        } else {
            schedule::next_delay(&self.schedule, attempts_made).map(|step| {
                let delay = match retry_after {
                    // Honoured, but never beyond twice the step the schedule would take.
                    Some(asked) => asked.min(step * 2),
                    None => jittered(step),
                };
                Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default()
            })
        };
        let label = match (&verdict, outcome.success) {
            (_, true) => "delivered",
            (EndpointVerdict::Disable(_), _) => "gone",
            _ => "failed",
        };
        self.attempts.with_label_values(&[label]).inc();
        if outcome.success {
            let waited = (Utc::now() - due.created_at).num_milliseconds().max(0);
            self.latency
                .with_label_values::<&str>(&[])
                .observe(waited as f64 / 1000.0);
        }
        tracing::info!(
            delivery_id = due.id,
            endpoint_id = due.endpoint_id,
            event = %due.event_type,
            status = ?status,
            success = outcome.success,
            attempt = attempts_made,
            "webhook attempt"
        );
        let finished = Finished {
            delivery_id: due.id,
            endpoint_id: due.endpoint_id,
            outcome,
            next,
            verdict,
        };
        if self.recorder.send(finished).await.is_err() {
            tracing::warn!(delivery_id = due.id, "attempt not recorded: shutting down");
        }
    }

    /// One POST; also returns the receiver's `Retry-After` on 429 and 503.
    async fn send(&self, endpoint: &EndpointRow, due: &Due) -> (AttemptOutcome, Option<Duration>) {
        let attempted_at = Utc::now();
        let started = Instant::now();
        let failure = |error: String| AttemptOutcome {
            attempted_at,
            response_status: None,
            duration_ms: started.elapsed().as_millis() as i32,
            error: Some(error),
            response_body: None,
            success: false,
        };
        if let Err(error) = self.policy.check_url(&endpoint.url).await {
            return (failure(error.to_string()), None);
        }
        let timestamp = attempted_at.timestamp();
        let signatures: Vec<String> = endpoint
            .signing_secrets(attempted_at)
            .into_iter()
            .filter_map(|secret| {
                signing::standard_signature(secret, &due.message_id, timestamp, &due.body)
            })
            .collect();
        if signatures.is_empty() {
            return (failure("the endpoint's secret cannot sign".into()), None);
        }
        let mut request = self.client.post(&endpoint.url);
        if let Some(headers) = endpoint.custom_headers.as_object() {
            for (name, value) in headers {
                if let Some(value) = value.as_str() {
                    request = request.header(name.as_str(), value);
                }
            }
        }
        let request = request
            .header("content-type", "application/json")
            .header("user-agent", USER_AGENT)
            .header("webhook-id", &due.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .header(
                "x-webhook-signature",
                signing::legacy_signature(&endpoint.secret, &due.body),
            )
            .header("x-webhook-event", &due.event_type);
        // The POST continues the trace of the change that caused it.
        let request = match clientstor_events::trace::TraceParent::parse(&due.traceparent) {
            Some(trace) => request.header("traceparent", trace.child().header()),
            None => request,
        }
        .body(due.body.clone());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let text = if error.is_timeout() {
                    "timed out".to_string()
                } else {
                    error.to_string()
                };
                return (failure(text), None);
            }
        };
        let status = response.status();
        let retry_after = matches!(status.as_u16(), 429 | 503)
            .then(|| {
                response
                    .headers()
                    .get("retry-after")?
                    .to_str()
                    .ok()?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .flatten()
            .map(Duration::from_secs);
        // Keep only the start of the answer; never read more than the log keeps.
        let mut excerpt = Vec::new();
        while excerpt.len() < BODY_LOG_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                _ => break,
            }
        }
        excerpt.truncate(BODY_LOG_BYTES);
        let body = String::from_utf8_lossy(&excerpt).into_owned();
        let outcome = AttemptOutcome {
            attempted_at,
            response_status: Some(i32::from(status.as_u16())),
            duration_ms: started.elapsed().as_millis() as i32,
            error: (!status.is_success()).then(|| format!("HTTP {}", status.as_u16())),
            response_body: Some(body),
            success: status.is_success(),
        };
        (outcome, retry_after)
    }
}
