//! Delivery rows: created from events, claimed by the worker with a lease, updated per attempt.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Text};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{attempts, deliveries};
use crate::error::WebhookError;

#[derive(Debug, Insertable)]
#[diesel(table_name = deliveries)]
pub struct NewDelivery {
    pub endpoint_id: i64,
    pub organization_id: i64,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub message_id: String,
    pub body: String,
}

/// Creates the delivery unless this (endpoint, event) already has one.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewDelivery) -> QueryResult<()> {
    diesel::insert_into(deliveries::table)
        .values(new)
        .on_conflict((deliveries::endpoint_id, deliveries::event_id))
        .do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// A claimed delivery with what is needed to send it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Int4)]
    pub attempt_count: i32,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
}

/// Claims up to `limit` due deliveries by pushing their next attempt `lease_seconds` ahead, so a
/// worker that dies mid-send leaves them to be retried after the lease instead of lost.
pub async fn claim_due(
    pool: &Pool,
    limit: i64,
    lease_seconds: i32,
) -> Result<Vec<Due>, WebhookError> {
    let mut conn = pool.get().await?;
    let rows = diesel::sql_query(
        "WITH due AS ( \
             SELECT id FROM webhooks.deliveries \
             WHERE status = 'pending' AND next_attempt_at <= now() \
             ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) \
         UPDATE webhooks.deliveries d SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now() \
         FROM due, webhooks.endpoints e \
         WHERE d.id = due.id AND e.id = d.endpoint_id \
         RETURNING d.id, d.message_id, d.event_type, d.body, d.attempt_count, e.url, e.secret",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Int4, _>(lease_seconds)
    .load::<Due>(&mut conn)
    .await?;
    Ok(rows)
}

/// What one attempt produced.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub attempted_at: DateTime<Utc>,
    pub response_status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub response_body: Option<String>,
    pub success: bool,
}

/// Records the attempt and moves the delivery on: success, another try at `next`, or exhausted.
pub async fn record_attempt(
    pool: &Pool,
    id: i64,
    outcome: &AttemptOutcome,
    next: Option<DateTime<Utc>>,
) -> Result<(), WebhookError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let status = match (outcome.success, next) {
        (true, _) => "success",
        (false, Some(_)) => "pending",
        (false, None) => "exhausted",
    };
    conn.transaction(async |conn| {
        diesel::insert_into(attempts::table)
            .values((
                attempts::delivery_id.eq(id),
                attempts::attempted_at.eq(outcome.attempted_at),
                attempts::response_status.eq(outcome.response_status),
                attempts::duration_ms.eq(outcome.duration_ms),
                attempts::error.eq(&outcome.error),
                attempts::response_body.eq(&outcome.response_body),
            ))
            .execute(conn)
            .await?;
        diesel::update(deliveries::table.find(id))
            .set((
                deliveries::status.eq(status),
                deliveries::attempt_count.eq(deliveries::attempt_count + 1),
                deliveries::next_attempt_at.eq(if outcome.success { None } else { next }),
                deliveries::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}
