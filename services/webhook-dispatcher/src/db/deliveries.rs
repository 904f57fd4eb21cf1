//! Delivery rows: created from events, claimed by the worker with a lease, updated per attempt,
//! and read back as the delivery log.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Text};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::endpoints;
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
    pub subject: String,
    pub traceparent: String,
}

/// Creates the deliveries in one statement, skipping any (endpoint, event) that already has one.
pub async fn insert_many(conn: &mut AsyncPgConnection, new: &[NewDelivery]) -> QueryResult<()> {
    if new.is_empty() {
        return Ok(());
    }
    diesel::insert_into(deliveries::table)
        .values(new)
        .on_conflict((deliveries::endpoint_id, deliveries::event_id))
        .do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// Creates a delivery and returns it (for test events).
pub async fn create(pool: &Pool, new: &NewDelivery) -> Result<DeliveryView, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(deliveries::table)
        .values(new)
        .returning(DeliveryView::as_returning())
        .get_result(&mut conn)
        .await?)
}

/// A claimed delivery with what is needed to send it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub endpoint_id: i64,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Int4)]
    pub attempt_count: i32,
    #[diesel(sql_type = Text)]
    pub traceparent: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Claims up to `limit` due deliveries of active endpoints by pushing their next attempt
/// `lease_seconds` ahead, so a worker that dies mid-send leaves them to be retried after the
/// lease instead of lost.
pub async fn claim_due(
    pool: &Pool,
    limit: i64,
    lease_seconds: i32,
) -> Result<Vec<Due>, WebhookError> {
    let mut conn = pool.get().await?;
    let rows = diesel::sql_query(
        "WITH due AS ( \
             SELECT d.id FROM webhooks.deliveries d JOIN webhooks.endpoints e ON e.id = d.endpoint_id \
             WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= now() AND e.is_active \
               AND (NOT e.ordered OR d.subject = '' OR NOT EXISTS ( \
                   SELECT 1 FROM webhooks.deliveries p WHERE p.endpoint_id = d.endpoint_id \
                   AND p.subject = d.subject AND p.id < d.id AND p.status IN ('pending', 'failed'))) \
             ORDER BY d.next_attempt_at, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED) \
         UPDATE webhooks.deliveries d SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now() \
         FROM due WHERE d.id = due.id \
         RETURNING d.id, d.endpoint_id, d.message_id, d.event_type, d.body, d.attempt_count, \
                   d.traceparent, d.created_at",
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

/// What happens to the endpoint after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointVerdict {
    Healthy,
    Failing,
    /// Disable it, with the reason shown to users.
    Disable(&'static str),
}

/// One finished attempt, ready to be written.
#[derive(Debug, Clone)]
pub struct Finished {
    pub delivery_id: i64,
    pub endpoint_id: i64,
    pub outcome: AttemptOutcome,
    /// When to try again; `None` with a failure means exhausted.
    pub next: Option<DateTime<Utc>>,
    pub verdict: EndpointVerdict,
}

impl Finished {
    fn status(&self) -> &'static str {
        match (self.outcome.success, self.next) {
            (true, _) => "success",
            (false, Some(_)) => "failed",
            (false, None) => "exhausted",
        }
    }
}

/// Writes many attempts at once: the attempt rows, each delivery's new state, and each
/// endpoint's failure streak, in one transaction. Returns the endpoints it disabled.
pub async fn record_batch(pool: &Pool, batch: &[Finished]) -> Result<Vec<i64>, WebhookError> {
    use diesel::sql_types::{Array, Nullable, Timestamptz};
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let rows: Vec<_> = batch
        .iter()
        .map(|f| {
            (
                attempts::delivery_id.eq(f.delivery_id),
                attempts::attempted_at.eq(f.outcome.attempted_at),
                attempts::response_status.eq(f.outcome.response_status),
                attempts::duration_ms.eq(f.outcome.duration_ms),
                attempts::error.eq(f.outcome.error.clone()),
                attempts::response_body.eq(f.outcome.response_body.clone()),
            )
        })
        .collect();
    let ids: Vec<i64> = batch.iter().map(|f| f.delivery_id).collect();
    let statuses: Vec<&str> = batch.iter().map(Finished::status).collect();
    let nexts: Vec<Option<DateTime<Utc>>> = batch
        .iter()
        .map(|f| if f.outcome.success { None } else { f.next })
        .collect();
    let disabled = conn
        .transaction(async |conn| {
            // Endpoints first, in id order: deleting an endpoint locks it before its deliveries,
            // so taking the same order here keeps the two from deadlocking.
            let mut endpoint_ids: Vec<i64> = batch.iter().map(|f| f.endpoint_id).collect();
            endpoint_ids.sort_unstable();
            endpoint_ids.dedup();
            diesel::sql_query(
                "SELECT id FROM webhooks.endpoints WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
            )
            .bind::<Array<BigInt>, _>(&endpoint_ids)
            .execute(conn)
            .await?;
            diesel::insert_into(attempts::table)
                .values(&rows)
                .execute(conn)
                .await?;
            diesel::sql_query(
                "UPDATE webhooks.deliveries d SET status = u.status, next_attempt_at = u.next, \
                 attempt_count = d.attempt_count + 1, updated_at = now() \
                 FROM unnest($1, $2, $3) AS u(id, status, next) WHERE d.id = u.id",
            )
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Array<Text>, _>(&statuses)
            .bind::<Array<Nullable<Timestamptz>>, _>(&nexts)
            .execute(conn)
            .await?;
            endpoints::record_health_batch(conn, batch).await
        })
        .await?;
    Ok(disabled)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = deliveries, check_for_backend(Pg))]
