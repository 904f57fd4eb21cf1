//! Data access: every query of the service lives below this module.

pub mod checks;
pub mod claims;
pub mod monitors;
pub mod schema;
