//! Helpers for tests that use the real infrastructure: a database per test cloned from a
//! migrated template, an exchange and queue prefix per test, a TCP proxy that injects network
//! faults, an HTTP receiver that records requests, and settings that tie them together.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bus;
mod database;
pub mod feeds;
pub mod private;
mod proxy;
mod pwned;
mod receiver;
pub mod rmm_platforms;
pub mod routes;
mod settings;
mod tls_server;

pub use bus::TestBus;
pub use database::{TestDb, admin_url, with_database};
pub use private::{PrivatePostgres, PrivateRabbit, free_port};
pub use proxy::FaultProxy;
pub use pwned::PwnedServer;
pub use receiver::{Received, Receiver, Reply};
pub use settings::{TestEnv, poll_until};
pub use tls_server::TlsServer;
