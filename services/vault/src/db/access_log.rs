//! The access log: append-only, hash-chained per organization. Appending locks the
//! organization's chain head, so records of one organization are chained in id order.

use chrono::{DateTime, SubsecRound as _, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{access_chain, access_log};
use crate::error::VaultError;

pub const REVEAL: &str = "reveal";
pub const OTP: &str = "otp";
pub const CREATE: &str = "create";
pub const UPDATE: &str = "update";
pub const DELETE: &str = "delete";

/// One access, before it is chained.
#[derive(Debug, Clone)]
pub struct Access {
    pub organization_id: i64,
    pub password_id: i64,
    pub password_title: String,
    pub action: &'static str,
    pub user_id: i64,
    pub api_key_id: Option<i64>,
    pub client_address: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = access_log, check_for_backend(Pg))]
pub struct AccessRow {
    pub id: i64,
    pub organization_id: i64,
    pub password_id: i64,
    pub password_title: String,
    pub action: String,
    pub user_id: i64,
    pub api_key_id: Option<i64>,
    pub client_address: Option<String>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
    pub previous_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The chained digest of a record: SHA-256 over the previous hash and every field, each
/// length-prefixed so that no two records serialise alike.
fn digest(previous: &[u8], row: &AccessRow) -> Vec<u8> {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(previous);
    let at = row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fields = [
        row.organization_id.to_string(),
        row.password_id.to_string(),
        row.password_title.clone(),
        row.action.clone(),
        row.user_id.to_string(),
        row.api_key_id.map(|k| k.to_string()).unwrap_or_default(),
        row.client_address.clone().unwrap_or_default(),
        row.request_id.clone().unwrap_or_default(),
        at,
    ];
    for field in fields {
        context.update(&(field.len() as u64).to_be_bytes());
        context.update(field.as_bytes());
    }
    context.finish().as_ref().to_vec()
}

/// Appends `access` to its organization's chain. Call inside the transaction that reads the
/// secret: if this fails, the transaction and the read fail with it.
pub async fn append(conn: &mut AsyncPgConnection, access: &Access) -> Result<(), VaultError> {
    // Locks the chain head (created on first use) until commit.
    let previous: Vec<u8> = diesel::insert_into(access_chain::table)
        .values((
            access_chain::organization_id.eq(access.organization_id),
            access_chain::last_hash.eq(vec![0u8; 32]),
        ))
        .on_conflict(access_chain::organization_id)
        .do_update()
        .set(access_chain::last_hash.eq(access_chain::last_hash))
        .returning(access_chain::last_hash)
        .get_result(conn)
        .await?;
    let mut row = AccessRow {
        id: 0,
        organization_id: access.organization_id,
        password_id: access.password_id,
        password_title: access.password_title.clone(),
        action: access.action.to_string(),
        user_id: access.user_id,
        api_key_id: access.api_key_id,
        client_address: access.client_address.clone(),
        request_id: access.request_id.clone(),
        // Postgres keeps microseconds; hash what is stored.
        at: Utc::now().trunc_subsecs(6),
        previous_hash: previous.clone(),
        hash: Vec::new(),
    };
    row.hash = digest(&previous, &row);
    diesel::insert_into(access_log::table)
        .values((
            access_log::organization_id.eq(row.organization_id),
            access_log::password_id.eq(row.password_id),
            access_log::password_title.eq(&row.password_title),
            access_log::action.eq(&row.action),
            access_log::user_id.eq(row.user_id),
            access_log::api_key_id.eq(row.api_key_id),
            access_log::client_address.eq(&row.client_address),
            access_log::request_id.eq(&row.request_id),
            access_log::at.eq(row.at),
            access_log::previous_hash.eq(&row.previous_hash),
            access_log::hash.eq(&row.hash),
        ))
        .execute(conn)
        .await?;
    diesel::update(access_chain::table.find(access.organization_id))
        .set(access_chain::last_hash.eq(&row.hash))
        .execute(conn)
        .await?;
    Ok(())
}

/// Checks an organization's chain from the start; returns the id of the first record that does
/// not follow from its predecessor, if any.
pub async fn first_broken(pool: &Pool, organization_id: i64) -> Result<Option<i64>, VaultError> {
    let mut conn = pool.get().await?;
    let rows: Vec<AccessRow> = access_log::table
        .filter(access_log::organization_id.eq(organization_id))
        .order(access_log::id)
        .select(AccessRow::as_select())
        .load(&mut conn)
        .await?;
    let mut previous = vec![0u8; 32];
    for row in rows {
        if row.previous_hash != previous || digest(&previous, &row) != row.hash {
            return Ok(Some(row.id));
        }
        previous = row.hash;
    }
    Ok(None)
}

/// Reveals by the user in the last hour, and when the oldest of them leaves the window.
pub async fn recent_reveals(
    conn: &mut AsyncPgConnection,
    user_id: i64,
) -> Result<(i64, Option<DateTime<Utc>>), VaultError> {
    let since = Utc::now() - chrono::Duration::hours(1);
    Ok(access_log::table
        .filter(access_log::user_id.eq(user_id))
        .filter(access_log::action.eq(REVEAL))
        .filter(access_log::at.gt(since))
        .select((diesel::dsl::count_star(), diesel::dsl::min(access_log::at)))
        .first(conn)
        .await?)
}

#[derive(Debug, Default)]
pub struct AccessFilter {
    pub password_id: Option<i64>,
    pub user_id: Option<i64>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    filter: &AccessFilter,
    page: PageRequest,
) -> Result<(i64, Vec<AccessRow>), VaultError> {
    let filtered = || {
        let mut query = access_log::table
            .filter(access_log::organization_id.eq_any(orgs))
            .into_boxed();
        if let Some(v) = filter.password_id {
            query = query.filter(access_log::password_id.eq(v));
        }
        if let Some(v) = filter.user_id {
            query = query.filter(access_log::user_id.eq(v));
        }
        if let Some(v) = &filter.action {
            query = query.filter(access_log::action.eq(v.clone()));
        }
        if let Some(v) = filter.since {
            query = query.filter(access_log::at.ge(v));
        }
        if let Some(v) = filter.until {
            query = query.filter(access_log::at.lt(v));
        }
        query
    };
    let mut conn = pool.get().await?;
    let count: i64 = filtered().count().get_result(&mut conn).await?;
    let rows = filtered()
        .order(access_log::id.desc())
        .select(AccessRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}
