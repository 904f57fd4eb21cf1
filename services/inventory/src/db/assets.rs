//! Asset queries. Every read is filtered to the organizations the caller reaches.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::assets;
use crate::SCHEMA;
use crate::error::InventoryError;
use crate::events::asset_event;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assets, check_for_backend(Pg))]
pub struct AssetRow {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub asset_type: String,
    pub serial_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = assets)]
pub struct NewAsset {
    pub organization_id: i64,
    pub name: String,
    pub asset_type: String,
    pub serial_number: Option<String>,
}

/// Fields a list may be ordered by.
pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "name",
    "asset_type",
    "serial_number",
    "created_at",
    "updated_at",
];

/// Inserts the asset and its `asset.created` event in one transaction.
pub async fn create(pool: &Pool, new: NewAsset) -> Result<(AssetRow, String), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let result = conn
        .transaction(async |conn| {
            let row: AssetRow = diesel::insert_into(assets::table)
                .values(&new)
                .returning(AssetRow::as_returning())
                .get_result(conn)
                .await?;
            let org_name =
                clientstor_runtime::organizations::name(conn, SCHEMA, row.organization_id).await?;
            let event = asset_event(
                clientstor_events::types::ASSET_CREATED,
                &row,
                org_name.clone(),
            );
            clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
            Ok::<_, diesel::result::Error>((row, org_name))
        })
        .await?;
    Ok(result)
}

/// Replaces the asset's fields and writes `asset.updated`, in one transaction.
pub async fn update(
    pool: &Pool,
    id: i64,
    new: NewAsset,
) -> Result<(AssetRow, String), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| {
            let row: AssetRow = diesel::update(assets::table.find(id))
                .set((
                    assets::name.eq(&new.name),
                    assets::asset_type.eq(&new.asset_type),
                    assets::serial_number.eq(&new.serial_number),
                    assets::updated_at.eq(chrono::Utc::now()),
                ))
                .returning(AssetRow::as_returning())
                .get_result(conn)
                .await?;
            let org_name =
                clientstor_runtime::organizations::name(conn, SCHEMA, row.organization_id).await?;
            let event = asset_event(
                clientstor_events::types::ASSET_UPDATED,
                &row,
                org_name.clone(),
            );
            clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
            Ok::<_, diesel::result::Error>((row, org_name))
        })
        .await?)
}

/// Deletes the asset and writes `asset.deleted` with its last state, in one transaction.
pub async fn delete(pool: &Pool, id: i64) -> Result<(), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    conn.transaction(async |conn| {
        let row: AssetRow = diesel::delete(assets::table.find(id))
            .returning(AssetRow::as_returning())
            .get_result(conn)
            .await?;
        let org_name =
            clientstor_runtime::organizations::name(conn, SCHEMA, row.organization_id).await?;
        let event = asset_event(clientstor_events::types::ASSET_DELETED, &row, org_name);
        clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}

fn filtered<'a>(orgs: &'a [i64], search: &'a [String]) -> assets::BoxedQuery<'a, Pg> {
    let mut query = assets::table
        .filter(assets::organization_id.eq_any(orgs))
        .into_boxed();
    for word in search {
        let pattern = clientstor_db::like_pattern(word);
        query = query.filter(
            assets::name
                .ilike(pattern.clone())
                .or(assets::serial_number.ilike(pattern.clone()))
                .or(assets::asset_type.ilike(pattern)),
        );
    }
    query
}

fn ordered<'a>(
    mut query: assets::BoxedQuery<'a, Pg>,
    ordering: &[(String, bool)],
) -> assets::BoxedQuery<'a, Pg> {
    query = clientstor_db::apply_ordering!(query, ordering, {
        "name" => assets::name,
        "asset_type" => assets::asset_type,
        "serial_number" => assets::serial_number,
        "created_at" => assets::created_at,
        "updated_at" => assets::updated_at,
        "id" => assets::id,
    });
    // A stable tie-breaker keeps pages from overlapping.
    query.then_order_by(assets::id.asc())
}

/// One page of the assets of `orgs`, with the total count.
pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    search: &[String],
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<AssetRow>), InventoryError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(orgs, search).count().get_result(&mut conn).await?;
    let rows = ordered(filtered(orgs, search), ordering)
        .select(AssetRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

/// The asset, if it belongs to one of `orgs`.
pub async fn get(pool: &Pool, orgs: &[i64], id: i64) -> Result<AssetRow, InventoryError> {
    let mut conn = pool.get().await?;
    let row = assets::table
        .filter(assets::id.eq(id))
        .filter(assets::organization_id.eq_any(orgs))
        .select(AssetRow::as_select())
        .first(&mut conn)
        .await?;
    Ok(row)
}

/// Organization names for a set of rows.
pub async fn organization_names(
    pool: &Pool,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(clientstor_runtime::organizations::names(&mut conn, SCHEMA, ids).await?)
}
