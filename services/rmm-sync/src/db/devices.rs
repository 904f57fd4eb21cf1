//! Devices per integration as the platform last reported them. A run upserts the devices that
//! changed, touches the rest, and marks the ones no longer reported as removed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::devices;
use crate::connectors::Known;
use crate::device::Device;
use crate::error::RmmError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = devices, check_for_backend(Pg))]
pub struct DeviceRow {
    pub id: i64,
    pub integration_id: i64,
    pub organization_id: i64,
    pub external_id: String,
    pub hostname: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub firmware_version: Option<String>,
    pub ip_addresses: Vec<String>,
    pub mac_addresses: Vec<String>,
    pub online: Option<bool>,
    pub last_seen: Option<DateTime<Utc>>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub site_id: Option<String>,
    pub site_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub asset_type: Option<String>,
    pub audit_stamp: Option<String>,
    pub fingerprint: String,
    pub removed_at: Option<DateTime<Utc>>,
    pub synced_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DeviceRow {
    /// The device as it was read, for a removal event.
    pub fn device(&self) -> Device {
        Device {
            external_id: self.external_id.clone(),
            hostname: self.hostname.clone(),
            serial: self.serial.clone(),
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            os_name: self.os_name.clone(),
            os_version: self.os_version.clone(),
            firmware_version: self.firmware_version.clone(),
            ip_addresses: self.ip_addresses.clone(),
            mac_addresses: self.mac_addresses.clone(),
            online: self.online,
            last_seen: self.last_seen,
            client_id: self.client_id.clone(),
            client_name: self.client_name.clone(),
            site_id: self.site_id.clone(),
            site_name: self.site_name.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            asset_type: self.asset_type.clone(),
            audit_stamp: self.audit_stamp.clone(),
        }
    }
}

/// A device read by a run, with the organization it maps to.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub device: Device,
    pub organization_id: i64,
    pub fingerprint: String,
}

/// What is stored about a device, for telling new, changed and unchanged apart.
#[derive(Debug, Clone)]
pub struct Stored {
    pub fingerprint: String,
    pub removed: bool,
    pub known: Known,
}

pub async fn stored(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
) -> Result<HashMap<String, Stored>, RmmError> {
    type Columns = (
        String,
        String,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Vec<String>,
        Option<String>,
    );
    let rows: Vec<Columns> = devices::table
        .filter(devices::integration_id.eq(integration_id))
        .select((
            devices::external_id,
            devices::fingerprint,
            devices::removed_at,
            devices::audit_stamp,
            devices::serial,
            devices::manufacturer,
            devices::model,
            devices::mac_addresses,
            devices::firmware_version,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, fingerprint, removed_at, audit_stamp, serial, manufacturer, model, macs, fw)| {
                let known = Known {
                    audit_stamp,
                    serial,
                    manufacturer,
                    model,
                    mac_addresses: macs,
                    firmware_version: fw,
                };
                let stored = Stored {
                    fingerprint,
                    removed: removed_at.is_some(),
                    known,
                };
                (id, stored)
            },
        )
        .collect())
}

