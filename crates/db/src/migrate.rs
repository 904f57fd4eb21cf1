use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::connection::SimpleConnection as _;
use diesel::migration::MigrationSource;
use diesel::sql_types::Text;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _};

use crate::checked_schema;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Applies the pending migrations of one schema and returns the versions applied.
///
/// Replicas may start together: a per-schema advisory lock makes them wait for each other. The
/// tracking table lands in the schema itself (`<schema>.__diesel_schema_migrations`) because the
/// search path is set to it before the harness runs; migrations qualify every object they create.
pub async fn run_migrations(
    url: &str,
    schema: &'static str,
    migrations: &'static EmbeddedMigrations,
) -> Result<Vec<String>, MigrateError> {
    let schema = checked_schema(schema);
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection as _;
        use diesel::RunQueryDsl as _;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| MigrateError::Connect(e.to_string()))?;
        let lock = format!("SELECT pg_advisory_lock(hashtext('clientstor.migrate.{schema}'))");
        diesel::sql_query(lock)
            .execute(&mut conn)
            .map_err(|e| MigrateError::Migration(e.to_string()))?;
        let result = (|| {
            // Made only when missing: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the
            // database, which a per-service role owning its schema does not have.
            conn.batch_execute(&format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{schema}') \
                 THEN CREATE SCHEMA {schema}; END IF; END $$; SET search_path TO {schema}"
            ))
            .map_err(|e| MigrateError::Migration(e.to_string()))?;
            conn.run_pending_migrations(Source(migrations))
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|e| MigrateError::Migration(e.to_string()))
        })();
        let unlock = format!(
            "SELECT pg_advisory_unlock(hashtext('clientstor.migrate.{schema}')); RESET search_path"
        );
        let _ = conn.batch_execute(&unlock);
        result
    })
    .await
    .map_err(|e| MigrateError::Migration(e.to_string()))?
}

/// Lets a `&'static` set of embedded migrations be handed to the harness by value.
struct Source(&'static EmbeddedMigrations);

impl MigrationSource<diesel::pg::Pg> for Source {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>>> {
        MigrationSource::<diesel::pg::Pg>::migrations(self.0)
    }
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Whether every embedded migration of `schema` is recorded as applied.
pub async fn migrations_applied(
    conn: &mut AsyncPgConnection,
    schema: &'static str,
    migrations: &EmbeddedMigrations,
) -> Result<bool, String> {
    use diesel_async::RunQueryDsl as _;
    let schema = checked_schema(schema);
    let expected: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(migrations)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let query = format!("SELECT version FROM {schema}.__diesel_schema_migrations");
    let applied: BTreeSet<String> = match diesel::sql_query(query).load::<Version>(conn).await {
        Ok(rows) => rows.into_iter().map(|r| r.version).collect(),
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("does not exist") =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(expected.iter().all(|v| applied.contains(v)))
}
