//! Wrapped data keys per organization and version.

use clientstor_crypto::WrappedKey;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::data_keys;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = data_keys, check_for_backend(diesel::pg::Pg))]
pub struct DataKeyRow {
    pub organization_id: i64,
    pub version: i32,
    pub wrapped: Vec<u8>,
    pub master_fingerprint: String,
}

fn version_i32(version: u32) -> i32 {
    i32::try_from(version).unwrap_or(i32::MAX)
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    version: u32,
) -> QueryResult<Option<DataKeyRow>> {
    data_keys::table
        .find((organization_id, version_i32(version)))
        .select(DataKeyRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn newest_version(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
) -> QueryResult<Option<u32>> {
    let version: Option<i32> = data_keys::table
        .filter(data_keys::organization_id.eq(organization_id))
        .select(diesel::dsl::max(data_keys::version))
        .first(conn)
        .await?;
    Ok(version.and_then(|v| u32::try_from(v).ok()))
}

/// Stores the key unless that version exists already.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    version: u32,
    wrapped: &WrappedKey,
) -> QueryResult<()> {
    diesel::insert_into(data_keys::table)
        .values((
            data_keys::organization_id.eq(organization_id),
            data_keys::version.eq(version_i32(version)),
            data_keys::wrapped.eq(&wrapped.wrapped),
            data_keys::master_fingerprint.eq(&wrapped.master_fingerprint),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Every stored key, for rotation.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DataKeyRow>> {
    data_keys::table
        .select(DataKeyRow::as_select())
        .order((data_keys::organization_id, data_keys::version))
        .load(conn)
        .await
}

pub async fn rewrap(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    version: i32,
    wrapped: &WrappedKey,
) -> QueryResult<()> {
    diesel::update(data_keys::table.find((organization_id, version)))
        .set((
            data_keys::wrapped.eq(&wrapped.wrapped),
            data_keys::master_fingerprint.eq(&wrapped.master_fingerprint),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