pub struct DeliveryView {
    pub id: i64,
    #[serde(rename = "webhook")]
    pub endpoint_id: i64,
    #[serde(rename = "event_id")]
    pub event_id: uuid::Uuid,
    #[serde(rename = "event")]
    pub event_type: String,
    /// The Standard Webhooks message id, stable across attempts.
    #[serde(rename = "webhook_id")]
    pub message_id: String,
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = attempts, check_for_backend(Pg))]
pub struct AttemptView {
    #[serde(skip)]
    pub delivery_id: i64,
    pub attempted_at: DateTime<Utc>,
    pub response_status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

#[derive(Debug, Default)]
pub struct DeliveryFilter {
    pub status: Option<String>,
    pub event: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub search: Vec<String>,
}

pub const ORDERING_FIELDS: &[&str] = &["id", "created_at", "updated_at", "status", "event"];

fn filtered<'a>(endpoint: i64, filter: &'a DeliveryFilter) -> deliveries::BoxedQuery<'a, Pg> {
    let mut query = deliveries::table
        .filter(deliveries::endpoint_id.eq(endpoint))
        .into_boxed();
    if let Some(status) = filter.status.as_deref() {
        query = query.filter(deliveries::status.eq(status));
    }
    if let Some(event) = filter.event.as_deref() {
        query = query.filter(deliveries::event_type.eq(event));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(deliveries::created_at.ge(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(deliveries::created_at.lt(before));
    }
    for word in &filter.search {
        query = query.filter(deliveries::event_type.ilike(clientstor_db::like_pattern(word)));
    }
    query
}

pub async fn list(
    pool: &Pool,
    endpoint: i64,
    filter: &DeliveryFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<DeliveryView>), WebhookError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(endpoint, filter)
        .count()
        .get_result(&mut conn)
        .await?;
    let mut query = filtered(endpoint, filter);
    if ordering.is_empty() {
        query = query.then_order_by(deliveries::id.desc());
    }
    query = clientstor_db::apply_ordering!(query, ordering, {
        "id" => deliveries::id,
        "created_at" => deliveries::created_at,
        "updated_at" => deliveries::updated_at,
        "status" => deliveries::status,
        "event" => deliveries::event_type,
    });
    let rows = query
        .then_order_by(deliveries::id.desc())
        .select(DeliveryView::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

/// The attempts of these deliveries, oldest first, grouped by delivery.
pub async fn attempts_of(
    pool: &Pool,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<AttemptView>>, WebhookError> {
    let mut conn = pool.get().await?;
    let rows = attempts::table
        .filter(attempts::delivery_id.eq_any(ids))
        .order(attempts::id.asc())
        .select(AttemptView::as_select())
        .load(&mut conn)
        .await?;
    let mut grouped: std::collections::HashMap<i64, Vec<AttemptView>> =
        std::collections::HashMap::new();
    for row in rows {
        grouped.entry(row.delivery_id).or_default().push(row);
    }
    Ok(grouped)
}

/// One delivery of the endpoint, with every attempt, oldest first.
pub async fn detail(
    pool: &Pool,
    endpoint: i64,
    id: i64,
) -> Result<(DeliveryView, Vec<AttemptView>), WebhookError> {
    let mut conn = pool.get().await?;
    let delivery = deliveries::table
        .filter(deliveries::id.eq(id))
        .filter(deliveries::endpoint_id.eq(endpoint))
        .select(DeliveryView::as_select())
        .first(&mut conn)
        .await?;
    let attempts = attempts::table
        .filter(attempts::delivery_id.eq(id))
        .order(attempts::id.asc())
        .select(AttemptView::as_select())
        .load(&mut conn)
        .await?;
    Ok((delivery, attempts))
}

/// Makes the delivery due now, whatever its state.
pub async fn retry_now(pool: &Pool, endpoint: i64, id: i64) -> Result<DeliveryView, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::endpoint_id.eq(endpoint)),
    )
    .set((
        deliveries::status.eq("pending"),
        deliveries::next_attempt_at.eq(Some(Utc::now())),
        deliveries::updated_at.eq(Utc::now()),
    ))
    .returning(DeliveryView::as_returning())
    .get_result(&mut conn)
    .await?)
}

/// Makes every failed or exhausted delivery of the endpoint since `since` due now; with
/// `dry_run` only counts them.
pub async fn recover(
    pool: &Pool,
    endpoint: i64,
    since: DateTime<Utc>,
    dry_run: bool,
) -> Result<i64, WebhookError> {
    let mut conn = pool.get().await?;
    let matching = deliveries::table
        .filter(deliveries::endpoint_id.eq(endpoint))
        .filter(deliveries::status.eq_any(["failed", "exhausted"]))
        .filter(deliveries::created_at.ge(since));
    if dry_run {
        return Ok(matching.count().get_result(&mut conn).await?);
    }
    let changed = diesel::update(matching)
        .set((
            deliveries::status.eq("pending"),
            deliveries::next_attempt_at.eq(Some(Utc::now())),
            deliveries::updated_at.eq(Utc::now()),
        ))
        .execute(&mut conn)
        .await?;
    Ok(changed as i64)
}
