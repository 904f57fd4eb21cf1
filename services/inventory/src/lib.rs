//! The inventory service: assets (and, later, vehicles and vulnerabilities), organization-scoped.
//! Every change writes its event to `inventory.outbox` in the same transaction.

use std::sync::Arc;

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

mod db;
mod error;
mod events;
mod routes;

pub const SCHEMA: &str = "inventory";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/inventory");

pub fn definition() -> ServiceDef {
    ServiceDef {
        service: Service::Inventory,
        migrations: &MIGRATIONS,
        publishes: true,
        consumes: Some(|_| (events::bindings(), Arc::new(events::InventoryHandler))),
        routes: routes::configure,
        background: None,
        openapi_paths: routes::openapi_paths,
    }
}
