//! The typed settings tree. Section and key names are the public contract
//! (`CLIENTSTOR_<SECTION>__<KEY>`), so renaming a field is a breaking change.

use serde::Deserialize;

use crate::Secret;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub amqp: AmqpSettings,
    pub redis: RedisSettings,
    pub outbound: OutboundSettings,
    pub telemetry: TelemetrySettings,
    pub gateway: GatewaySettings,
    pub inventory: InventorySettings,
    pub vault: VaultSettings,
    pub monitor: MonitorSettings,
    pub webhooks: WebhooksSettings,
    pub rmm: RmmSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub pool_size: usize,
    pub acquire_timeout_seconds: u64,
    pub statement_timeout_seconds: u64,
}

/// `CLIENTSTOR_<SERVICE>__DATABASE__URL` lets production give each service its own role.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DatabaseOverride {
    pub url: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AmqpSettings {
    pub url: Secret,
    pub exchange: String,
    pub queue_prefix: String,
    pub prefetch: u16,
    pub delivery_limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutboundSettings {
    pub allow_private: bool,
    pub allowlist: Vec<String>,
    pub timeout_seconds: u64,
    pub max_response_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub log_level: String,
    pub otlp_endpoint: Option<String>,
    pub sample_ratio: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewaySettings {
    pub listen: String,
    pub admin_listen: String,
    pub internal_secret: Option<Secret>,
    pub key_pepper: Option<Secret>,
    pub key_pepper_version: i32,
    pub principal_ttl_seconds: u64,
    pub max_body_bytes: usize,
    pub upstreams: Upstreams,
    pub rate_limit: RateLimitSettings,
    #[serde(default)]
    pub database: DatabaseOverride,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Upstreams {
    pub inventory: String,
    pub vault: String,
    pub monitor: String,
    pub webhooks: String,
    pub rmm: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    pub per_minute: u32,
    /// Defaults to `per_minute` when unset.
    pub burst: Option<u32>,
    pub org_per_minute: u32,
    pub auth_failures_per_minute: u32,
    pub redis_url: Option<Secret>,
    pub namespace: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InventorySettings {
    pub listen: String,
    pub nvd_url: Option<String>,
    pub nvd_api_key: Option<Secret>,
    pub kev_url: Option<String>,
    pub feed_sync_hours: u64,
    /// Pause between NVD requests: NVD asks for about 6 s without an API key.
    pub nvd_pause_ms: u64,
    /// Up to this many assets in a key's reach, searches read the rows instead of the trigram
    /// index.
    pub search_scan_reach: i64,
    #[serde(default)]
    pub database: DatabaseOverride,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VaultSettings {
    pub listen: String,
    pub master_key: Option<Secret>,
    /// The master key being replaced, while `vault rotate-keys` re-wraps data keys.
    pub previous_master_key: Option<Secret>,
    pub reveal_limit_per_hour: u32,
    pub breach_scan_hours: u64,
    pub hibp_url: String,
    #[serde(default)]
    pub database: DatabaseOverride,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MonitorSettings {
    pub listen: String,
    pub min_interval_seconds: u64,
    /// Checks running at once per worker.
    pub concurrency: usize,
    pub raw_retention_days: u64,
    pub rollup_retention_days: u64,
    #[serde(default)]
    pub database: DatabaseOverride,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhooksSettings {
    pub listen: String,
    pub retry_schedule: String,
    pub timeout_seconds: u64,
    #[serde(default)]
    pub database: DatabaseOverride,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RmmSettings {
    pub listen: String,
    /// Wraps the data keys that seal the platforms' credentials.
    pub master_key: Option<Secret>,
    /// The master key being replaced, during a master-key rotation.
    pub previous_master_key: Option<Secret>,
    /// Seconds between looks for due integrations and queued runs.
    pub poll_seconds: u64,
    /// Runs executing at once per replica.
    pub concurrency: usize,
    /// Seconds a running run stays claimed without progress before another replica retakes it.
    pub lease_seconds: u64,
    /// Devices asked for per page where the platform lets the client choose.
    pub page_size: u32,
    /// Syncro: a device whose agent synced within this many minutes counts as online.
    pub online_within_minutes: i64,
    #[serde(default)]
    pub database: DatabaseOverride,
}
