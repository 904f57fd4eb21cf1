//! Data access: every query of the dispatcher lives below this module.

pub mod deliveries;
pub mod endpoints;
pub mod schema;
