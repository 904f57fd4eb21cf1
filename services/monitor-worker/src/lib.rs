//! The monitor worker: WAN monitors (HTTP(S), TCP, ICMP) per organization, checked on a spread
//! schedule shared by every replica, with history, rollups, TLS expiry and
//! `monitor.down` / `monitor.up` through the outbox.

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

mod check;
pub mod db;
mod error;
mod maintenance;
mod routes;
mod state;
mod worker;

pub const SCHEMA: &str = "monitor";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/monitor");

pub fn definition() -> ServiceDef {
    ServiceDef {
        background: Some(worker::spawn),
        routes: routes::configure,
        openapi: routes::openapi,
        ..ServiceDef::directory_only(Service::Monitor, &MIGRATIONS)
    }
}
