//! Events rmm-sync produces: `rmm.device.upserted` and `rmm.device.removed`, for inventory to
//! link devices to assets. The envelope's organization is the one the device maps to.

use chrono::{DateTime, SecondsFormat, Utc};
use clientstor_events::v1::RmmDevice;
use clientstor_events::{Envelope, Organization, Payload, new_envelope};

use crate::device::Device;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn device_event(
    event_type: &str,
    integration_id: i64,
    provider: &str,
    organization: Organization,
    device: &Device,
    observed_at: DateTime<Utc>,
) -> Envelope {
    new_envelope(
        event_type,
        "rmm",
        organization,
        Payload::RmmDevice(RmmDevice {
            integration_id,
            provider: provider.to_string(),
            external_id: device.external_id.clone(),
            hostname: device.hostname.clone(),
            serial: device.serial.clone(),
            manufacturer: device.manufacturer.clone(),
            model: device.model.clone(),
            os_name: device.os_name.clone(),
            os_version: device.os_version.clone(),
            firmware_version: device.firmware_version.clone(),
            ip_addresses: device.ip_addresses.clone(),
            mac_addresses: device.mac_addresses.clone(),
            online: device.online,
            last_seen: device.last_seen.map(rfc3339),
            client_id: device.client_id.clone(),
            client_name: device.client_name.clone(),
            latitude: device.latitude,
            longitude: device.longitude,
            asset_type: device.asset_type.clone(),
            observed_at: rfc3339(observed_at),
        }),
    )
}

/// A digest of everything an upsert event carries plus the target organization, so a device
/// that did not change publishes nothing. `last_seen` moves on every check-in, so it counts at
/// hour precision: an always-online device is republished at most hourly.
pub fn fingerprint(device: &Device, organization_id: i64) -> String {
    let mut stable = device.clone();
    let last_seen_hour = stable
        .last_seen
        .take()
        .map(|t| t.timestamp().div_euclid(3600));
    stable.audit_stamp = None;
    let text =
        serde_json::to_string(&(organization_id, last_seen_hour, &stable)).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    hex::encode(&digest.as_ref()[..16])
}
