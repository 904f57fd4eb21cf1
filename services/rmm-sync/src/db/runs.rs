//! Runs: queued by the scheduler or a user, claimed by one worker of any replica, leased while
//! running, and finished with their counts. A unique index allows one queued-or-running run
//! per integration, so a second request finds the first instead of doubling it.

use chrono::{DateTime, Utc};
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{integrations, runs};
use crate::error::RmmError;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const PARTIALLY_FAILED: &str = "partially_failed";
pub const STATUSES: &[&str] = &[QUEUED, RUNNING, SUCCEEDED, FAILED, PARTIALLY_FAILED];
/// What queued a run: a user (`POST …/sync/`) or the schedule.
pub const MANUAL: &str = "manual";
pub const SCHEDULE: &str = "schedule";
pub const TRIGGERS: &[&str] = &[MANUAL, SCHEDULE];

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = runs, check_for_backend(Pg))]
pub struct RunRow {
    pub id: i64,
    pub integration_id: i64,
    pub organization_id: i64,
    pub status: String,
    pub trigger: String,
    pub pages_fetched: i32,
    pub devices_seen: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub retired: i32,
    pub errors: serde_json::Value,
    pub requested_by: Option<i64>,
    pub traceparent: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Counts of a run so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub pages_fetched: i32,
    pub devices_seen: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub retired: i32,
    pub errors: Vec<serde_json::Value>,
}

pub const ORDERING_FIELDS: &[&str] = &["id", "status", "created_at", "started_at", "finished_at"];

pub async fn list(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    status: Option<&str>,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<RunRow>), RmmError> {
    let filtered = || {
        let mut query = runs::table
            .filter(runs::integration_id.eq(integration_id))
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(runs::status.eq(status.to_string()));
        }
        query
    };
    let count: i64 = filtered().count().get_result(conn).await?;
    let ordering: Vec<(String, bool)> = if ordering.is_empty() {
        vec![("id".into(), true)]
    } else {
        ordering.to_vec()
    };
    let query = clientstor_db::apply_ordering!(filtered(), &ordering, {
        "id" => runs::id, "status" => runs::status, "created_at" => runs::created_at,
        "started_at" => runs::started_at, "finished_at" => runs::finished_at,
    });
    let rows = query
        .then_order_by(runs::id.desc())
        .select(RunRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    id: i64,
) -> Result<RunRow, RmmError> {
    Ok(runs::table
        .filter(runs::id.eq(id))
        .filter(runs::integration_id.eq(integration_id))
        .select(RunRow::as_select())
        .first(conn)
        .await?)
}

