//! The inventory service: assets (with software), vehicles and vulnerability findings,
//! organization-scoped, plus the CVE feeds and the matcher. Every change writes its event to
//! `inventory.outbox` in the same transaction.

use std::sync::Arc;

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod cli;
mod db;
mod error;
mod events;
pub mod feeds;
mod routes;
pub mod vulns;

pub const SCHEMA: &str = "inventory";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/inventory");

pub fn definition() -> ServiceDef {
    ServiceDef {
        service: Service::Inventory,
        migrations: &MIGRATIONS,
        publishes: true,
        consumes: Some(|_| (events::bindings(), Arc::new(events::InventoryHandler))),
        routes: routes::configure,
        background: Some(feeds::worker::spawn),
        openapi: routes::openapi,
    }
}
