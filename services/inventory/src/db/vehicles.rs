//! Vehicle queries, always filtered to the caller's organizations.

use chrono::{DateTime, NaiveDate, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::vehicles;
use crate::error::InventoryError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = vehicles, check_for_backend(Pg))]
pub struct VehicleRow {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub vehicle_type: String,
    pub make: Option<String>,
    pub model: Option<String>,
    pub year: Option<i32>,
    pub color: Option<String>,
    pub vin: Option<String>,
    pub license_plate: Option<String>,
    pub status: String,
    pub condition: String,
    pub current_mileage: i32,
    pub insurance_provider: Option<String>,
    pub insurance_policy_number: Option<String>,
    pub insurance_expires_at: Option<NaiveDate>,
    pub registration_expires_at: Option<NaiveDate>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub last_location_update: Option<DateTime<Utc>>,
    pub assigned_to: Option<i64>,
    pub purchase_date: Option<NaiveDate>,
    pub purchase_price_cents: Option<i64>,
    pub notes: String,
    pub rmm_device: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything a client writes; `None` clears a field.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = vehicles, treat_none_as_null = true)]
pub struct VehicleFields {
    pub name: String,
    pub vehicle_type: String,
    pub make: Option<String>,
    pub model: Option<String>,
    pub year: Option<i32>,
    pub color: Option<String>,
    pub vin: Option<String>,
    pub license_plate: Option<String>,
    pub status: String,
    pub condition: String,
    pub current_mileage: i32,
    pub insurance_provider: Option<String>,
    pub insurance_policy_number: Option<String>,
    pub insurance_expires_at: Option<NaiveDate>,
    pub registration_expires_at: Option<NaiveDate>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub assigned_to: Option<i64>,
    pub purchase_date: Option<NaiveDate>,
    pub purchase_price_cents: Option<i64>,
    pub notes: String,
    pub rmm_device: Option<serde_json::Value>,
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "name",
    "vehicle_type",
    "make",
    "model",
    "year",
    "vin",
    "license_plate",
    "status",
    "condition",
    "current_mileage",
    "insurance_expires_at",
    "registration_expires_at",
    "assigned_to",
    "purchase_date",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct VehicleFilter {
    pub search: Vec<String>,
    pub status: Option<String>,
    pub vehicle_type: Option<String>,
    pub assigned_to: Option<i64>,
    /// Insurance or registration expiring on or before this date (expired included).
    pub expiring_by: Option<NaiveDate>,
}

fn filtered<'a>(orgs: &'a [i64], filter: &'a VehicleFilter) -> vehicles::BoxedQuery<'a, Pg> {
    let mut query = vehicles::table
        .filter(vehicles::organization_id.eq_any(orgs))
        .into_boxed();
    for word in &filter.search {
        let p = clientstor_db::like_pattern(word);
        query = query.filter(
            vehicles::name
                .ilike(p.clone())
                .or(vehicles::make.ilike(p.clone()))
                .or(vehicles::model.ilike(p.clone()))
                .or(vehicles::vin.ilike(p.clone()))
                .or(vehicles::license_plate.ilike(p)),
        );
    }
    if let Some(v) = &filter.status {
        query = query.filter(vehicles::status.eq(v));
    }
    if let Some(v) = &filter.vehicle_type {
        query = query.filter(vehicles::vehicle_type.eq(v));
    }
    if let Some(v) = filter.assigned_to {
        query = query.filter(vehicles::assigned_to.eq(v));
    }
    if let Some(by) = filter.expiring_by {
        query = query.filter(
            vehicles::insurance_expires_at
                .le(by)
                .or(vehicles::registration_expires_at.le(by)),
        );
    }
    query
}

pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    filter: &VehicleFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<VehicleRow>), InventoryError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(orgs, filter).count().get_result(&mut conn).await?;
    let query = clientstor_db::apply_ordering!(filtered(orgs, filter), ordering, {
        "id" => vehicles::id, "name" => vehicles::name, "vehicle_type" => vehicles::vehicle_type,
        "make" => vehicles::make, "model" => vehicles::model, "year" => vehicles::year, "vin" => vehicles::vin,
        "license_plate" => vehicles::license_plate, "status" => vehicles::status, "condition" => vehicles::condition,
        "current_mileage" => vehicles::current_mileage, "insurance_expires_at" => vehicles::insurance_expires_at,
        "registration_expires_at" => vehicles::registration_expires_at, "assigned_to" => vehicles::assigned_to,
        "purchase_date" => vehicles::purchase_date, "created_at" => vehicles::created_at,
        "updated_at" => vehicles::updated_at,
    });
    let rows = query
        .then_order_by(vehicles::id.asc())
        .select(VehicleRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(pool: &Pool, orgs: &[i64], id: i64) -> Result<VehicleRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(vehicles::table
        .filter(vehicles::id.eq(id))
        .filter(vehicles::organization_id.eq_any(orgs))
        .select(VehicleRow::as_select())
        .first(&mut conn)
        .await?)
}

pub async fn create(
    pool: &Pool,
    organization_id: i64,
    fields: &VehicleFields,
) -> Result<VehicleRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(vehicles::table)
        .values((vehicles::organization_id.eq(organization_id), fields))
        .returning(VehicleRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn update(
    pool: &Pool,
    id: i64,
    fields: &VehicleFields,
) -> Result<VehicleRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(diesel::update(vehicles::table.find(id))
        .set((fields, vehicles::updated_at.eq(Utc::now())))
        .returning(VehicleRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn delete(pool: &Pool, id: i64) -> Result<(), InventoryError> {
    let mut conn = pool.get().await?;
    diesel::delete(vehicles::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}
