//! Fuel logs of one vehicle. Saving a log raises the vehicle's `current_mileage` in the same
//! transaction, since the odometer only goes up.

use chrono::{DateTime, NaiveDate, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{vehicle_fuel_logs as logs, vehicles};
use crate::error::InventoryError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = logs, check_for_backend(Pg))]
pub struct FuelLogRow {
    pub id: i64,
    pub vehicle_id: i64,
    pub date: NaiveDate,
    pub mileage: i32,
    pub gallons_hundredths: i64,
    pub cost_per_gallon_mills: Option<i64>,
    pub total_cost_cents: Option<i64>,
    pub station: Option<String>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = logs, treat_none_as_null = true)]
pub struct FuelLogFields {
    pub date: NaiveDate,
    pub mileage: i32,
    pub gallons_hundredths: i64,
    pub cost_per_gallon_mills: Option<i64>,
    pub total_cost_cents: Option<i64>,
    pub station: Option<String>,
    pub notes: String,
}

pub const ORDERING_FIELDS: &[&str] = &["id", "date", "mileage", "created_at"];

pub async fn list(
    pool: &Pool,
    vehicle_id: i64,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<FuelLogRow>), InventoryError> {
    let filtered = || {
        logs::table
            .filter(logs::vehicle_id.eq(vehicle_id))
            .into_boxed()
    };
    let mut conn = pool.get().await?;
    let count: i64 = filtered().count().get_result(&mut conn).await?;
    let ordering: Vec<(String, bool)> = if ordering.is_empty() {
        vec![("mileage".into(), true)]
    } else {
        ordering.to_vec()
    };
    let query = clientstor_db::apply_ordering!(filtered(), &ordering, {
        "id" => logs::id, "date" => logs::date, "mileage" => logs::mileage,
        "created_at" => logs::created_at,
    });
    let rows = query
        .then_order_by(logs::id.desc())
        .select(FuelLogRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

/// Every distinct odometer reading of the vehicle's logs, ascending: miles driven are measured
/// from the previous lower reading. A vehicle has at most a few thousand logs.
pub async fn mileages(pool: &Pool, vehicle_id: i64) -> Result<Vec<i32>, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(logs::table
        .filter(logs::vehicle_id.eq(vehicle_id))
        .select(logs::mileage)
        .distinct()
        .order(logs::mileage.asc())
        .load(&mut conn)
        .await?)
}

pub async fn get(pool: &Pool, vehicle_id: i64, id: i64) -> Result<FuelLogRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(logs::table
        .filter(logs::id.eq(id))
        .filter(logs::vehicle_id.eq(vehicle_id))
        .select(FuelLogRow::as_select())
        .first(&mut conn)
        .await?)
}

async fn raise_mileage(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    mileage: i32,
) -> Result<(), diesel::result::Error> {
    diesel::update(
        vehicles::table
            .find(vehicle_id)
            .filter(vehicles::current_mileage.lt(mileage)),
    )
    .set((
        vehicles::current_mileage.eq(mileage),
        vehicles::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts the log (`id` `None`) or replaces it, raising the vehicle's mileage, in one
/// transaction.
pub async fn save(
    pool: &Pool,
    vehicle_id: i64,
    id: Option<i64>,
    fields: &FuelLogFields,
) -> Result<FuelLogRow, InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| {
            let row = match id {
                None => {
                    diesel::insert_into(logs::table)
                        .values((logs::vehicle_id.eq(vehicle_id), fields))
                        .returning(FuelLogRow::as_returning())
                        .get_result(conn)
                        .await?
                }
                Some(id) => {
                    diesel::update(logs::table.find(id))
                        .set((fields, logs::updated_at.eq(Utc::now())))
                        .returning(FuelLogRow::as_returning())
                        .get_result(conn)
                        .await?
                }
            };
            raise_mileage(conn, vehicle_id, fields.mileage).await?;
            Ok::<_, diesel::result::Error>(row)
        })
        .await?)
}

pub async fn delete(pool: &Pool, id: i64) -> Result<(), InventoryError> {
    let mut conn = pool.get().await?;
    diesel::delete(logs::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}
