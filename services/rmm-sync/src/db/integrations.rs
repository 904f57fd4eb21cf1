//! Integrations: one platform connection of an organization, with sealed credentials, a
//! schedule and an organization mapping. Every read is filtered to reachable organizations.

use chrono::{DateTime, Utc};
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::integrations;
use crate::error::RmmError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = integrations, check_for_backend(Pg))]
pub struct IntegrationRow {
    pub id: i64,
    pub organization_id: i64,
    pub provider: String,
    pub name: String,
    pub base_url: Option<String>,
    pub region: Option<String>,
    pub credentials_sealed: Vec<u8>,
    pub sync_interval_minutes: i32,
    pub enabled: bool,
    pub organization_mapping: serde_json::Value,
    pub mapping_scope: Vec<i64>,
    pub gps_extra_data_field: Option<String>,
    pub next_run_at: DateTime<Utc>,
    pub consecutive_failures: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a client sets, credentials apart.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = integrations, treat_none_as_null = true)]
pub struct IntegrationFields {
    pub provider: String,
    pub name: String,
    pub base_url: Option<String>,
    pub region: Option<String>,
    pub sync_interval_minutes: i32,
    pub enabled: bool,
    pub organization_mapping: serde_json::Value,
    pub mapping_scope: Vec<i64>,
    pub gps_extra_data_field: Option<String>,
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "name",
    "provider",
    "enabled",
    "sync_interval_minutes",
    "next_run_at",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct IntegrationFilter {
    pub search: Vec<String>,
    pub provider: Option<String>,
    pub enabled: Option<bool>,
}

fn filtered<'a>(
    orgs: &'a [i64],
    filter: &'a IntegrationFilter,
) -> integrations::BoxedQuery<'a, Pg> {
    let mut query = integrations::table
        .filter(integrations::organization_id.eq_any(orgs))
        .into_boxed();
    for word in &filter.search {
        query = query.filter(integrations::name.ilike(clientstor_db::like_pattern(word)));
    }
    if let Some(v) = &filter.provider {
        query = query.filter(integrations::provider.eq(v));
    }
    if let Some(v) = filter.enabled {
        query = query.filter(integrations::enabled.eq(v));
    }
    query
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    orgs: &[i64],
    filter: &IntegrationFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<IntegrationRow>), RmmError> {
    let count: i64 = filtered(orgs, filter).count().get_result(conn).await?;
    let query = clientstor_db::apply_ordering!(filtered(orgs, filter), ordering, {
        "id" => integrations::id, "name" => integrations::name,
        "provider" => integrations::provider, "enabled" => integrations::enabled,
        "sync_interval_minutes" => integrations::sync_interval_minutes,
        "next_run_at" => integrations::next_run_at, "created_at" => integrations::created_at,
        "updated_at" => integrations::updated_at,
    });
    let rows = query
        .then_order_by(integrations::id.asc())
        .select(IntegrationRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    orgs: &[i64],
    id: i64,
) -> Result<IntegrationRow, RmmError> {
    Ok(integrations::table
        .filter(integrations::id.eq(id))
        .filter(integrations::organization_id.eq_any(orgs))
        .select(IntegrationRow::as_select())
        .first(conn)
        .await?)
}

/// The integration whatever its organization, for the worker.
pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> Result<IntegrationRow, RmmError> {
    Ok(integrations::table
        .find(id)
        .select(IntegrationRow::as_select())
        .first(conn)
        .await?)
}

pub async fn next_id(conn: &mut AsyncPgConnection) -> Result<i64, RmmError> {
    Ok(clientstor_db::next_id(conn, "rmm.integrations_id_seq").await?)
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: i64,
    organization_id: i64,
    created_by: i64,
    fields: &IntegrationFields,
    credentials_sealed: &[u8],
) -> Result<IntegrationRow, RmmError> {
    Ok(diesel::insert_into(integrations::table)
        .values((
            integrations::id.eq(id),
            integrations::organization_id.eq(organization_id),
            integrations::created_by.eq(created_by),
            integrations::credentials_sealed.eq(credentials_sealed),
            fields,
        ))
        .returning(IntegrationRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Saves the fields (and new credentials when given); a schedule change takes effect now.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    fields: &IntegrationFields,
    credentials_sealed: Option<&[u8]>,
) -> Result<IntegrationRow, RmmError> {
    let target = integrations::table.find(id);
    let now = Utc::now();
    if let Some(sealed) = credentials_sealed {
        diesel::update(target)
            .set((
                integrations::credentials_sealed.eq(sealed),
                integrations::consecutive_failures.eq(0),
                integrations::next_run_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    Ok(diesel::update(target)
        .set((fields, integrations::updated_at.eq(now)))
        .returning(IntegrationRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), RmmError> {
    diesel::delete(integrations::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// After a run: the next one is an interval away, and further after consecutive failures
/// (one interval, then two, four, … up to a day), so a broken platform is not hammered.
pub async fn schedule_next(
    conn: &mut AsyncPgConnection,
    id: i64,
    failed: bool,
) -> Result<(), RmmError> {
    let row = by_id(conn, id).await?;
    let failures = if failed {
        row.consecutive_failures.saturating_add(1)
    } else {
        0
    };
    let interval = i64::from(row.sync_interval_minutes.max(1));
    let factor = 1i64 << failures.clamp(1, 11).saturating_sub(1).unsigned_abs();
    let minutes = (interval * factor).min(24 * 60).max(interval.min(24 * 60));
    diesel::update(integrations::table.find(id))
        .set((
            integrations::consecutive_failures.eq(failures),
            integrations::next_run_at.eq(Utc::now() + chrono::Duration::minutes(minutes)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether another integration of the organization has this name.
pub async fn name_taken(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    name: &str,
    except: Option<i64>,
) -> Result<bool, RmmError> {
    let mut query = integrations::table
        .filter(integrations::organization_id.eq(organization_id))
        .filter(integrations::name.eq(name))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(integrations::id.ne(id));
    }
    Ok(diesel::select(diesel::dsl::exists(query))
        .get_result(conn)
        .await?)
}
