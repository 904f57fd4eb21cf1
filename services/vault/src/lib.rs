//! The vault service. This version boots, migrates its schema, keeps the organization
//! directory up to date, and answers health, readiness and metrics; its resources come next.

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/vault");

pub fn definition() -> ServiceDef {
    ServiceDef::directory_only(Service::Vault, &MIGRATIONS)
}
