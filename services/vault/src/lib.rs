//! The vault service: password entries with sealed passwords and OTP secrets (envelope
//! encryption, crates/crypto), reveal and OTP reads recorded in a hash-chained access log,
//! per-user reveal limits, and breach detection against the Pwned Passwords range API with a
//! `vault.breach` event through the outbox.

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub mod breach;
pub mod db;
mod error;
pub mod keyring;
mod otp;
pub mod rotate;
mod routes;
mod secrets;
mod strength;

pub use error::VaultError;

pub const SCHEMA: &str = "vault";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/vault");

pub fn definition() -> ServiceDef {
    ServiceDef {
        background: Some(breach::worker::spawn),
        routes: routes::configure,
        openapi: routes::openapi,
        ..ServiceDef::directory_only(Service::Vault, &MIGRATIONS)
    }
}
