//! Vault entries. Every read is filtered to the organizations the caller reaches; sealed
//! values are written and read here but opened only by the routes, after the access record.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::passwords;
use crate::error::VaultError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = passwords, check_for_backend(Pg))]
pub struct PasswordRow {
    pub id: i64,
    pub organization_id: i64,
    pub title: String,
    pub username: String,
    pub url: String,
    pub notes: String,
    pub password_type: String,
    pub password_sealed: Option<Vec<u8>>,
    pub otp_sealed: Option<Vec<u8>>,
    pub otp_issuer: Option<String>,
    pub key_version: Option<i32>,
    pub strength_score: Option<i16>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Value,
    pub breach_status: String,
    pub breach_count: Option<i32>,
    pub breach_checked_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The plain fields a client writes.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = passwords, treat_none_as_null = true)]
pub struct PasswordFields {
    pub title: String,
    pub username: String,
    pub url: String,
    pub notes: String,
    pub password_type: String,
    pub otp_issuer: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Value,
}

/// A new password: sealed, with its strength. Setting one restarts the breach check.
#[derive(Debug, Clone)]
pub struct NewPassword {
    pub sealed: Vec<u8>,
    pub strength_score: i16,
}

/// What happens to a secret on save: kept, cleared, replaced by a sealed value, or (password)
/// the same value sealed again under a newer key.
#[derive(Debug, Clone)]
pub enum SecretChange<T> {
    Keep,
    Clear,
    Set(T),
    Reseal(Vec<u8>),
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "title",
    "username",
    "url",
    "password_type",
    "expires_at",
    "password_changed_at",
    "strength_score",
    "breach_status",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct PasswordFilter {
    pub search: Vec<String>,
    pub password_type: Option<String>,
    pub breach_status: Option<String>,
    pub has_otp: Option<bool>,
    pub is_expired: Option<bool>,
    pub tag: Option<String>,
}

fn filtered<'a>(orgs: &'a [i64], filter: &'a PasswordFilter) -> passwords::BoxedQuery<'a, Pg> {
    let mut query = passwords::table
        .filter(passwords::organization_id.eq_any(orgs))
        .into_boxed();
    for word in &filter.search {
        let p = clientstor_db::like_pattern(word);
        query = query.filter(
            passwords::title
                .ilike(p.clone())
                .or(passwords::username.ilike(p.clone()))
                .or(passwords::url.ilike(p.clone()))
                .or(passwords::notes.ilike(p)),
        );
    }
    if let Some(v) = &filter.password_type {
        query = query.filter(passwords::password_type.eq(v));
    }
    if let Some(v) = &filter.breach_status {
        query = query.filter(passwords::breach_status.eq(v));
    }
    match filter.has_otp {
        Some(true) => query = query.filter(passwords::otp_sealed.is_not_null()),
        Some(false) => query = query.filter(passwords::otp_sealed.is_null()),
        None => {}
    }
    let now = Utc::now();
    match filter.is_expired {
        Some(true) => query = query.filter(passwords::expires_at.le(now)),
        Some(false) => {
            query = query.filter(
                passwords::expires_at
                    .is_null()
                    .or(passwords::expires_at.gt(now)),
            )
        }
        None => {}
    }
    if let Some(v) = &filter.tag {
        query = query.filter(passwords::tags.contains(vec![v.clone()]));
    }
    query
}

pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    filter: &PasswordFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<PasswordRow>), VaultError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(orgs, filter).count().get_result(&mut conn).await?;
    let query = clientstor_db::apply_ordering!(filtered(orgs, filter), ordering, {
        "id" => passwords::id, "title" => passwords::title, "username" => passwords::username,
        "url" => passwords::url, "password_type" => passwords::password_type,
        "expires_at" => passwords::expires_at, "password_changed_at" => passwords::password_changed_at,
        "strength_score" => passwords::strength_score, "breach_status" => passwords::breach_status,
        "created_at" => passwords::created_at, "updated_at" => passwords::updated_at,
    });
    let rows = query
        .then_order_by(passwords::id.asc())
        .select(PasswordRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    orgs: &[i64],
    id: i64,
) -> Result<PasswordRow, VaultError> {
    Ok(passwords::table
        .filter(passwords::id.eq(id))
        .filter(passwords::organization_id.eq_any(orgs))
        .select(PasswordRow::as_select())
        .first(conn)
        .await?)
}

/// The next entry id, so that sealed values can be bound to it before the row exists.
pub async fn next_id(conn: &mut AsyncPgConnection) -> Result<i64, VaultError> {
    Ok(clientstor_db::next_id(conn, "vault.passwords_id_seq").await?)
}

