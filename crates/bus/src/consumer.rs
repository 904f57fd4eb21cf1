//! Consumes the service's quorum queue. Each delivery is decoded, then its effect and its event
//! id (in `<schema>.inbox`) are written in one transaction; the message is acked only after the
//! commit. A redelivered event finds its id in the inbox and changes nothing. An undecodable or
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
}

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
            match next {
                Some(Ok(delivery)) => {
                    if let Err(error) = process(&pool, &spec, &delivery, &shutdown).await {
                        tracing::warn!(%error, "could not acknowledge a delivery; it will be redelivered");
                        break;
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer lost the broker; reconnecting");
                    break;
                }
                None => {
                    tracing::warn!("consumer stream ended; reconnecting");
                    break;
                }
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
        match apply(pool, spec, &envelope).await {
            Ok(outcome) => {
                if let Outcome::Duplicate = outcome {
                    tracing::info!(event_id = %envelope.event_id, "duplicate event ignored");
                }
                delivery.acker.ack(BasicAckOptions::default()).await?;
                return Ok(());
            }
            Err(HandlerError::Permanent(reason)) => {
                tracing::error!(event_id = %envelope.event_id, event_type = %envelope.event_type, %reason, "event rejected to the dead-letter queue");
                delivery
                    .acker
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
                return Ok(());
            }
            Err(HandlerError::Transient(reason)) => {
                attempt += 1;
                tracing::warn!(event_id = %envelope.event_id, %reason, attempt, "event handling failed; retrying");
                if shutdown.is_cancelled() {
                    // Unacked: the broker redelivers it to the next consumer.
                    return Ok(());
                }
                sleep_or_cancel(backoff(attempt), shutdown).await;
            }
        }
    }
}

async fn apply(
    pool: &Pool,
    spec: &ConsumerSpec,
    envelope: &Envelope,
) -> Result<Outcome, HandlerError> {
    let event_id = uuid::Uuid::parse_str(&envelope.event_id)
        .map_err(|_| HandlerError::Permanent("event_id is not a UUID".into()))?;
    let mut conn = pool
        .get()
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let schema = clientstor_db::checked_schema(spec.schema);
    let handler = spec.handler.clone();
    conn.transaction(async |conn| {
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
        handler.handle(conn, envelope).await?;
        Ok(Outcome::Applied)
    })
    .await
}
