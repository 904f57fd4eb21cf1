//! The worker's side: claiming due monitors, and writing a batch of results with the state
//! changes and events they cause, in one transaction.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::SCHEMA;
use crate::error::MonitorError;

/// A claimed monitor: what to check and when it was due.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub due_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub monitor_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub host: Option<String>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub port: Option<i32>,
    #[diesel(sql_type = Int4)]
    pub timeout_seconds: i32,
    #[diesel(sql_type = Text)]
    pub http_method: String,
    #[diesel(sql_type = Text)]
    pub expected_status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub keyword: Option<String>,
    #[diesel(sql_type = Bool)]
    pub follow_redirects: bool,
    #[diesel(sql_type = Bool)]
    pub verify_tls: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub tls_checked_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` monitors due before `horizon` and moves each one's next check on by its
/// interval (from when it was due, so the schedule keeps its phase; from now when it fell more
/// than an interval behind, so a stopped worker does not cause a burst).
pub async fn claim(
    pool: &Pool,
    horizon: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, MonitorError> {
    let mut conn = pool.get().await?;
    Ok(diesel::sql_query(
        "WITH due AS ( \
           SELECT id, next_check_at FROM monitor.monitors \
           WHERE NOT is_paused AND next_check_at <= $1 \
           ORDER BY next_check_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE monitor.monitors m SET next_check_at = CASE \
             WHEN due.next_check_at + make_interval(secs => m.interval_seconds) > now() \
             THEN due.next_check_at + make_interval(secs => m.interval_seconds) \
             ELSE now() + make_interval(secs => m.interval_seconds) END \
         FROM due WHERE m.id = due.id \
         RETURNING m.id, due.next_check_at AS due_at, m.monitor_type, m.url, m.host, m.port, \
           m.timeout_seconds, m.http_method, m.expected_status, m.keyword, m.follow_redirects, \
           m.verify_tls, m.tls_checked_at",
    )
    .bind::<Timestamptz, _>(horizon)
    .bind::<BigInt, _>(limit)
    .load(&mut conn)
    .await?)
}

/// A check's outcome, as written.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub monitor_id: i64,
    pub due_at: DateTime<Utc>,
    pub checked_at: DateTime<Utc>,
    pub ok: bool,
    pub response_time_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub tls: Option<TlsSeen>,
}

#[derive(Debug, Clone)]
pub struct TlsSeen {
    pub expires_at: DateTime<Utc>,
    pub issuer: String,
    pub subject: String,
}

/// The state the writer needs to apply results.
#[derive(Debug, Clone, QueryableByName)]
pub struct Current {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub organization_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub monitor_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub host: Option<String>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub port: Option<i32>,
    #[diesel(sql_type = Bool)]
    pub is_paused: bool,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub maintenance_windows: serde_json::Value,
    #[diesel(sql_type = Int4)]
    pub failure_threshold: i32,
    #[diesel(sql_type = Int4)]
    pub success_threshold: i32,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub announced_status: String,
    #[diesel(sql_type = Int4)]
    pub consecutive_failures: i32,
    #[diesel(sql_type = Int4)]
    pub consecutive_successes: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub down_since: Option<DateTime<Utc>>,
}

/// The new state of one monitor after its result.
#[derive(Debug, Clone)]
pub struct NewState {
    pub id: i64,
    pub status: String,
    pub announced_status: String,
    pub consecutive_failures: i32,
    pub consecutive_successes: i32,
    pub down_since: Option<DateTime<Utc>>,
}

/// Writes `results` in one transaction: locks the monitors, lets `decide` compute each new state
/// and event, then inserts the checks, updates the monitors and writes the events.
pub async fn write_batch<F>(
    pool: &Pool,
    results: &[CheckResult],
    decide: F,
) -> Result<usize, MonitorError>
where
    F: Fn(&Current, &str, &CheckResult) -> (NewState, Option<clientstor_events::v1::Envelope>)
        + Send
        + Sync,
{
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| write(conn, results, &decide).await)
        .await?)
}

async fn write<F>(
    conn: &mut AsyncPgConnection,
    results: &[CheckResult],
    decide: &F,
) -> Result<usize, diesel::result::Error>
where
    F: Fn(&Current, &str, &CheckResult) -> (NewState, Option<clientstor_events::v1::Envelope>),
{
    let ids: Vec<i64> = results.iter().map(|r| r.monitor_id).collect();
    let current: Vec<Current> = diesel::sql_query(
        "SELECT id, organization_id, name, monitor_type, url, host, port, is_paused, \
           maintenance_windows, failure_threshold, success_threshold, status, announced_status, \
           consecutive_failures, consecutive_successes, down_since \
         FROM monitor.monitors WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .load(conn)
    .await?;
    let mut org_ids: Vec<i64> = current.iter().map(|m| m.organization_id).collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let names = clientstor_runtime::organizations::names(conn, SCHEMA, &org_ids).await?;
    let mut kept = Vec::new();
    let mut states = Vec::new();
    let mut events = Vec::new();
    for result in results {
        // Deleted or paused since the claim: the result is dropped.
        let Some(monitor) = current.iter().find(|m| m.id == result.monitor_id) else {
            continue;
        };
        if monitor.is_paused {
            continue;
        }
        let name = names
            .get(&monitor.organization_id)
            .map_or("", String::as_str);
        let (state, event) = decide(monitor, name, result);
        kept.push(result);
        states.push((state, result));
        events.extend(event);
    }
    if kept.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "INSERT INTO monitor.checks (monitor_id, due_at, checked_at, ok, response_time_ms, status_code, error) \
         SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::timestamptz[], $4::bool[], \
                              $5::int4[], $6::int4[], $7::text[])",
    )
    .bind::<Array<BigInt>, _>(kept.iter().map(|r| r.monitor_id).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(kept.iter().map(|r| r.due_at).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(kept.iter().map(|r| r.checked_at).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(kept.iter().map(|r| r.ok).collect::<Vec<_>>())
    .bind::<Array<Nullable<Int4>>, _>(kept.iter().map(|r| r.response_time_ms).collect::<Vec<_>>())
    .bind::<Array<Nullable<Int4>>, _>(kept.iter().map(|r| r.status_code).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(kept.iter().map(|r| r.error.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    diesel::sql_query(
        "UPDATE monitor.monitors m SET status = s.status, announced_status = s.announced, \
           consecutive_failures = s.failures, consecutive_successes = s.successes, \
           down_since = s.down_since, last_checked_at = s.checked_at, \
           last_response_time_ms = s.response_time_ms, last_status_code = s.status_code, \
           last_error = s.error, \
           tls_expires_at = coalesce(s.tls_expires_at, m.tls_expires_at), \
           tls_issuer = coalesce(s.tls_issuer, m.tls_issuer), \
           tls_subject = coalesce(s.tls_subject, m.tls_subject), \
           tls_checked_at = CASE WHEN s.tls_expires_at IS NULL THEN m.tls_checked_at ELSE s.checked_at END \
         FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int4[], $6::timestamptz[], \
                     $7::timestamptz[], $8::int4[], $9::int4[], $10::text[], $11::timestamptz[], \
                     $12::text[], $13::text[]) \
           AS s(id, status, announced, failures, successes, down_since, checked_at, response_time_ms, \
                status_code, error, tls_expires_at, tls_issuer, tls_subject) \
         WHERE m.id = s.id",
    )
    .bind::<Array<BigInt>, _>(states.iter().map(|(s, _)| s.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(states.iter().map(|(s, _)| s.status.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(states.iter().map(|(s, _)| s.announced_status.clone()).collect::<Vec<_>>())
    .bind::<Array<Int4>, _>(states.iter().map(|(s, _)| s.consecutive_failures).collect::<Vec<_>>())
    .bind::<Array<Int4>, _>(states.iter().map(|(s, _)| s.consecutive_successes).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(states.iter().map(|(s, _)| s.down_since).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(states.iter().map(|(_, r)| r.checked_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<Int4>>, _>(states.iter().map(|(_, r)| r.response_time_ms).collect::<Vec<_>>())
    .bind::<Array<Nullable<Int4>>, _>(states.iter().map(|(_, r)| r.status_code).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(states.iter().map(|(_, r)| r.error.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(
        states.iter().map(|(_, r)| r.tls.as_ref().map(|t| t.expires_at)).collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Text>>, _>(
        states.iter().map(|(_, r)| r.tls.as_ref().map(|t| t.issuer.clone())).collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Text>>, _>(
        states.iter().map(|(_, r)| r.tls.as_ref().map(|t| t.subject.clone())).collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    if !events.is_empty() {
        clientstor_bus::enqueue_many(conn, SCHEMA, &events).await?;
    }
    Ok(kept.len())
}