/// A new entry's identity and sealed secrets; its id comes from [`next_id`].
#[derive(Debug)]
pub struct NewEntry {
    pub id: i64,
    pub organization_id: i64,
    pub created_by: i64,
    pub password: Option<NewPassword>,
    pub otp_sealed: Option<Vec<u8>>,
    pub key_version: Option<i32>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    entry: &NewEntry,
    fields: &PasswordFields,
) -> Result<PasswordRow, VaultError> {
    let now = Utc::now();
    let password = entry.password.as_ref();
    Ok(diesel::insert_into(passwords::table)
        .values((
            passwords::id.eq(entry.id),
            passwords::organization_id.eq(entry.organization_id),
            passwords::created_by.eq(entry.created_by),
            fields,
            passwords::password_sealed.eq(password.map(|p| p.sealed.as_slice())),
            passwords::strength_score.eq(password.map(|p| p.strength_score)),
            passwords::password_changed_at.eq(password.map(|_| now)),
            passwords::breach_check_due.eq(password.map(|_| now)),
            passwords::otp_sealed.eq(entry.otp_sealed.as_deref()),
            passwords::key_version.eq(entry.key_version),
        ))
        .returning(PasswordRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Saves plain fields and secret changes. A new or cleared password resets the breach state.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    fields: &PasswordFields,
    password: &SecretChange<NewPassword>,
    otp: &SecretChange<Vec<u8>>,
    key_version: Option<i32>,
) -> Result<PasswordRow, VaultError> {
    let now = Utc::now();
    let target = passwords::table.find(id);
    diesel::update(target)
        .set((fields, passwords::updated_at.eq(now)))
        .execute(conn)
        .await?;
    match password {
        SecretChange::Keep => {}
        SecretChange::Reseal(sealed) => {
            diesel::update(target)
                .set(passwords::password_sealed.eq(Some(sealed)))
                .execute(conn)
                .await?;
        }
        SecretChange::Clear | SecretChange::Set(_) => {
            let new = match password {
                SecretChange::Set(p) => Some(p),
                _ => None,
            };
            diesel::update(target)
                .set((
                    passwords::password_sealed.eq(new.map(|p| p.sealed.as_slice())),
                    passwords::strength_score.eq(new.map(|p| p.strength_score)),
                    passwords::password_changed_at.eq(new.map(|_| now)),
                    passwords::breach_status.eq("unknown"),
                    passwords::breach_count.eq(None::<i32>),
                    passwords::breach_checked_at.eq(None::<DateTime<Utc>>),
                    passwords::breach_check_due.eq(new.map(|_| now)),
                ))
                .execute(conn)
                .await?;
        }
    }
    match otp {
        SecretChange::Keep => {}
        SecretChange::Clear => {
            diesel::update(target)
                .set(passwords::otp_sealed.eq(None::<Vec<u8>>))
                .execute(conn)
                .await?;
        }
        SecretChange::Set(sealed) | SecretChange::Reseal(sealed) => {
            diesel::update(target)
                .set(passwords::otp_sealed.eq(Some(sealed)))
                .execute(conn)
                .await?;
        }
    }
    if let Some(version) = key_version {
        diesel::update(target)
            .set(passwords::key_version.eq(version))
            .execute(conn)
            .await?;
    }
    Ok(target.select(PasswordRow::as_select()).first(conn).await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), VaultError> {
    diesel::delete(passwords::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Re-seals an entry's secrets under a newer key version (rotation), if it still holds the
/// values that were re-sealed.
pub async fn reseal(
    conn: &mut AsyncPgConnection,
    row: &PasswordRow,
    password_sealed: Option<Vec<u8>>,
    otp_sealed: Option<Vec<u8>>,
    key_version: i32,
) -> Result<bool, VaultError> {
    let changed = diesel::update(
        passwords::table
            .find(row.id)
            .filter(passwords::key_version.is_not_distinct_from(row.key_version))
            .filter(passwords::password_sealed.is_not_distinct_from(row.password_sealed.clone()))
            .filter(passwords::otp_sealed.is_not_distinct_from(row.otp_sealed.clone())),
    )
    .set((
        passwords::password_sealed.eq(password_sealed),
        passwords::otp_sealed.eq(otp_sealed),
        passwords::key_version.eq(key_version),
    ))
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

/// Entries of the organization sealed under an older version than `version`.
pub async fn sealed_before(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    version: i32,
    limit: i64,
) -> Result<Vec<PasswordRow>, VaultError> {
    Ok(passwords::table
        .filter(passwords::organization_id.eq(organization_id))
        .filter(passwords::key_version.lt(version))
        .select(PasswordRow::as_select())
        .order(passwords::id)
        .limit(limit)
        .load(conn)
        .await?)
}

/// Organizations holding sealed values.
pub async fn organizations_with_secrets(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<i64>, VaultError> {
    Ok(passwords::table
        .filter(passwords::key_version.is_not_null())
        .select(passwords::organization_id)
        .distinct()
        .load(conn)
        .await?)
}
