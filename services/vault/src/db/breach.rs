//! Breach-check bookkeeping: which entries are due, leases so that a crashed checker's work is
//! picked up again, results, and the scans asked for through the API.

use chrono::{DateTime, Duration, Utc};
use clientstor_db::Pool;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{breach_scans, passwords};
use crate::SCHEMA;
use crate::error::VaultError;

/// How long a claimed entry stays with its checker before another may take it.
const LEASE: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = passwords, check_for_backend(diesel::pg::Pg))]
pub struct DueEntry {
    pub id: i64,
    pub organization_id: i64,
    pub title: String,
    pub username: String,
    pub url: String,
    pub password_sealed: Option<Vec<u8>>,
}

/// Claims up to `limit` due entries by pushing their due time past the lease.
pub async fn claim_due(pool: &Pool, limit: i64) -> Result<Vec<DueEntry>, VaultError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| {
            let now = Utc::now();
            let due: Vec<DueEntry> = passwords::table
                .filter(passwords::breach_check_due.le(now))
                .filter(passwords::password_sealed.is_not_null())
                .order(passwords::breach_check_due)
                .limit(limit)
                .for_update()
                .skip_locked()
                .select(DueEntry::as_select())
                .load(conn)
                .await?;
            let ids: Vec<i64> = due.iter().map(|e| e.id).collect();
            diesel::update(passwords::table.filter(passwords::id.eq_any(&ids)))
                .set(passwords::breach_check_due.eq(now + LEASE))
                .execute(conn)
                .await?;
            Ok::<_, diesel::result::Error>(due)
        })
        .await?)
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Safe,
    Breached(i64),
    /// The service could not be reached or answered badly: the status stays as it was.
    Unreachable,
}

/// Records the outcome if the entry still holds the password that was checked; when it turns
/// breached, `event` is written to the outbox in the same transaction.
pub async fn record(
    pool: &Pool,
    entry: &DueEntry,
    outcome: Outcome,
    next_check: DateTime<Utc>,
    event: impl FnOnce(DateTime<Utc>, String) -> clientstor_events::v1::Envelope + Send,
) -> Result<(), VaultError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    conn.transaction(async |conn| {
        let now = Utc::now();
        let current: Option<String> = passwords::table
            .find(entry.id)
            .filter(passwords::password_sealed.is_not_distinct_from(entry.password_sealed.clone()))
            .select(passwords::breach_status)
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some(previous_status) = current else {
            // Changed or deleted meanwhile; the new password has its own check.
            return Ok(());
        };
        let target = passwords::table.find(entry.id);
        match outcome {
            Outcome::Unreachable => {
                diesel::update(target)
                    .set((
                        passwords::breach_attempted_at.eq(now),
                        passwords::breach_check_due.eq(next_check),
                    ))
                    .execute(conn)
                    .await?;
            }
            Outcome::Safe | Outcome::Breached(_) => {
                let (status, count) = match outcome {
                    Outcome::Breached(n) => ("breached", i32::try_from(n).unwrap_or(i32::MAX)),
                    _ => ("safe", 0),
                };
                diesel::update(target)
                    .set((
                        passwords::breach_status.eq(status),
                        passwords::breach_count.eq(count),
                        passwords::breach_checked_at.eq(now),
                        passwords::breach_attempted_at.eq(now),
                        passwords::breach_check_due.eq(next_check),
                    ))
                    .execute(conn)
                    .await?;
                if status == "breached" && previous_status != "breached" {
                    let name = clientstor_runtime::organizations::name(
                        conn,
                        SCHEMA,
                        entry.organization_id,
                    )
                    .await?;
                    clientstor_bus::enqueue(conn, SCHEMA, &event(now, name)).await?;
                }
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = breach_scans, check_for_backend(diesel::pg::Pg))]
pub struct ScanRow {
    pub id: i64,
    pub organization_ids: Vec<i64>,
    pub requested_by: i64,
    pub total: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Makes every entry with a password in `orgs` due now and records the scan.
pub async fn start_scan(pool: &Pool, orgs: &[i64], user: i64) -> Result<ScanRow, VaultError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| {
            let now = Utc::now();
            let total = diesel::update(
                passwords::table
                    .filter(passwords::organization_id.eq_any(orgs))
                    .filter(passwords::password_sealed.is_not_null()),
            )
            .set(passwords::breach_check_due.eq(now))
            .execute(conn)
            .await?;
            diesel::insert_into(breach_scans::table)
                .values((
                    breach_scans::organization_ids.eq(orgs),
                    breach_scans::requested_by.eq(user),
                    breach_scans::total.eq(i32::try_from(total).unwrap_or(i32::MAX)),
                    breach_scans::created_at.eq(now),
                ))
                .returning(ScanRow::as_returning())
                .get_result(conn)
                .await
        })
        .await?)
}

/// A scan's progress: entries attempted since it started, and the statuses of its entries.
#[derive(Debug, Default)]
pub struct ScanProgress {
    pub remaining: i64,
    pub safe: i64,
    pub breached: i64,
    pub unknown: i64,
}

pub async fn scan(
    pool: &Pool,
    orgs: &[i64],
    id: i64,
) -> Result<(ScanRow, ScanProgress), VaultError> {
    let mut conn = pool.get().await?;
    let mut scan: ScanRow = breach_scans::table
        .find(id)
        .select(ScanRow::as_select())
        .first(&mut conn)
        .await?;
    // Visible only to callers reaching every organization it covered.
    if !scan.organization_ids.iter().all(|o| orgs.contains(o)) {
        return Err(VaultError::Database(diesel::result::Error::NotFound));
    }
    let entries = || {
        passwords::table
            .filter(passwords::organization_id.eq_any(scan.organization_ids.clone()))
            .filter(passwords::password_sealed.is_not_null())
            .filter(passwords::created_at.le(scan.created_at))
    };
    let remaining: i64 = entries()
        .filter(
            passwords::breach_attempted_at
                .is_null()
                .or(passwords::breach_attempted_at.lt(scan.created_at)),
        )
        .count()
        .get_result(&mut conn)
        .await?;
    let statuses: Vec<(String, i64)> = entries()
        .group_by(passwords::breach_status)
        .select((passwords::breach_status, diesel::dsl::count_star()))
        .load(&mut conn)
        .await?;
    let mut progress = ScanProgress {
        remaining,
        ..Default::default()
    };
    for (status, n) in statuses {
        match status.as_str() {
            "safe" => progress.safe = n,
            "breached" => progress.breached = n,
            _ => progress.unknown += n,
        }
    }
    if remaining == 0 && scan.finished_at.is_none() {
        let now = Utc::now();
        diesel::update(breach_scans::table.find(id))
            .set(breach_scans::finished_at.eq(now))
            .execute(&mut conn)
            .await?;
        scan.finished_at = Some(now);
    }
    Ok((scan, progress))
}
