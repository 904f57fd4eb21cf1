//! Data access of the gateway: identity, organizations and keys.

pub mod identity;
pub mod schema;
