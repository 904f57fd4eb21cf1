//! The `<schema>.data_keys` table every service holding secrets has: one wrapped key per
//! organization and version. Queries name the schema, so one implementation serves them all.

use clientstor_crypto::WrappedKey;
use clientstor_db::checked_schema;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bytea, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, QueryableByName)]
pub struct DataKeyRow {
    #[diesel(sql_type = BigInt)]
    pub organization_id: i64,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Bytea)]
    pub wrapped: Vec<u8>,
    #[diesel(sql_type = Text)]
    pub master_fingerprint: String,
}

#[derive(QueryableByName)]
struct Newest {
    #[diesel(sql_type = Nullable<Integer>)]
    version: Option<i32>,
}

fn version_i32(version: u32) -> i32 {
    i32::try_from(version).unwrap_or(i32::MAX)
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    schema: &str,
    organization_id: i64,
    version: u32,
) -> diesel::QueryResult<Option<DataKeyRow>> {
    let sql = format!(
        "SELECT organization_id, version, wrapped, master_fingerprint FROM {}.data_keys \
         WHERE organization_id = $1 AND version = $2",
        checked_schema(schema)
    );
    let mut rows: Vec<DataKeyRow> = diesel::sql_query(sql)
        .bind::<BigInt, _>(organization_id)
        .bind::<Integer, _>(version_i32(version))
        .load(conn)
        .await?;
    Ok(rows.pop())
}

pub async fn newest_version(
    conn: &mut AsyncPgConnection,
    schema: &str,
    organization_id: i64,
) -> diesel::QueryResult<Option<u32>> {
    let sql = format!(
        "SELECT max(version) AS version FROM {}.data_keys WHERE organization_id = $1",
        checked_schema(schema)
    );
    let rows: Vec<Newest> = diesel::sql_query(sql)
        .bind::<BigInt, _>(organization_id)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.version)
        .and_then(|v| u32::try_from(v).ok()))
}

/// Stores the key unless that version exists already (a concurrent writer's key is kept).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    schema: &str,
    organization_id: i64,
    version: u32,
    wrapped: &WrappedKey,
) -> diesel::QueryResult<()> {
    let sql = format!(
        "INSERT INTO {}.data_keys (organization_id, version, wrapped, master_fingerprint) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        checked_schema(schema)
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(organization_id)
        .bind::<Integer, _>(version_i32(version))
        .bind::<Bytea, _>(&wrapped.wrapped)
        .bind::<Text, _>(&wrapped.master_fingerprint)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every stored key, for rotation.
pub async fn all(
    conn: &mut AsyncPgConnection,
    schema: &str,
) -> diesel::QueryResult<Vec<DataKeyRow>> {
    let sql = format!(
        "SELECT organization_id, version, wrapped, master_fingerprint FROM {}.data_keys \
         ORDER BY organization_id, version",
        checked_schema(schema)
    );
    diesel::sql_query(sql).load(conn).await
}

pub async fn rewrap(
    conn: &mut AsyncPgConnection,
    schema: &str,
    organization_id: i64,
    version: i32,
    wrapped: &WrappedKey,
) -> diesel::QueryResult<()> {
    let sql = format!(
        "UPDATE {}.data_keys SET wrapped = $3, master_fingerprint = $4 \
         WHERE organization_id = $1 AND version = $2",
        checked_schema(schema)
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(organization_id)
        .bind::<Integer, _>(version)
        .bind::<Bytea, _>(&wrapped.wrapped)
        .bind::<Text, _>(&wrapped.master_fingerprint)
        .execute(conn)
        .await?;
    Ok(())
}
