//! Consumes the service's quorum queue. Deliveries already waiting are taken together (up to a
//! batch); their effects and their event ids (in `<schema>.inbox`) are written in one
//! transaction, and the messages are acked only after the commit. A redelivered event finds its id in the inbox and changes nothing. An undecodable or
//! permanently failing event is rejected to the dead-letter queue; a database outage is waited
//! out with the message still unacked, so nothing is lost.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use clientstor_db::Pool;
use clientstor_events::Envelope;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use futures_util::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{Connection, ConnectionProperties, Consumer};
use tokio_util::sync::CancellationToken;

use crate::{BusSettings, BusStatus, backoff, sleep_or_cancel, topology};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying: the database or another dependency is unavailable.
    #[error("transient: {0}")]
    Transient(String),
    /// Never going to work: the event goes to the dead-letter queue.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<diesel::result::Error> for HandlerError {
    fn from(e: diesel::result::Error) -> Self {
        HandlerError::Transient(e.to_string())
    }
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;

/// A service's reaction to an event, run inside the inbox transaction.
pub trait EventHandler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        envelope: &'a Envelope,
    ) -> HandlerFuture<'a>;
}

/// What one service consumes.
#[derive(Clone)]
pub struct ConsumerSpec {
    /// The service's name; the queue is `<prefix><service>.events`.
    pub service: &'static str,
    /// The schema holding `inbox`.
    pub schema: &'static str,
    /// Routing keys (topic patterns allowed) bound to the queue.
    pub bindings: Vec<String>,
    pub handler: Arc<dyn EventHandler>,
    /// Woken after each commit, for in-process workers waiting on the consumer's effects.
    pub after_commit: Option<Arc<tokio::sync::Notify>>,
    pub metrics: crate::metrics::ConsumerMetrics,
}

/// Deliveries handled in one transaction at most.
const BATCH: usize = 64;

async fn open_consumer(
    settings: &BusSettings,
    spec: &ConsumerSpec,
) -> lapin::Result<(Connection, Consumer)> {
    let properties = ConnectionProperties::default()
        .with_connection_name(format!("{}-consumer", settings.connection_name).into());
    let connection = Connection::connect(&settings.url, properties).await?;
    let channel = connection.create_channel().await?;
    // Re-applied on every (re)connect: prefetch is per channel.
    channel
        .basic_qos(settings.prefetch, BasicQosOptions::default())
        .await?;
    let queue = topology::declare_queue(&channel, settings, spec.service, &spec.bindings).await?;
    let consumer = channel
        .basic_consume(
            ShortString::from(queue.as_str()),
            ShortString::from(format!(
                "{}-{}",
                spec.service,
                uuid::Uuid::new_v4().simple()
            )),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok((connection, consumer))
}

/// Runs until `shutdown` is cancelled, reconnecting after broker failures.
pub async fn run_consumer(
    pool: Pool,
    settings: BusSettings,
    spec: ConsumerSpec,
    status: BusStatus,
    shutdown: CancellationToken,
) {
    let mut failures = 0u32;
    status.set_consumer(false);
    while !shutdown.is_cancelled() {
        let (connection, mut consumer) = match open_consumer(&settings, &spec).await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "consumer cannot reach the broker");
                status.set_consumer(false);
                failures += 1;
                sleep_or_cancel(backoff(failures), &shutdown).await;
                continue;
            }
        };
        tracing::info!(service = spec.service, "consumer connected");
        status.set_consumer(true);
        failures = 0;
        loop {
            let next = tokio::select! {
                next = consumer.next() => next,
                _ = shutdown.cancelled() => {
                    let _ = connection.close(200, ShortString::from("shutdown")).await;
                    return;
                }
            };
            let first = match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer lost the broker; reconnecting");
                    break;
                }
                None => {
                    tracing::warn!("consumer stream ended; reconnecting");
                    break;
                }
            };
            // Take whatever else has already arrived, so that one commit covers many events.
            let mut batch = vec![first];
            let mut stream_broken = false;
            while batch.len() < BATCH {
                match futures_util::FutureExt::now_or_never(consumer.next()) {
                    Some(Some(Ok(more))) => batch.push(more),
                    Some(_) => {
                        stream_broken = true;
                        break;
                    }
                    None => break,
                }
            }
            if let Err(error) = process_batch(&pool, &spec, &batch, &shutdown).await {
                tracing::warn!(%error, "could not acknowledge deliveries; they will be redelivered");
                break;
            }
            if stream_broken {
                tracing::warn!("consumer lost the broker; reconnecting");
                break;
            }
        }
        status.set_consumer(false);
        let _ = connection
            .close(200, ShortString::from("reconnecting"))
            .await;
        sleep_or_cancel(backoff(0), &shutdown).await;
    }
}

enum Outcome {
    Applied,
    Duplicate,
}

