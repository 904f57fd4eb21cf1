//! An asset's software list: replaced as a whole, and the asset queued for matching in the same
//! transaction.

use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{asset_software, vulns_pending};
use crate::error::InventoryError;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = asset_software, check_for_backend(diesel::pg::Pg))]
pub struct SoftwareRow {
    pub asset_id: i64,
    pub name: String,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub cpe: Option<String>,
}

/// One entry as a client writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Software {
    pub name: String,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub cpe: Option<String>,
}

pub async fn of_assets(
    conn: &mut AsyncPgConnection,
    asset_ids: &[i64],
) -> Result<Vec<SoftwareRow>, InventoryError> {
    Ok(asset_software::table
        .filter(asset_software::asset_id.eq_any(asset_ids))
        .order((asset_software::asset_id, asset_software::position))
        .select(SoftwareRow::as_select())
        .load(conn)
        .await?)
}

pub async fn replace(
    conn: &mut AsyncPgConnection,
    asset_id: i64,
    items: &[Software],
) -> Result<(), InventoryError> {
    conn.transaction(async |conn| {
        diesel::delete(asset_software::table.filter(asset_software::asset_id.eq(asset_id)))
            .execute(conn)
            .await?;
        let rows: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    asset_software::asset_id.eq(asset_id),
                    asset_software::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                    asset_software::name.eq(&s.name),
                    asset_software::vendor.eq(&s.vendor),
                    asset_software::version.eq(&s.version),
                    asset_software::cpe.eq(&s.cpe),
                )
            })
            .collect();
        for chunk in rows.chunks(1000) {
            diesel::insert_into(asset_software::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        diesel::insert_into(vulns_pending::table)
            .values(vulns_pending::asset_id.eq(asset_id))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}
