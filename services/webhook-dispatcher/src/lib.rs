//! The webhook dispatcher: webhook endpoints per organization, and delivery of every subscribed
//! event as a signed POST (Standard Webhooks `webhook-signature` plus `X-Webhook-Signature`).
//! Events arrive from the bus; each (endpoint, event) becomes a delivery row in the same
//! transaction as the inbox entry, and a worker sends due deliveries and records every attempt.

use std::sync::Arc;

use clientstor_config::Service;
use clientstor_runtime::ServiceDef;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

mod catalogue;
mod db;
pub mod delivery;
mod error;
mod events;
mod routes;

pub const SCHEMA: &str = "webhooks";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/webhooks");

pub fn definition() -> ServiceDef {
    ServiceDef {
        service: Service::Webhooks,
        migrations: &MIGRATIONS,
        publishes: false,
        consumes: Some(|_| (events::bindings(), Arc::new(events::DispatchHandler))),
        routes: routes::configure,
        background: Some(delivery::worker::spawn),
        openapi: routes::openapi,
    }
}
