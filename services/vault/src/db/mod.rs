//! Data access: every query of the service lives below this module.

pub mod access_log;
pub mod breach;
pub mod passwords;
pub mod schema;
