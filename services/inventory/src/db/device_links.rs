//! RMM devices into assets (`rmm.device.upserted` / `rmm.device.removed`), inside the
//! consumer's inbox transaction. A device keeps the asset it is linked to by (integration,
//! external id); a new device is matched in its organization by serial (placeholders never
//! match), then MAC, then hostname, among assets no other device holds; otherwise a new asset
//! is made. RMM-owned fields are overwritten when the platform reports them; what users set
//! (name, notes, tags, custom fields, location text) is left alone. A removed device retires its
//! asset. Coordinates move the asset and any vehicle linked to the device.

use chrono::{DateTime, Utc};
use clientstor_events::Envelope;
use clientstor_events::v1::RmmDevice;
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::assets::AssetRow;
use super::schema::{assets, vehicles};
use crate::SCHEMA;
use crate::events::asset_event;

/// Serials that ship on white-box boards and VMs and identify nothing.
const PLACEHOLDER_SERIALS: &[&str] = &[
    "to be filled by o.e.m.",
    "to be filled by oem",
    "default string",
    "system serial number",
    "not specified",
    "not applicable",
    "none",
    "n/a",
    "na",
    "unknown",
    "invalid",
    "chassis serial number",
    "serial number",
    "123456789",
    "0123456789",
];

/// The serial if it can identify a device: 4+ characters, not a known placeholder, not all
/// zeros (or all one repeated character).
pub fn usable_serial(serial: Option<&str>) -> Option<String> {
    let serial = serial?.trim();
    let lower = serial.to_lowercase();
    let mut chars = lower.chars();
    let first = chars.next()?;
    if serial.chars().count() < 4
        || PLACEHOLDER_SERIALS.contains(&lower.as_str())
        || chars.all(|c| c == first)
        || lower.chars().all(|c| c == '0' || c == '-' || c == ' ')
    {
        return None;
    }
    Some(serial.to_string())
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The asset linked to this device, locked.
async fn linked(
    conn: &mut AsyncPgConnection,
    integration: i64,
    external_id: &str,
) -> QueryResult<Option<AssetRow>> {
    assets::table
        .filter(sql::<Bool>("source ->> 'integration' = ").bind::<Text, _>(integration.to_string()))
        .filter(sql::<Bool>("source ->> 'external_id' = ").bind::<Text, _>(external_id.to_string()))
        .select(AssetRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

type Condition = Box<dyn BoxableExpression<assets::table, Pg, SqlType = Nullable<Bool>>>;

/// The first asset of `org` that no device holds and meets `condition`, locked.
async fn first_free(
    conn: &mut AsyncPgConnection,
    org: i64,
    condition: Condition,
) -> QueryResult<Option<AssetRow>> {
    assets::table
        .filter(assets::organization_id.eq(org))
        .filter(assets::source.is_null())
        .filter(condition)
        .order(assets::id.asc())
        .select(AssetRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// An asset of `org` no device holds, matching the device.
async fn matching(
    conn: &mut AsyncPgConnection,
    org: i64,
    device: &RmmDevice,
) -> QueryResult<Option<AssetRow>> {
    if let Some(serial) = usable_serial(device.serial.as_deref()) {
        let condition =
            sql::<Nullable<Bool>>("lower(serial_number) = ").bind::<Text, _>(serial.to_lowercase());
        if let Some(found) = first_free(conn, org, Box::new(condition)).await? {
            return Ok(Some(found));
        }
    }
    if !device.mac_addresses.is_empty() {
        let condition = assets::mac_address.eq_any(device.mac_addresses.clone());
        if let Some(found) = first_free(conn, org, Box::new(condition)).await? {
            return Ok(Some(found));
        }
    }
    match device
        .hostname
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        Some(hostname) => {
            let condition = sql::<Nullable<Bool>>("lower(hostname) = ")
                .bind::<Text, _>(hostname.to_lowercase());
            first_free(conn, org, Box::new(condition)).await
        }
        None => Ok(None),
    }
}

fn source(device: &RmmDevice, removed: bool) -> serde_json::Value {
    json!({
        "type": "rmm",
        "integration": device.integration_id,
        "provider": device.provider,
        "external_id": device.external_id,
        "online": if removed { Some(false) } else { device.online },
        "last_seen": device.last_seen,
        "client_id": device.client_id,
        "client_name": device.client_name,
        "removed": removed,
    })
}

fn valid_type(asset_type: Option<&str>) -> String {
    asset_type
        .filter(|t| crate::routes::ASSET_TYPES.contains(t))
        .unwrap_or("other")
        .to_string()
}

/// Writes the asset's new state and its `asset.created`/`asset.updated` event when anything
/// a user can see changed.
async fn save(
    conn: &mut AsyncPgConnection,
    before: Option<&AssetRow>,
    after: &AssetRow,
    observed_at: DateTime<Utc>,
) -> QueryResult<AssetRow> {
    let org_name =
        clientstor_runtime::organizations::name(conn, SCHEMA, after.organization_id).await?;
    let represent = crate::routes::represent_asset;
    let new = represent(after, &org_name);
    let (event_type, changes) = match before {
        None => (clientstor_events::types::ASSET_CREATED, None),
        Some(before) => {
            let changes = super::assets::changes(&represent(before, &org_name), &new);
            if changes.as_object().is_none_or(|c| c.is_empty()) {
                diesel::update(assets::table.find(after.id))
                    .set(assets::rmm_observed_at.eq(observed_at))
                    .execute(conn)
                    .await?;
                return Ok(after.clone());
            }
            (clientstor_events::types::ASSET_UPDATED, Some(changes))
        }
    };
    let row: AssetRow = diesel::update(assets::table.find(after.id))
        .set((
            assets::hostname.eq(&after.hostname),
            assets::serial_number.eq(&after.serial_number),
            assets::manufacturer.eq(&after.manufacturer),
            assets::model.eq(&after.model),
            assets::os_name.eq(&after.os_name),
            assets::os_version.eq(&after.os_version),
            assets::firmware_version.eq(&after.firmware_version),
            assets::ip_address.eq(&after.ip_address),
            assets::mac_address.eq(&after.mac_address),
            assets::latitude.eq(after.latitude),
            assets::longitude.eq(after.longitude),
            assets::status.eq(&after.status),
            (
                assets::source.eq(&after.source),
                assets::rmm_observed_at.eq(observed_at),
                assets::updated_at.eq(Utc::now()),
            ),
        ))
        .returning(AssetRow::as_returning())
        .get_result(conn)
        .await?;
    let new = represent(&row, &org_name);
    let event = asset_event(event_type, &row, &org_name, Some(new), changes);
    clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
    Ok(row)
}

/// The asset with the device's RMM-owned fields laid over it.
fn overlay(asset: &AssetRow, device: &RmmDevice) -> AssetRow {
    let mut next = asset.clone();
    let set = |field: &mut Option<String>, value: &Option<String>| {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            *field = Some(v.to_string());
        }
    };
    set(&mut next.hostname, &device.hostname);
    if let Some(serial) = usable_serial(device.serial.as_deref()) {
        next.serial_number = Some(serial);
    }
    set(&mut next.manufacturer, &device.manufacturer);
    set(&mut next.model, &device.model);
    set(&mut next.os_name, &device.os_name);
    set(&mut next.os_version, &device.os_version);
    set(&mut next.firmware_version, &device.firmware_version);
    set(
        &mut next.ip_address,
        &<[String]>::first(&device.ip_addresses).cloned(),
    );
    set(
        &mut next.mac_address,
        &<[String]>::first(&device.mac_addresses).cloned(),
    );
    if let (Some(lat), Some(long)) = (device.latitude, device.longitude) {
        next.latitude = Some(lat);
        next.longitude = Some(long);
    }
    if next.status == "retired" {
        next.status = "active".into();
    }
    next.source = Some(source(device, false));
    next
}

/// `rmm.device.upserted`.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    envelope: &Envelope,
    device: &RmmDevice,
) -> QueryResult<()> {
    let Some(org) = envelope.organization.as_ref().map(|o| o.id) else {
        return Ok(());
    };
    let observed_at = parse_time(&device.observed_at).unwrap_or_else(Utc::now);
    let current = linked(conn, device.integration_id, &device.external_id).await?;
    let current = match current {
        Some(asset) => {
            let newer: Option<DateTime<Utc>> = assets::table
                .find(asset.id)
                .select(assets::rmm_observed_at)
                .first(conn)
                .await?;
            if newer.is_some_and(|t| t > observed_at) {
                return Ok(());
            }
            if asset.organization_id != org {
                // The mapping moved the device: the old asset is retired and unlinked, and the
                // device gets an asset in its new organization.
                let mut retired = asset.clone();
                retired.status = "retired".into();
                retired.source = None;
                save(conn, Some(&asset), &retired, observed_at).await?;
                None
            } else {
                Some(asset)
            }
        }
        None => None,
    };
    let current = match current {
        Some(asset) => Some(asset),
        None => matching(conn, org, device).await?,
    };
    let asset = match current {
        Some(before) => {
            let after = overlay(&before, device);
            save(conn, Some(&before), &after, observed_at).await?
        }
        None => {
            let name = device
                .hostname
                .clone()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| format!("{} {}", device.provider, device.external_id));
            let blank: AssetRow = diesel::insert_into(assets::table)
                .values((
                    assets::organization_id.eq(org),
                    assets::name.eq(name.trim()),
                    assets::asset_type.eq(valid_type(device.asset_type.as_deref())),
                    assets::source.eq(source(device, false)),
                    assets::rmm_observed_at.eq(observed_at),
                ))
                .returning(AssetRow::as_returning())
                .get_result(conn)
                .await?;
            let filled = overlay(&blank, device);
            save(conn, None, &filled, observed_at).await?
        }
    };
    if let (Some(lat), Some(long)) = (device.latitude, device.longitude) {
        move_vehicles(conn, asset.organization_id, device, lat, long).await?;
    }
    Ok(())
}

/// Vehicles of the device's organization linked to it take its position.
async fn move_vehicles(
    conn: &mut AsyncPgConnection,
    org: i64,
    device: &RmmDevice,
    lat: f64,
    long: f64,
) -> QueryResult<()> {
    let at = device
        .last_seen
        .as_deref()
        .and_then(parse_time)
        .or_else(|| parse_time(&device.observed_at))
        .unwrap_or_else(Utc::now);
    diesel::update(
        vehicles::table
            .filter(vehicles::organization_id.eq(org))
            .filter(
                sql::<Bool>("rmm_device ->> 'integration' = ")
                    .bind::<Text, _>(device.integration_id.to_string()),
            )
            .filter(
                sql::<Bool>("rmm_device ->> 'external_id' = ")
                    .bind::<Text, _>(device.external_id.clone()),
            )
            .filter(
                vehicles::last_location_update
                    .is_null()
                    .or(vehicles::last_location_update.le(at)),
            ),
    )
    .set((
        vehicles::latitude.eq(lat),
        vehicles::longitude.eq(long),
        vehicles::last_location_update.eq(at),
        vehicles::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// `rmm.device.removed`: the linked asset is retired, never deleted.
pub async fn remove(conn: &mut AsyncPgConnection, device: &RmmDevice) -> QueryResult<()> {
    let observed_at = parse_time(&device.observed_at).unwrap_or_else(Utc::now);
    let current = linked(conn, device.integration_id, &device.external_id).await?;
    let Some(asset) = current else {
        return Ok(());
    };
    let newer: Option<DateTime<Utc>> = assets::table
        .find(asset.id)
        .select(assets::rmm_observed_at)
        .first(conn)
        .await?;
    if newer.is_some_and(|t| t > observed_at) {
        return Ok(());
    }
    let mut retired = asset.clone();
    retired.status = "retired".into();
    retired.source = Some(source(device, true));
    save(conn, Some(&asset), &retired, observed_at).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_serials_never_identify() {
        for junk in [
            "To be filled by O.E.M.",
            "Default string",
            "0",
            "0000000000",
            "abc",
            "",
            "  ",
            "System Serial Number",
            "XXXXXXXX",
        ] {
            assert_eq!(usable_serial(Some(junk)), None, "{junk:?}");
        }
        assert_eq!(
            usable_serial(Some(" CZJ94102QX ")).as_deref(),
            Some("CZJ94102QX")
        );
        assert_eq!(usable_serial(None), None);
    }
}
