//! What every service does at start and stop, in one place: build the pool and the signed
//! principal key, start the outbox relay and the consumer, answer health, readiness and metrics,
//! serve the resource routes, and stop cleanly. Services describe themselves with a
//! [`ServiceDef`]; their `main.rs` is one call to [`cli::main`].

pub mod cli;
mod context;
mod gauges;
pub mod openapi;
pub mod organizations;
mod server;

pub use context::Context;
pub use server::{Running, ServiceDef, standard_readiness, start};