async fn active(conn: &mut AsyncPgConnection, integration_id: i64) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::integration_id.eq(integration_id))
        .filter(runs::status.eq_any([QUEUED, RUNNING]))
        .select(RunRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Queues a run unless one is queued or running; returns the run that will do the work and
/// whether it is new.
pub async fn request(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    organization_id: i64,
    trigger: &str,
    requested_by: Option<i64>,
    traceparent: Option<String>,
) -> Result<(RunRow, bool), RmmError> {
    loop {
        let inserted: Option<RunRow> = diesel::sql_query(
            "INSERT INTO rmm.runs (integration_id, organization_id, status, trigger, \
             requested_by, traceparent) VALUES ($1, $2, 'queued', $3, $4, $5) \
             ON CONFLICT (integration_id) WHERE status IN ('queued', 'running') DO NOTHING \
             RETURNING *",
        )
        .bind::<diesel::sql_types::BigInt, _>(integration_id)
        .bind::<diesel::sql_types::BigInt, _>(organization_id)
        .bind::<diesel::sql_types::Text, _>(trigger)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(requested_by)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(traceparent.clone())
        .get_result::<RunRow>(conn)
        .await
        .optional()?;
        if let Some(run) = inserted {
            return Ok((run, true));
        }
        // The active run may finish between the two statements; then try again.
        if let Some(run) = active(conn, integration_id).await? {
            return Ok((run, false));
        }
    }
}

/// Queues a scheduled run for every enabled integration that is due and idle.
pub async fn queue_due(conn: &mut AsyncPgConnection) -> Result<usize, RmmError> {
    Ok(diesel::sql_query(
        "INSERT INTO rmm.runs (integration_id, organization_id, status, trigger) \
         SELECT id, organization_id, 'queued', 'schedule' FROM rmm.integrations \
         WHERE enabled AND next_run_at <= now() \
         ON CONFLICT (integration_id) WHERE status IN ('queued', 'running') DO NOTHING",
    )
    .execute(conn)
    .await?)
}

/// Running runs whose worker stopped renewing the lease go back to the queue.
pub async fn requeue_stale(conn: &mut AsyncPgConnection) -> Result<usize, RmmError> {
    Ok(diesel::update(
        runs::table
            .filter(runs::status.eq(RUNNING))
            .filter(runs::lease_until.lt(Utc::now())),
    )
    .set((
        runs::status.eq(QUEUED),
        runs::lease_until.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
    .await?)
}

/// Takes the oldest queued run of an enabled integration, if any, and starts it afresh.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    lease: std::time::Duration,
) -> Result<Option<RunRow>, RmmError> {
    let lease = chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::minutes(2));
    Ok(conn
        .transaction(async |conn| {
            let id: Option<i64> = runs::table
                .filter(runs::status.eq(QUEUED))
                .order(runs::id.asc())
                .select(runs::id)
                .for_update()
                .skip_locked()
                .first(conn)
                .await
                .optional()?;
            let Some(id) = id else {
                return Ok::<_, diesel::result::Error>(None);
            };
            let now = Utc::now();
            let row = diesel::update(runs::table.find(id))
                .set((
                    runs::status.eq(RUNNING),
                    runs::lease_until.eq(now + lease),
                    runs::started_at.eq(now),
                    runs::pages_fetched.eq(0),
                    runs::devices_seen.eq(0),
                    runs::created.eq(0),
                    runs::updated.eq(0),
                    runs::unchanged.eq(0),
                    runs::retired.eq(0),
                    runs::errors.eq(serde_json::json!([])),
                ))
                .returning(RunRow::as_returning())
                .get_result(conn)
                .await?;
            Ok(Some(row))
        })
        .await?)
}

/// Records progress and renews the lease; false when the run is no longer this worker's.
pub async fn progress(
    conn: &mut AsyncPgConnection,
    id: i64,
    progress: &Progress,
    lease: std::time::Duration,
) -> Result<bool, RmmError> {
    let lease = chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::minutes(2));
    let n = diesel::update(runs::table.find(id).filter(runs::status.eq(RUNNING)))
        .set((
            runs::pages_fetched.eq(progress.pages_fetched),
            runs::devices_seen.eq(progress.devices_seen),
            runs::created.eq(progress.created),
            runs::updated.eq(progress.updated),
            runs::unchanged.eq(progress.unchanged),
            runs::retired.eq(progress.retired),
            runs::errors.eq(serde_json::Value::Array(progress.errors.clone())),
            runs::lease_until.eq(Utc::now() + lease),
        ))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    progress: &Progress,
) -> Result<(), RmmError> {
    diesel::update(runs::table.find(id))
        .set((
            runs::status.eq(status),
            runs::pages_fetched.eq(progress.pages_fetched),
            runs::devices_seen.eq(progress.devices_seen),
            runs::created.eq(progress.created),
            runs::updated.eq(progress.updated),
            runs::unchanged.eq(progress.unchanged),
            runs::retired.eq(progress.retired),
            runs::errors.eq(serde_json::Value::Array(progress.errors.clone())),
            runs::lease_until.eq(None::<DateTime<Utc>>),
            runs::finished_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest run of each integration, for the integration's representation.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    integration_ids: &[i64],
) -> Result<Vec<RunRow>, RmmError> {
    Ok(runs::table
        .filter(runs::integration_id.eq_any(integration_ids))
        .distinct_on(runs::integration_id)
        .order((runs::integration_id, runs::id.desc()))
        .select(RunRow::as_select())
        .load(conn)
        .await?)
}

/// Whether the integration is still there and enabled (a run of a disabled one is dropped).
pub async fn integration_enabled(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    Ok(integrations::table
        .find(id)
        .select(integrations::enabled)
        .first::<bool>(conn)
        .await
        .optional()?
        .unwrap_or(false))
}