/// Inserts or replaces the devices (and brings back removed ones).
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    items: &[Incoming],
) -> Result<(), RmmError> {
    if items.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows: Vec<_> = items
        .iter()
        .map(|item| {
            let d = &item.device;
            (
                devices::integration_id.eq(integration_id),
                devices::organization_id.eq(item.organization_id),
                devices::external_id.eq(&d.external_id),
                devices::hostname.eq(&d.hostname),
                devices::serial.eq(&d.serial),
                devices::manufacturer.eq(&d.manufacturer),
                devices::model.eq(&d.model),
                devices::os_name.eq(&d.os_name),
                devices::os_version.eq(&d.os_version),
                devices::firmware_version.eq(&d.firmware_version),
                devices::ip_addresses.eq(&d.ip_addresses),
                devices::mac_addresses.eq(&d.mac_addresses),
                (
                    devices::online.eq(d.online),
                    devices::last_seen.eq(d.last_seen),
                    devices::client_id.eq(&d.client_id),
                    devices::client_name.eq(&d.client_name),
                    devices::site_id.eq(&d.site_id),
                    devices::site_name.eq(&d.site_name),
                    devices::latitude.eq(d.latitude),
                    devices::longitude.eq(d.longitude),
                    devices::asset_type.eq(&d.asset_type),
                    devices::audit_stamp.eq(&d.audit_stamp),
                    devices::fingerprint.eq(&item.fingerprint),
                    devices::synced_at.eq(now),
                ),
            )
        })
        .collect();
    diesel::insert_into(devices::table)
        .values(rows)
        .on_conflict((devices::integration_id, devices::external_id))
        .do_update()
        .set((
            devices::organization_id.eq(excluded(devices::organization_id)),
            devices::hostname.eq(excluded(devices::hostname)),
            devices::serial.eq(excluded(devices::serial)),
            devices::manufacturer.eq(excluded(devices::manufacturer)),
            devices::model.eq(excluded(devices::model)),
            devices::os_name.eq(excluded(devices::os_name)),
            devices::os_version.eq(excluded(devices::os_version)),
            devices::firmware_version.eq(excluded(devices::firmware_version)),
            devices::ip_addresses.eq(excluded(devices::ip_addresses)),
            devices::mac_addresses.eq(excluded(devices::mac_addresses)),
            devices::online.eq(excluded(devices::online)),
            devices::last_seen.eq(excluded(devices::last_seen)),
            (
                devices::client_id.eq(excluded(devices::client_id)),
                devices::client_name.eq(excluded(devices::client_name)),
                devices::site_id.eq(excluded(devices::site_id)),
                devices::site_name.eq(excluded(devices::site_name)),
                devices::latitude.eq(excluded(devices::latitude)),
                devices::longitude.eq(excluded(devices::longitude)),
                devices::asset_type.eq(excluded(devices::asset_type)),
                devices::audit_stamp.eq(excluded(devices::audit_stamp)),
                devices::fingerprint.eq(excluded(devices::fingerprint)),
                devices::removed_at.eq(None::<DateTime<Utc>>),
                devices::synced_at.eq(now),
                devices::updated_at.eq(now),
            ),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that unchanged devices were seen.
pub async fn touch(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    external_ids: &[String],
) -> Result<(), RmmError> {
    if external_ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        devices::table
            .filter(devices::integration_id.eq(integration_id))
            .filter(devices::external_id.eq_any(external_ids)),
    )
    .set(devices::synced_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks every device the complete listing did not include as removed, and returns them.
pub async fn remove_missing(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    seen: &HashSet<String>,
) -> Result<Vec<DeviceRow>, RmmError> {
    let present: Vec<DeviceRow> = devices::table
        .filter(devices::integration_id.eq(integration_id))
        .filter(devices::removed_at.is_null())
        .select(DeviceRow::as_select())
        .load(conn)
        .await?;
    let gone: Vec<DeviceRow> = present
        .into_iter()
        .filter(|d| !seen.contains(&d.external_id))
        .collect();
    let ids: Vec<i64> = gone.iter().map(|d| d.id).collect();
    if !ids.is_empty() {
        diesel::update(devices::table.filter(devices::id.eq_any(&ids)))
            .set(devices::removed_at.eq(Utc::now()))
            .execute(conn)
            .await?;
    }
    Ok(gone)
}

/// Every device of the integration still present, for removal events when it is deleted.
pub async fn present(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
) -> Result<Vec<DeviceRow>, RmmError> {
    Ok(devices::table
        .filter(devices::integration_id.eq(integration_id))
        .filter(devices::removed_at.is_null())
        .select(DeviceRow::as_select())
        .load(conn)
        .await?)
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "external_id",
    "hostname",
    "serial",
    "manufacturer",
    "model",
    "os_name",
    "online",
    "last_seen",
    "client_name",
    "synced_at",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct DeviceFilter {
    pub search: Vec<String>,
    pub online: Option<bool>,
    pub removed: Option<bool>,
}

fn filtered<'a>(integration_id: i64, filter: &'a DeviceFilter) -> devices::BoxedQuery<'a, Pg> {
    let mut query = devices::table
        .filter(devices::integration_id.eq(integration_id))
        .into_boxed();
    for word in &filter.search {
        let p = clientstor_db::like_pattern(word);
        query = query.filter(
            devices::hostname
                .ilike(p.clone())
                .or(devices::serial.ilike(p)),
        );
    }
    if let Some(v) = filter.online {
        query = query.filter(devices::online.eq(v));
    }
    match filter.removed {
        Some(true) => query = query.filter(devices::removed_at.is_not_null()),
        Some(false) => query = query.filter(devices::removed_at.is_null()),
        None => {}
    }
    query
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
    filter: &DeviceFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<DeviceRow>), RmmError> {
    let count: i64 = filtered(integration_id, filter)
        .count()
        .get_result(conn)
        .await?;
    let query = clientstor_db::apply_ordering!(filtered(integration_id, filter), ordering, {
        "id" => devices::id, "external_id" => devices::external_id,
        "hostname" => devices::hostname, "serial" => devices::serial,
        "manufacturer" => devices::manufacturer, "model" => devices::model,
        "os_name" => devices::os_name, "online" => devices::online,
        "last_seen" => devices::last_seen, "client_name" => devices::client_name,
        "synced_at" => devices::synced_at, "created_at" => devices::created_at,
        "updated_at" => devices::updated_at,
    });
    let rows = query
        .then_order_by(devices::id.asc())
        .select(DeviceRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)
        .await?;
    Ok((count, rows))
}

/// The platform's customers among present devices: (client id, client name, devices).
pub async fn clients(
    conn: &mut AsyncPgConnection,
    integration_id: i64,
) -> Result<Vec<(Option<String>, Option<String>, i64)>, RmmError> {
    Ok(devices::table
        .filter(devices::integration_id.eq(integration_id))
        .filter(devices::removed_at.is_null())
        .group_by((devices::client_id, devices::client_name))
        .select((
            devices::client_id,
            devices::client_name,
            diesel::dsl::count_star(),
        ))
        .order((devices::client_name, devices::client_id))
        .load(conn)
        .await?)
}
