//! Data access of the gateway: identity, organizations and keys.

pub mod api_keys;
pub mod audit;
pub mod identity;
pub mod organizations;
pub mod people;
pub mod schema;
