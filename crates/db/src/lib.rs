//! Postgres access shared by the services: a diesel-async pool, migrations per schema (each
//! with its own tracking table, under a per-schema advisory lock), and a migration check for
//! readiness.

mod migrate;
mod pool;

pub use diesel_async::AsyncPgConnection;
pub use diesel_migrations::EmbeddedMigrations;
pub use migrate::{MigrateError, migrations_applied, run_migrations};
pub use pool::{Pool, PoolError, PoolOptions, build_pool, ping};

/// A schema name safe to splice into SQL: lowercase letters, digits and underscores.
pub fn checked_schema(schema: &str) -> &str {
    assert!(
        !schema.is_empty()
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "schema names are compile-time constants of [a-z0-9_]"
    );
    schema
}
