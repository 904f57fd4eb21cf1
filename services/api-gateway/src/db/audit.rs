//! The audit log: key, membership, role and organization changes, and failed authentications.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::audit_log;
use crate::error::GatewayError;

#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub organization_id: Option<i64>,
    pub user_id: Option<i64>,
    pub key_id: Option<i64>,
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub ip: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log, check_for_backend(Pg))]
pub struct EntryView {
    pub id: i64,
    #[serde(rename = "organization")]
    pub organization_id: Option<i64>,
    #[serde(rename = "user")]
    pub user_id: Option<i64>,
    #[serde(rename = "api_key")]
    pub key_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub ip: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn record(pool: &Pool, entry: Entry) -> Result<(), GatewayError> {
    let mut conn = pool.get().await?;
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::organization_id.eq(entry.organization_id),
            audit_log::user_id.eq(entry.user_id),
            audit_log::key_id.eq(entry.key_id),
            audit_log::action.eq(entry.action),
            audit_log::object_type.eq(entry.object_type),
            audit_log::object_id.eq(entry.object_id),
            audit_log::ip.eq(entry.ip),
            audit_log::detail.eq(if entry.detail.is_null() {
                serde_json::json!({})
            } else {
                entry.detail
            }),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Records without holding up the request; a failure to write is logged.
pub fn record_later(pool: &Pool, entry: Entry) {
    let pool = pool.clone();
    tokio::spawn(async move {
        if let Err(error) = record(&pool, entry).await {
            tracing::warn!(%error, "cannot write the audit log");
        }
    });
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub user: Option<i64>,
    pub action: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub search: Vec<String>,
}

pub const ORDERING_FIELDS: &[&str] = &["id", "action", "created_at"];

/// Entries of `orgs`; with `everything` (platform administrators) also those of no organization.
fn filtered<'a>(
    orgs: &'a [i64],
    everything: bool,
    filter: &'a AuditFilter,
) -> audit_log::BoxedQuery<'a, Pg> {
    let mut query = if everything {
        audit_log::table.into_boxed()
    } else {
        audit_log::table
            .filter(audit_log::organization_id.eq_any(orgs))
            .into_boxed()
    };
    if let Some(user) = filter.user {
        query = query.filter(audit_log::user_id.eq(user));
    }
    if let Some(action) = filter.action.as_deref() {
        query = query.filter(audit_log::action.eq(action));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(audit_log::created_at.ge(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(audit_log::created_at.lt(before));
    }
    for word in &filter.search {
        let pattern = clientstor_db::like_pattern(word);
        query = query.filter(audit_log::action.ilike(pattern));
    }
    query
}

pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    everything: bool,
    filter: &AuditFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<EntryView>), GatewayError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(orgs, everything, filter)
        .count()
        .get_result(&mut conn)
        .await?;
    let mut query = filtered(orgs, everything, filter);
    if ordering.is_empty() {
        query = query.then_order_by(audit_log::id.desc());
    }
    query = clientstor_db::apply_ordering!(query, ordering, {
        "action" => audit_log::action,
        "created_at" => audit_log::created_at,
        "id" => audit_log::id,
    });
    let rows = query
        .then_order_by(audit_log::id.desc())
        .select(EntryView::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}
