//! Maintenance records of one vehicle. Callers have already checked that the vehicle is visible.

use chrono::{DateTime, NaiveDate, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::vehicle_maintenance as records;
use crate::error::InventoryError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = records, check_for_backend(Pg))]
pub struct MaintenanceRow {
    pub id: i64,
    pub vehicle_id: i64,
    pub maintenance_type: String,
    pub description: String,
    pub service_date: NaiveDate,
    pub mileage_at_service: Option<i32>,
    pub performed_by: Option<String>,
    pub labor_cost_cents: i64,
    pub parts_cost_cents: i64,
    pub is_scheduled: bool,
    pub next_due_mileage: Option<i32>,
    pub next_due_date: Option<NaiveDate>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = records, treat_none_as_null = true)]
pub struct MaintenanceFields {
    pub maintenance_type: String,
    pub description: String,
    pub service_date: NaiveDate,
    pub mileage_at_service: Option<i32>,
    pub performed_by: Option<String>,
    pub labor_cost_cents: i64,
    pub parts_cost_cents: i64,
    pub is_scheduled: bool,
    pub next_due_mileage: Option<i32>,
    pub next_due_date: Option<NaiveDate>,
    pub notes: String,
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "service_date",
    "maintenance_type",
    "mileage_at_service",
    "next_due_date",
    "next_due_mileage",
    "created_at",
];

pub async fn list(
    pool: &Pool,
    vehicle_id: i64,
    maintenance_type: Option<&str>,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<MaintenanceRow>), InventoryError> {
    let filtered = || {
        let mut query = records::table
            .filter(records::vehicle_id.eq(vehicle_id))
            .into_boxed();
        if let Some(t) = maintenance_type {
            query = query.filter(records::maintenance_type.eq(t.to_string()));
        }
        query
    };
    let mut conn = pool.get().await?;
    let count: i64 = filtered().count().get_result(&mut conn).await?;
    let ordering: Vec<(String, bool)> = if ordering.is_empty() {
        vec![("service_date".into(), true)]
    } else {
        ordering.to_vec()
    };
    let query = clientstor_db::apply_ordering!(filtered(), &ordering, {
        "id" => records::id, "service_date" => records::service_date,
        "maintenance_type" => records::maintenance_type,
        "mileage_at_service" => records::mileage_at_service,
        "next_due_date" => records::next_due_date, "next_due_mileage" => records::next_due_mileage,
        "created_at" => records::created_at,
    });
    let rows = query
        .then_order_by(records::id.desc())
        .select(MaintenanceRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

/// The most recent service date per maintenance type: a record whose next service is due is
/// not overdue once a later service of the same type has been done.
pub async fn latest_per_type(
    pool: &Pool,
    vehicle_id: i64,
) -> Result<Vec<(String, Option<NaiveDate>)>, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(records::table
        .filter(records::vehicle_id.eq(vehicle_id))
        .group_by(records::maintenance_type)
        .select((
            records::maintenance_type,
            diesel::dsl::max(records::service_date),
        ))
        .load(&mut conn)
        .await?)
}

pub async fn get(pool: &Pool, vehicle_id: i64, id: i64) -> Result<MaintenanceRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(records::table
        .filter(records::id.eq(id))
        .filter(records::vehicle_id.eq(vehicle_id))
        .select(MaintenanceRow::as_select())
        .first(&mut conn)
        .await?)
}

pub async fn create(
    pool: &Pool,
    vehicle_id: i64,
    fields: &MaintenanceFields,
) -> Result<MaintenanceRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(records::table)
        .values((records::vehicle_id.eq(vehicle_id), fields))
        .returning(MaintenanceRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn update(
    pool: &Pool,
    id: i64,
    fields: &MaintenanceFields,
) -> Result<MaintenanceRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(diesel::update(records::table.find(id))
        .set((fields, records::updated_at.eq(Utc::now())))
        .returning(MaintenanceRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn delete(pool: &Pool, id: i64) -> Result<(), InventoryError> {
    let mut conn = pool.get().await?;
    diesel::delete(records::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}
