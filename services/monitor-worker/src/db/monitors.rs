//! Monitor records for the API. Every read is filtered to the organizations the caller reaches.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::monitors;
use crate::error::MonitorError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = monitors, check_for_backend(Pg))]
pub struct MonitorRow {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub monitor_type: String,
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub interval_seconds: i32,
    pub timeout_seconds: i32,
    pub failure_threshold: i32,
    pub success_threshold: i32,
    pub http_method: String,
    pub expected_status: String,
    pub keyword: Option<String>,
    pub follow_redirects: bool,
    pub verify_tls: bool,
    pub tls_warning_days: i32,
    pub is_paused: bool,
    pub maintenance_windows: serde_json::Value,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: String,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_response_time_ms: Option<i32>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub down_since: Option<DateTime<Utc>>,
    pub tls_expires_at: Option<DateTime<Utc>>,
    pub tls_issuer: Option<String>,
    pub tls_subject: Option<String>,
    pub next_check_at: DateTime<Utc>,
}

/// Everything a client writes.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = monitors, treat_none_as_null = true)]
pub struct MonitorFields {
    pub name: String,
    pub monitor_type: String,
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub interval_seconds: i32,
    pub timeout_seconds: i32,
    pub failure_threshold: i32,
    pub success_threshold: i32,
    pub http_method: String,
    pub expected_status: String,
    pub keyword: Option<String>,
    pub follow_redirects: bool,
    pub verify_tls: bool,
    pub tls_warning_days: i32,
    pub is_paused: bool,
    pub maintenance_windows: serde_json::Value,
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "name",
    "monitor_type",
    "status",
    "interval_seconds",
    "last_checked_at",
    "last_response_time_ms",
    "down_since",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct MonitorFilter {
    pub search: Vec<String>,
    pub status: Option<String>,
    pub monitor_type: Option<String>,
    pub is_paused: Option<bool>,
}

fn filtered<'a>(orgs: &'a [i64], filter: &'a MonitorFilter) -> monitors::BoxedQuery<'a, Pg> {
    let mut query = monitors::table
        .filter(monitors::organization_id.eq_any(orgs))
        .into_boxed();
    for word in &filter.search {
        let p = clientstor_db::like_pattern(word);
        query = query.filter(
            monitors::name
                .ilike(p.clone())
                .or(monitors::url.ilike(p.clone()))
                .or(monitors::host.ilike(p)),
        );
    }
    if let Some(v) = &filter.status {
        query = query.filter(monitors::status.eq(v));
    }
    if let Some(v) = &filter.monitor_type {
        query = query.filter(monitors::monitor_type.eq(v));
    }
    if let Some(v) = filter.is_paused {
        query = query.filter(monitors::is_paused.eq(v));
    }
    query
}

pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    filter: &MonitorFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<MonitorRow>), MonitorError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(orgs, filter).count().get_result(&mut conn).await?;
    let query = clientstor_db::apply_ordering!(filtered(orgs, filter), ordering, {
        "id" => monitors::id, "name" => monitors::name, "monitor_type" => monitors::monitor_type,
        "status" => monitors::status, "interval_seconds" => monitors::interval_seconds,
        "last_checked_at" => monitors::last_checked_at,
        "last_response_time_ms" => monitors::last_response_time_ms,
        "down_since" => monitors::down_since, "created_at" => monitors::created_at,
        "updated_at" => monitors::updated_at,
    });
    let rows = query
        .then_order_by(monitors::id.asc())
        .select(MonitorRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(pool: &Pool, orgs: &[i64], id: i64) -> Result<MonitorRow, MonitorError> {
    let mut conn = pool.get().await?;
    Ok(monitors::table
        .filter(monitors::id.eq(id))
        .filter(monitors::organization_id.eq_any(orgs))
        .select(MonitorRow::as_select())
        .first(&mut conn)
        .await?)
}

/// A random point in the first interval, so that monitors created together spread out.
fn first_check(interval_seconds: i32) -> DateTime<Utc> {
    let spread = u64::try_from(interval_seconds.max(1)).unwrap_or(60) * 1000;
    let offset = u64::from(uuid::Uuid::new_v4().as_u128() as u32) % spread;
    Utc::now() + chrono::Duration::milliseconds(i64::try_from(offset).unwrap_or(0))
}

pub async fn create(
    pool: &Pool,
    organization_id: i64,
    created_by: i64,
    fields: &MonitorFields,
) -> Result<MonitorRow, MonitorError> {
    let mut conn = pool.get().await?;
    let status = if fields.is_paused {
        "paused"
    } else {
        "pending"
    };
    Ok(diesel::insert_into(monitors::table)
        .values((
            monitors::organization_id.eq(organization_id),
            monitors::created_by.eq(created_by),
            fields,
            monitors::status.eq(status),
            monitors::next_check_at.eq(first_check(fields.interval_seconds)),
        ))
        .returning(MonitorRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

/// Saves the fields; a changed interval or target is checked again soon.
pub async fn update(
    pool: &Pool,
    current: &MonitorRow,
    fields: &MonitorFields,
) -> Result<MonitorRow, MonitorError> {
    let mut conn = pool.get().await?;
    let target_changed = current.interval_seconds != fields.interval_seconds
        || current.url != fields.url
        || current.host != fields.host
        || current.port != fields.port
        || current.monitor_type != fields.monitor_type;
    let next = if target_changed {
        first_check(fields.interval_seconds.min(10))
    } else {
        current.next_check_at
    };
    let status = match (current.is_paused, fields.is_paused) {
        (false, true) => "paused".to_string(),
        (true, false) => resumed_status(current).to_string(),
        _ => current.status.clone(),
    };
    Ok(diesel::update(monitors::table.find(current.id))
        .set((
            fields,
            monitors::status.eq(status),
            monitors::next_check_at.eq(next),
            monitors::updated_at.eq(Utc::now()),
        ))
        .returning(MonitorRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

fn resumed_status(row: &MonitorRow) -> &'static str {
    match (row.down_since, row.last_checked_at) {
        (Some(_), _) => "down",
        (None, Some(_)) => "up",
        (None, None) => "pending",
    }
}

/// Pauses or resumes; a resumed monitor is checked right away.
pub async fn set_paused(
    pool: &Pool,
    row: &MonitorRow,
    paused: bool,
) -> Result<MonitorRow, MonitorError> {
    let mut conn = pool.get().await?;
    let status = if paused {
        "paused"
    } else {
        resumed_status(row)
    };
    let next = if paused {
        row.next_check_at
    } else {
        Utc::now()
    };
    Ok(diesel::update(monitors::table.find(row.id))
        .set((
            monitors::is_paused.eq(paused),
            monitors::status.eq(status),
            monitors::next_check_at.eq(next),
            monitors::updated_at.eq(Utc::now()),
        ))
        .returning(MonitorRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

/// Makes the monitor due now.
pub async fn check_now(pool: &Pool, id: i64) -> Result<(), MonitorError> {
    let mut conn = pool.get().await?;
    diesel::update(monitors::table.find(id))
        .set(monitors::next_check_at.eq(Utc::now()))
        .execute(&mut conn)
        .await?;
    Ok(())
}

pub async fn delete(pool: &Pool, id: i64) -> Result<(), MonitorError> {
    let mut conn = pool.get().await?;
    diesel::delete(monitors::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}
