//! Platform alerts per integration: the open ones as last listed; an alert no longer listed as
//! open is marked resolved.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::alerts;
use crate::device::Alert;
use crate::error::RmmError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts, check_for_backend(Pg))]
pub struct AlertRow {
    pub id: i64,
    pub integration_id: i64,
    pub organization_id: i64,
    pub external_id: String,
    pub device_external_id: Option<String>,
    pub device_name: Option<String>,
    pub status: String,
    pub severity: String,
    pub message: String,
    pub alert_type: Option<String>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stores the open alerts under the integration's organization and resolves the rest.
pub async fn replace_open(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    organization_id: i64,
    open: &[Alert],
) -> Result<(), RmmError> {
    let now = Utc::now();
    let mut seen = HashSet::new();
    let rows: Vec<_> = open
        .iter()
        .filter(|a| seen.insert(a.external_id.clone()))
        .map(|a| {
            (
                alerts::integration_id.eq(integration_id),
                alerts::organization_id.eq(organization_id),
                alerts::external_id.eq(&a.external_id),
                alerts::device_external_id.eq(&a.device_external_id),
                alerts::device_name.eq(&a.device_name),
                alerts::status.eq(&a.status),
                alerts::severity.eq(&a.severity),
                alerts::message.eq(&a.message),
                alerts::alert_type.eq(&a.alert_type),
                alerts::triggered_at.eq(a.triggered_at),
                alerts::resolved_at.eq(a.resolved_at),
            )
        })
        .collect();
    for chunk in rows.chunks(1000) {
        diesel::insert_into(alerts::table)
            .values(chunk)
            .on_conflict((alerts::integration_id, alerts::external_id))
            .do_update()
            .set((
                alerts::device_external_id.eq(excluded(alerts::device_external_id)),
                alerts::device_name.eq(excluded(alerts::device_name)),
                alerts::status.eq(excluded(alerts::status)),
                alerts::severity.eq(excluded(alerts::severity)),
                alerts::message.eq(excluded(alerts::message)),
                alerts::alert_type.eq(excluded(alerts::alert_type)),
                alerts::triggered_at.eq(excluded(alerts::triggered_at)),
                alerts::resolved_at.eq(excluded(alerts::resolved_at)),
                alerts::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    let listed: Vec<&String> = seen.iter().collect();
    diesel::update(
        alerts::table
            .filter(alerts::integration_id.eq(integration_id))
            .filter(alerts::status.eq("open"))
            .filter(alerts::external_id.ne_all(listed)),
    )
    .set((
        alerts::status.eq("resolved"),
        alerts::resolved_at.eq(now),
        alerts::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// An alert's `status`.
pub const STATUSES: &[&str] = &["open", "resolved"];
/// An alert's `severity`: the platform's priority, or `unknown`.
pub const SEVERITIES: &[&str] = &[
    "critical",
    "high",
    "moderate",
    "low",
    "information",
    "unknown",
];

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "status",
    "severity",
    "triggered_at",
    "resolved_at",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct AlertFilter {
    pub search: Vec<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
}

fn filtered<'a>(integration_id: i64, filter: &'a AlertFilter) -> alerts::BoxedQuery<'a, Pg> {
    let mut query = alerts::table
        .filter(alerts::integration_id.eq(integration_id))
        .into_boxed();
    for word in &filter.search {
        let p = clientstor_db::like_pattern(word);
        query = query.filter(
            alerts::message
                .ilike(p.clone())
                .or(alerts::device_name.ilike(p)),
        );
    }
    if let Some(v) = &filter.status {
        query = query.filter(alerts::status.eq(v));
    }
    if let Some(v) = &filter.severity {
        query = query.filter(alerts::severity.eq(v));
    }
    query
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    filter: &AlertFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<AlertRow>), RmmError> {
    let count: i64 = filtered(integration_id, filter)
        .count()
        .get_result(conn)
        .await?;
    let query = clientstor_db::apply_ordering!(filtered(integration_id, filter), ordering, {
        "id" => alerts::id, "status" => alerts::status, "severity" => alerts::severity,
        "triggered_at" => alerts::triggered_at, "resolved_at" => alerts::resolved_at,
        "created_at" => alerts::created_at, "updated_at" => alerts::updated_at,
    });
    let rows = query
        .then_order_by(alerts::id.desc())
        .select(AlertRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)
        .await?;
    Ok((count, rows))
}
