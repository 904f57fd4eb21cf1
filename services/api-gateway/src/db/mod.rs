//! Data access of the gateway: identity, organizations and keys.

pub mod api_keys;
pub mod identity;
pub mod organizations;
pub mod schema;
