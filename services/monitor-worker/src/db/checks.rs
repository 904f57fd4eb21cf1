//! Check history: raw results (kept for `MONITOR__RAW_RETENTION_DAYS`), hourly and daily
//! rollups (90 days), and uptime figures from them.

use chrono::{DateTime, Duration, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel_async::RunQueryDsl;

use super::schema::checks;
use crate::error::MonitorError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = checks, check_for_backend(diesel::pg::Pg))]
pub struct CheckRow {
    pub id: i64,
    pub monitor_id: i64,
    pub checked_at: DateTime<Utc>,
    pub ok: bool,
    pub response_time_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub due_at: DateTime<Utc>,
}

pub async fn list(
    pool: &Pool,
    monitor_id: i64,
    page: PageRequest,
) -> Result<(i64, Vec<CheckRow>), MonitorError> {
    let mut conn = pool.get().await?;
    let count: i64 = checks::table
        .filter(checks::monitor_id.eq(monitor_id))
        .count()
        .get_result(&mut conn)
        .await?;
    let rows = checks::table
        .filter(checks::monitor_id.eq(monitor_id))
        .order((checks::checked_at.desc(), checks::id.desc()))
        .select(CheckRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

#[derive(QueryableByName)]
struct Percent {
    #[diesel(sql_type = Nullable<Double>)]
    percent: Option<f64>,
}

/// Uptime percent over the last 24 hours (raw results), 7 and 30 days (hourly rollups plus the
/// raw results of the hour not rolled up yet); `None` without checks.
pub async fn uptime(pool: &Pool, monitor_id: i64) -> Result<[Option<f64>; 3], MonitorError> {
    let mut conn = pool.get().await?;
    let day: Percent = diesel::sql_query(
        "SELECT round(100.0 * avg(ok::int), 3)::float8 AS percent FROM monitor.checks \
         WHERE monitor_id = $1 AND checked_at > now() - interval '24 hours'",
    )
    .bind::<BigInt, _>(monitor_id)
    .get_result(&mut conn)
    .await?;
    let mut out = [day.percent, None, None];
    for (slot, days) in [(1, 7), (2, 30)] {
        let row: Percent = diesel::sql_query(format!(
            "SELECT round(100.0 * sum(ok_checks) / nullif(sum(checks), 0), 3)::float8 AS percent FROM ( \
               SELECT ok_checks, checks FROM monitor.rollups WHERE monitor_id = $1 AND granularity = 'hour' \
                 AND bucket > now() - interval '{days} days' AND bucket < date_trunc('hour', now()) \
               UNION ALL SELECT ok::int, 1 FROM monitor.checks WHERE monitor_id = $1 \
                 AND checked_at >= date_trunc('hour', now())) t"
        ))
        .bind::<BigInt, _>(monitor_id)
        .get_result(&mut conn)
        .await?;
        out[slot] = row.percent;
    }
    Ok(out)
}

/// Rolls the recent raw results up into hours and days, and deletes what is past retention.
pub async fn roll_up(pool: &Pool, raw_days: i64, rollup_days: i64) -> Result<(), MonitorError> {
    let mut conn = pool.get().await?;
    for (granularity, source, since) in [
        ("hour", "checks", Duration::hours(3)),
        ("day", "hours", Duration::days(2)),
    ] {
        let select = if source == "checks" {
            "SELECT monitor_id, date_trunc('hour', checked_at) AS bucket, count(*)::int AS checks, \
             count(*) FILTER (WHERE ok)::int AS ok_checks, avg(response_time_ms)::int AS avg_ms \
             FROM monitor.checks WHERE checked_at >= date_trunc('hour', $1::timestamptz) GROUP BY 1, 2"
        } else {
            "SELECT monitor_id, date_trunc('day', bucket) AS bucket, sum(checks)::int, \
             sum(ok_checks)::int, (sum(avg_response_time_ms::bigint * checks) / nullif(sum(checks), 0))::int \
             FROM monitor.rollups WHERE granularity = 'hour' AND bucket >= date_trunc('day', $1::timestamptz) \
             GROUP BY 1, 2"
        };
        diesel::sql_query(format!(
            "INSERT INTO monitor.rollups (monitor_id, bucket, checks, ok_checks, avg_response_time_ms, granularity) \
             SELECT *, '{granularity}' FROM ({select}) s \
             ON CONFLICT (monitor_id, granularity, bucket) DO UPDATE SET checks = EXCLUDED.checks, \
             ok_checks = EXCLUDED.ok_checks, avg_response_time_ms = EXCLUDED.avg_response_time_ms"
        ))
        .bind::<diesel::sql_types::Timestamptz, _>(Utc::now() - since)
        .execute(&mut conn)
        .await?;
    }
    diesel::sql_query(
        "DELETE FROM monitor.checks WHERE checked_at < now() - make_interval(days => $1::int)",
    )
    .bind::<BigInt, _>(raw_days)
    .execute(&mut conn)
    .await?;
    diesel::sql_query(
        "DELETE FROM monitor.rollups WHERE bucket < now() - make_interval(days => $1::int)",
    )
    .bind::<BigInt, _>(rollup_days)
    .execute(&mut conn)
    .await?;
    Ok(())
}
