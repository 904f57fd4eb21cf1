//! Publishes outbox rows with publisher confirms. Rows are claimed with `FOR UPDATE SKIP LOCKED`
//! inside a transaction, so replicas never publish the same row at once, and are marked sent
//! only after the broker acked them. An unroutable or nacked event stays pending and is retried
//! with backoff; a broker or database failure rolls the claim back and nothing is lost.

use std::time::Duration;

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bytea, Int4, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use lapin::Confirmation;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

use crate::{BusSettings, BusStatus, OutboxNotifier, backoff, sleep_or_cancel, topology};

const BATCH: i64 = 200;
const POLL: Duration = Duration::from_millis(500);
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15);
/// Sent rows are kept a while for diagnosis, then purged.
const RETENTION_HOURS: i32 = 24;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = SqlUuid)]
    event_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Bytea)]
    payload: Vec<u8>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    attempts: i32,
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("broker: {0}")]
    Broker(String),
    #[error("database: {0}")]
    Database(String),
}

impl From<diesel::result::Error> for RelayError {
    fn from(e: diesel::result::Error) -> Self {
        RelayError::Database(e.to_string())
    }
}

async fn open_channel(settings: &BusSettings) -> lapin::Result<(Connection, Channel)> {
    let properties = ConnectionProperties::default()
        .with_connection_name(format!("{}-relay", settings.connection_name).into());
    let connection = Connection::connect(&settings.url, properties).await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    topology::declare_exchange(&channel, settings).await?;
    Ok((connection, channel))
}

/// Runs until `shutdown` is cancelled, reconnecting to the broker and the database as needed.
pub async fn run_relay(
    pool: Pool,
    schema: &'static str,
    settings: BusSettings,
    notifier: OutboxNotifier,
    status: BusStatus,
    shutdown: CancellationToken,
) {
    let schema = clientstor_db::checked_schema(schema);
    let mut failures = 0u32;
    let mut last_purge = std::time::Instant::now();
    status.set_publisher(false);
    while !shutdown.is_cancelled() {
        let (connection, channel) = match open_channel(&settings).await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "outbox relay cannot reach the broker");
                status.set_publisher(false);
                failures += 1;
                sleep_or_cancel(backoff(failures), &shutdown).await;
                continue;
            }
        };
        tracing::info!("outbox relay connected");
        status.set_publisher(true);
        failures = 0;
        loop {
            if shutdown.is_cancelled() {
                let _ = connection.close(200, ShortString::from("shutdown")).await;
                return;
            }
            if !connection.status().connected() {
                tracing::warn!("outbox relay lost the broker; reconnecting");
                status.set_publisher(false);
                break;
            }
            if last_purge.elapsed() > Duration::from_secs(300) {
                last_purge = std::time::Instant::now();
                purge(&pool, schema).await;
            }
            match relay_batch(&pool, schema, &channel, &settings).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {
                    tokio::select! {
                        _ = notifier.notified() => {}
                        _ = tokio::time::sleep(POLL) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Err(RelayError::Broker(error)) => {
                    tracing::warn!(%error, "outbox relay lost the broker; reconnecting");
                    status.set_publisher(false);
                    break;
                }
                Err(RelayError::Database(error)) => {
                    tracing::warn!(%error, "outbox relay cannot read the outbox");
                    failures += 1;
                    sleep_or_cancel(backoff(failures), &shutdown).await;
                }
            }
        }
        let _ = connection
            .close(200, ShortString::from("reconnecting"))
            .await;
        sleep_or_cancel(backoff(0), &shutdown).await;
    }
}

/// Publishes one batch of due rows; returns how many rows were claimed.
async fn relay_batch(
    pool: &Pool,
    schema: &str,
    channel: &Channel,
    settings: &BusSettings,
) -> Result<usize, RelayError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| RelayError::Database(e.to_string()))?;
    let conn: &mut AsyncPgConnection = &mut conn;
    conn.transaction(async |conn| {
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT id, event_id, event_type, payload, created_at, attempts FROM {schema}.outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT {BATCH} FOR UPDATE SKIP LOCKED"
        ))
        .load(conn)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut confirms = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type(ShortString::from("application/x-protobuf"))
                .with_message_id(ShortString::from(row.event_id.to_string()))
                .with_type(ShortString::from(row.event_type.as_str()))
                .with_app_id(ShortString::from(settings.connection_name.as_str()))
                .with_timestamp(row.created_at.timestamp().max(0) as u64);
            let span = tracing::info_span!("publish", event_id = %row.event_id, event_type = %row.event_type);
            // The trace context as an AMQP header too, for consumers that do not read envelopes.
            if let Ok(envelope) = clientstor_events::decode(&row.payload)
                && let Some(trace) =
                    clientstor_events::trace::TraceParent::parse(&envelope.traceparent)
            {
                clientstor_telemetry::link(&span, &trace.trace_id, &trace.parent_id);
                let mut headers = FieldTable::default();
                headers.insert(
                    ShortString::from("traceparent"),
                    AMQPValue::LongString(LongString::from(envelope.traceparent)),
                );
                properties = properties.with_headers(headers);
            }
            let confirm = tracing::Instrument::instrument(
                channel.basic_publish(
                    ShortString::from(settings.exchange.as_str()),
                    ShortString::from(row.event_type.as_str()),
                    BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() },
                    &row.payload,
                    properties,
                ),
                span,
            )
            .await
                .map_err(|e| RelayError::Broker(e.to_string()))?;
            confirms.push(confirm);
        }
        let mut sent = Vec::new();
        let mut retry = Vec::new();
        for (row, confirm) in rows.iter().zip(confirms) {
            let outcome = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
                .await
                .map_err(|_| RelayError::Broker("publisher confirm timed out".into()))?
                .map_err(|e| RelayError::Broker(e.to_string()))?;
            match outcome {
                Confirmation::Ack(None) => sent.push(row.id),
                Confirmation::Ack(Some(_)) => retry.push((row, "unroutable: no queue bound")),
                Confirmation::Nack(_) => retry.push((row, "nacked by the broker")),
                Confirmation::NotRequested => return Err(RelayError::Broker("confirms not enabled".into())),
            }
        }
        if !sent.is_empty() {
            diesel::sql_query(format!("UPDATE {schema}.outbox SET sent_at = now() WHERE id = ANY($1)"))
                .bind::<Array<BigInt>, _>(&sent)
                .execute(conn)
                .await?;
        }
        for (row, reason) in &retry {
            tracing::warn!(event_id = %row.event_id, event_type = %row.event_type, reason, "event not delivered to the broker; will retry");
            // Short and capped: an unroutable event usually waits for a consumer that is starting.
            let delay_seconds = 2i32.saturating_pow(row.attempts.clamp(0, 3) as u32).min(10);
            diesel::sql_query(format!(
                "UPDATE {schema}.outbox SET attempts = attempts + 1, last_error = $2, \
                 next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1"
            ))
            .bind::<BigInt, _>(row.id)
            .bind::<Text, _>(*reason)
            .bind::<Int4, _>(delay_seconds)
            .execute(conn)
            .await?;
        }
        Ok(rows.len())
    })
    .await
}

async fn purge(pool: &Pool, schema: &str) {
    let Ok(mut conn) = pool.get().await else {
        return;
    };
    let sql = format!(
        "DELETE FROM {schema}.outbox WHERE sent_at < now() - make_interval(hours => {RETENTION_HOURS})"
    );
    if let Err(error) = diesel::sql_query(sql).execute(&mut conn).await {
        tracing::warn!(%error, "outbox purge failed");
    }
}
