//! CVE feed synchronisations: one queued or running at a time (a unique index), leased while
//! running, and the NVD checkpoint the next one starts from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{feed_state, feed_syncs};
use crate::error::InventoryError;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = feed_syncs, check_for_backend(diesel::pg::Pg))]
pub struct FeedSyncRow {
    pub id: i64,
    pub status: String,
    pub trigger: String,
    pub requested_by: Option<i64>,
    pub cves_received: i32,
    pub kev_entries: i32,
    pub errors: serde_json::Value,
    pub lease_until: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Queues a sync unless one is queued or running; returns the one that will do the work.
pub async fn request(
    conn: &mut AsyncPgConnection,
    trigger: &str,
    requested_by: Option<i64>,
) -> Result<FeedSyncRow, InventoryError> {
    loop {
        let inserted: Option<FeedSyncRow> = diesel::sql_query(
            "INSERT INTO inventory.feed_syncs (status, trigger, requested_by) \
             VALUES ('queued', $1, $2) \
             ON CONFLICT ((TRUE)) WHERE status IN ('queued', 'running') DO NOTHING RETURNING *",
        )
        .bind::<diesel::sql_types::Text, _>(trigger)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(requested_by)
        .get_result(conn)
        .await
        .optional()?;
        if let Some(row) = inserted {
            return Ok(row);
        }
        let active: Option<FeedSyncRow> = feed_syncs::table
            .filter(feed_syncs::status.eq_any(["queued", "running"]))
            .select(FeedSyncRow::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(row) = active {
            return Ok(row);
        }
    }
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<FeedSyncRow, InventoryError> {
    Ok(feed_syncs::table
        .find(id)
        .select(FeedSyncRow::as_select())
        .first(conn)
        .await?)
}

/// Queues a scheduled sync when the next one is due.
pub async fn queue_due(conn: &mut AsyncPgConnection) -> Result<(), InventoryError> {
    let due: bool = feed_state::table
        .find(1)
        .select(feed_state::next_sync_at.le(Utc::now()))
        .first(conn)
        .await?;
    if due {
        request(conn, "schedule", None).await?;
    }
    Ok(())
}

/// Takes the queued sync (or one whose worker stopped renewing its lease).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    lease: chrono::Duration,
) -> Result<Option<FeedSyncRow>, InventoryError> {
    Ok(conn
        .transaction(async |conn| {
            let now = Utc::now();
            let id: Option<i64> = feed_syncs::table
                .filter(
                    feed_syncs::status.eq("queued").or(feed_syncs::status
                        .eq("running")
                        .and(feed_syncs::lease_until.lt(now))),
                )
                .select(feed_syncs::id)
                .for_update()
                .skip_locked()
                .first(conn)
                .await
                .optional()?;
            let Some(id) = id else {
                return Ok::<_, diesel::result::Error>(None);
            };
            let row = diesel::update(feed_syncs::table.find(id))
                .set((
                    feed_syncs::status.eq("running"),
                    feed_syncs::lease_until.eq(now + lease),
                    feed_syncs::started_at.eq(now),
                ))
                .returning(FeedSyncRow::as_returning())
                .get_result(conn)
                .await?;
            Ok(Some(row))
        })
        .await?)
}

/// Records progress and renews the lease.
pub async fn progress(
    conn: &mut AsyncPgConnection,
    id: i64,
    cves_received: i32,
    lease: chrono::Duration,
) -> Result<(), InventoryError> {
    diesel::update(feed_syncs::table.find(id))
        .set((
            feed_syncs::cves_received.eq(cves_received),
            feed_syncs::lease_until.eq(Utc::now() + lease),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub struct Outcome {
    pub cves_received: i32,
    pub kev_entries: i32,
    pub errors: Vec<serde_json::Value>,
    /// Where the NVD listing got to, when it completed.
    pub checkpoint: Option<DateTime<Utc>>,
}

/// Ends the sync and schedules the next one `every` later.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: i64,
    outcome: &Outcome,
    every: chrono::Duration,
) -> Result<(), InventoryError> {
    let status = if outcome.errors.is_empty() {
        "succeeded"
    } else if outcome.cves_received > 0 || outcome.kev_entries > 0 {
        "partially_failed"
    } else {
        "failed"
    };
    conn.transaction(async |conn| {
        let now = Utc::now();
        diesel::update(feed_syncs::table.find(id))
            .set((
                feed_syncs::status.eq(status),
                feed_syncs::cves_received.eq(outcome.cves_received),
                feed_syncs::kev_entries.eq(outcome.kev_entries),
                feed_syncs::errors.eq(serde_json::Value::Array(outcome.errors.clone())),
                feed_syncs::lease_until.eq(None::<DateTime<Utc>>),
                feed_syncs::finished_at.eq(now),
            ))
            .execute(conn)
            .await?;
        diesel::update(feed_state::table.find(1))
            .set(feed_state::next_sync_at.eq(now + every))
            .execute(conn)
            .await?;
        if let Some(checkpoint) = outcome.checkpoint {
            diesel::update(feed_state::table.find(1))
                .set(feed_state::nvd_checkpoint.eq(checkpoint))
                .execute(conn)
                .await?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}

pub async fn checkpoint(
    conn: &mut AsyncPgConnection,
) -> Result<Option<DateTime<Utc>>, InventoryError> {
    Ok(feed_state::table
        .find(1)
        .select(feed_state::nvd_checkpoint)
        .first(conn)
        .await?)
}
