//! Event type names: the AMQP routing keys and the webhook `event` field.

pub const ORGANIZATION_CREATED: &str = "organization.created";
pub const ORGANIZATION_UPDATED: &str = "organization.updated";
pub const ASSET_CREATED: &str = "asset.created";
pub const ASSET_UPDATED: &str = "asset.updated";
pub const ASSET_DELETED: &str = "asset.deleted";
pub const MONITOR_DOWN: &str = "monitor.down";
pub const MONITOR_UP: &str = "monitor.up";
pub const VULNERABILITY_FOUND: &str = "vulnerability.found";
pub const VAULT_BREACH: &str = "vault.breach";
/// Internal: RMM devices for inventory, never offered to webhooks.
pub const RMM_DEVICE_UPSERTED: &str = "rmm.device.upserted";
pub const RMM_DEVICE_REMOVED: &str = "rmm.device.removed";

/// The public catalogue: events a webhook may subscribe to, with the seed's descriptions.
pub const PUBLIC: &[(&str, &str)] = &[
    (ASSET_CREATED, "New asset added"),
    (ASSET_UPDATED, "Asset record changed"),
    (ASSET_DELETED, "Asset removed"),
    (MONITOR_DOWN, "WAN monitor fails"),
    (MONITOR_UP, "WAN monitor recovers"),
    (VULNERABILITY_FOUND, "New CVE detected"),
    (VAULT_BREACH, "Vault entry flagged as breached"),
];

pub fn is_public(event_type: &str) -> bool {
    PUBLIC.iter().any(|(name, _)| *name == event_type)
}
