//! The delivery worker: claims due deliveries, POSTs them signed, records each attempt, and
//! schedules the next one from the retry schedule.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clientstor_runtime::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{schedule, signing};
use crate::db::deliveries::{self, AttemptOutcome, Due};

const BATCH: i64 = 32;
const POLL: Duration = Duration::from_millis(200);
/// How much of a receiver's answer the delivery log keeps.
const BODY_LOG_BYTES: usize = 1024;

struct Worker {
    context: Context,
    client: reqwest::Client,
    policy: Arc<clientstor_outbound::Policy>,
    schedule: Vec<Duration>,
    lease_seconds: i32,
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
    let worker = Worker {
        context: context.clone(),
        client,
        policy,
        schedule,
        lease_seconds: (timeout.as_secs() as i32) * 2 + 30,
    };
    vec![tokio::spawn(worker.run(shutdown))]
}

impl Worker {
    async fn run(self, shutdown: CancellationToken) {
        let worker = Arc::new(self);
        while !shutdown.is_cancelled() {
            match deliveries::claim_due(&worker.context.pool, BATCH, worker.lease_seconds).await {
                Ok(due) if !due.is_empty() => {
                    let sends = due.into_iter().map(|d| {
                        let worker = worker.clone();
                        async move { worker.deliver(d).await }
                    });
                    futures_util::future::join_all(sends).await;
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot claim deliveries"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => {}
            }
        }
    }

    async fn deliver(&self, due: Due) {
        let outcome = self.send(&due).await;
        let attempts_made = due.attempt_count as usize + 1;
        let next = if outcome.success {
            None
        } else {
            schedule::next_delay(&self.schedule, attempts_made)
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() + d)
        };
        tracing::info!(
            delivery_id = due.id,
            event = %due.event_type,
            status = ?outcome.response_status,
            success = outcome.success,
            attempt = attempts_made,
            "webhook attempt"
        );
        if let Err(error) =
            deliveries::record_attempt(&self.context.pool, due.id, &outcome, next).await
        {
            // The lease expires and the delivery is tried again: at least once, never lost.
            tracing::warn!(%error, delivery_id = due.id, "cannot record a webhook attempt");
        }
    }

    async fn send(&self, due: &Due) -> AttemptOutcome {
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
        if let Err(error) = self.policy.check_url(&due.url).await {
            return failure(error.to_string());
        }
        let timestamp = attempted_at.timestamp();
        let Some(signature) =
            signing::standard_signature(&due.secret, &due.message_id, timestamp, &due.body)
        else {
            return failure("the endpoint's secret cannot sign".into());
        };
        let request = self
            .client
            .post(&due.url)
            .header("content-type", "application/json")
            .header("webhook-id", &due.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header(
                "x-webhook-signature",
                signing::legacy_signature(&due.secret, &due.body),
            )
            .header("x-webhook-event", &due.event_type)
            .body(due.body.clone());
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                let mut end = body.len().min(BODY_LOG_BYTES);
                while !body.is_char_boundary(end) {
                    end -= 1;
                }
                AttemptOutcome {
                    attempted_at,
                    response_status: Some(i32::from(status.as_u16())),
                    duration_ms: started.elapsed().as_millis() as i32,
                    error: (!status.is_success()).then(|| format!("HTTP {}", status.as_u16())),
                    response_body: Some(body[..end].to_string()),
                    success: status.is_success(),
                }
            }
            Err(error) => failure(if error.is_timeout() {
                "timed out".into()
            } else {
                error.to_string()
            }),
        }
    }
}
