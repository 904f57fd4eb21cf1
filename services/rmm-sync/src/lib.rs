//! The rmm-sync service: integrations with ConnectWise Automate, Datto RMM, NinjaOne and
//! Syncro (credentials sealed with the vault's envelope scheme), runs on a schedule and on
//! demand with one active run per integration across replicas, devices stored per integration
//! and published as `rmm.device.upserted` / `rmm.device.removed` for inventory, and Datto
//! alerts.

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod connectors;
pub mod db;
pub mod device;
mod error;
mod events;
mod mapping;
mod metrics;
mod routes;
mod secrets;
mod sync;
mod worker;

pub use error::RmmError;

pub const SCHEMA: &str = "rmm";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/rmm");

pub fn definition() -> ServiceDef {
    ServiceDef {
        background: Some(worker::spawn),
        routes: routes::configure,
        openapi: routes::openapi,
        ..ServiceDef::directory_only(Service::Rmm, &MIGRATIONS)
    }
}
