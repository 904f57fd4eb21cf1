//! Data access: every query of the service lives below this module.

pub mod alerts;
pub mod devices;
pub mod integrations;
pub mod runs;
pub mod schema;