/// Handles a batch: the decodable events in one transaction, acked after it commits. When one
/// of them fails for good, each is handled on its own so that only that one is dead-lettered.
async fn process_batch(
    pool: &Pool,
    spec: &ConsumerSpec,
    batch: &[Delivery],
    shutdown: &CancellationToken,
) -> lapin::Result<()> {
    if let [single] = batch {
        return process(pool, spec, single, shutdown).await;
    }
    let mut decoded = Vec::with_capacity(batch.len());
    for delivery in batch {
        match clientstor_events::decode(&delivery.data) {
            Ok(envelope) => decoded.push((delivery, envelope)),
            Err(_) => process(pool, spec, delivery, shutdown).await?,
        }
    }
    let mut attempt = 0u32;
    loop {
        match apply_all(pool, spec, &decoded).await {
            Ok(()) => {
                for (delivery, _) in &decoded {
                    delivery.acker.ack(BasicAckOptions::default()).await?;
                }
                return Ok(());
            }
            Err(HandlerError::Permanent(_)) => {
                for (delivery, _) in &decoded {
                    process(pool, spec, delivery, shutdown).await?;
                }
                return Ok(());
            }
            Err(HandlerError::Transient(reason)) => {
                attempt += 1;
                tracing::warn!(%reason, attempt, events = decoded.len(), "event handling failed; retrying");
                if shutdown.is_cancelled() {
                    // Unacked: the broker redelivers them to the next consumer.
                    return Ok(());
                }
                sleep_or_cancel(backoff(attempt), shutdown).await;
            }
        }
    }
}

/// Handles one delivery to completion: ack after commit, reject permanent failures, and keep
/// retrying transient ones (the message stays unacked meanwhile).
async fn process(
    pool: &Pool,
    spec: &ConsumerSpec,
    delivery: &Delivery,
    shutdown: &CancellationToken,
) -> lapin::Result<()> {
    let envelope = match clientstor_events::decode(&delivery.data) {
        Ok(envelope) => envelope,
        Err(error) => {
            spec.metrics.outcome("dead_lettered");
            tracing::error!(%error, routing_key = %delivery.routing_key, "undecodable event sent to the dead-letter queue");
            delivery
                .acker
                .reject(BasicRejectOptions { requeue: false })
                .await?;
            return Ok(());
        }
    };
    let mut attempt = 0u32;
    loop {
        match apply_all(pool, spec, &[(delivery, envelope.clone())]).await {
            Ok(()) => {
                delivery.acker.ack(BasicAckOptions::default()).await?;
                return Ok(());
            }
            Err(HandlerError::Permanent(reason)) => {
                spec.metrics.outcome("dead_lettered");
                tracing::error!(event_id = %envelope.event_id, event_type = %envelope.event_type, %reason, "event rejected to the dead-letter queue");
                delivery
                    .acker
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
                return Ok(());
            }
            Err(HandlerError::Transient(reason)) => {
                attempt += 1;
                spec.metrics.outcome("retried");
                tracing::warn!(event_id = %envelope.event_id, %reason, attempt, "event handling failed; retrying");
                if shutdown.is_cancelled() {
                    return Ok(());
                }
                sleep_or_cancel(backoff(attempt), shutdown).await;
            }
        }
    }
}

/// Applies the events in one transaction and wakes whoever waits on their effects.
async fn apply_all(
    pool: &Pool,
    spec: &ConsumerSpec,
    events: &[(&Delivery, Envelope)],
) -> Result<(), HandlerError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let outcomes = conn
        .transaction(async |conn| {
            let mut outcomes = Vec::with_capacity(events.len());
            for (_, envelope) in events {
                let outcome = apply_in(conn, spec, envelope).await?;
                if let Outcome::Duplicate = outcome {
                    tracing::info!(event_id = %envelope.event_id, "duplicate event ignored");
                }
                outcomes.push(outcome);
            }
            Ok::<_, HandlerError>(outcomes)
        })
        .await?;
    for ((delivery, envelope), outcome) in events.iter().zip(outcomes) {
        if delivery.redelivered {
            spec.metrics.redelivered();
        }
        match outcome {
            Outcome::Applied => {
                spec.metrics.outcome("applied");
                spec.metrics.applied_at(&envelope.occurred_at);
            }
            Outcome::Duplicate => spec.metrics.outcome("duplicate"),
        }
    }
    if let Some(notify) = &spec.after_commit {
        notify.notify_one();
    }
    Ok(())
}

/// Records the event in the inbox and applies it, inside the caller's transaction. An event
/// already in the inbox is a redelivery and changes nothing.
async fn apply_in(
    conn: &mut AsyncPgConnection,
    spec: &ConsumerSpec,
    envelope: &Envelope,
) -> Result<Outcome, HandlerError> {
    let event_id = uuid::Uuid::parse_str(&envelope.event_id)
        .map_err(|_| HandlerError::Permanent("event_id is not a UUID".into()))?;
    let schema = clientstor_db::checked_schema(spec.schema);
    let inserted = diesel::sql_query(format!(
        "INSERT INTO {schema}.inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    ))
    .bind::<SqlUuid, _>(event_id)
    .bind::<Text, _>(&envelope.event_type)
    .execute(conn)
    .await?;
    if inserted == 0 {
        return Ok(Outcome::Duplicate);
    }
    // The handler works inside the event's trace: events it makes carry the trace on.
    let incoming = clientstor_events::trace::TraceParent::parse(&envelope.traceparent);
    let trace = incoming.as_ref().map_or_else(
        clientstor_events::trace::TraceParent::root,
        clientstor_events::trace::TraceParent::child,
    );
    let span = tracing::info_span!(
        "event",
        event_id = %envelope.event_id,
        event_type = %envelope.event_type,
        trace_id = %trace.trace_id,
        service = spec.service,
    );
    clientstor_telemetry::link(
        &span,
        &trace.trace_id,
        incoming.as_ref().map_or(&trace.parent_id, |i| &i.parent_id),
    );
    clientstor_events::trace::scope(
        trace,
        tracing::Instrument::instrument(spec.handler.handle(conn, envelope), span),
    )
    .await?;
    Ok(Outcome::Applied)
}
