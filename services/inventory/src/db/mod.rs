//! Data access: every query of the service lives below this module.

pub mod assets;
pub mod cves;
pub mod device_links;
pub mod feed_syncs;
pub mod findings;
pub mod fuel_logs;
pub mod list_cache;
pub mod maintenance;
pub mod schema;
pub mod software;
pub mod vehicles;
