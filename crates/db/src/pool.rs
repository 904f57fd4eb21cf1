use std::time::Duration;

use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl as _;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{self, Pool as DeadPool};

pub type Pool = DeadPool<AsyncPgConnection>;
pub type PoolError = deadpool::PoolError;

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: usize,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// Shown in `pg_stat_activity`, so operators can tell the services apart.
    pub application_name: String,
}

/// Adds `application_name` and `statement_timeout` to the URL so every pooled connection
/// carries them without an extra round trip.
fn with_session_settings(url: &str, options: &PoolOptions) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed
                .query_pairs_mut()
                .append_pair("application_name", &options.application_name)
                .append_pair(
                    "options",
                    &format!(
                        "-cstatement_timeout={}",
                        options.statement_timeout.as_millis()
                    ),
                );
            parsed.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// Builds the pool. Connections are made lazily, so a service starts (and reports not ready)
/// while Postgres is down.
pub fn build_pool(url: &str, options: &PoolOptions) -> Result<Pool, deadpool::BuildError> {
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new(with_session_settings(url, options));
    DeadPool::builder(manager)
        .max_size(options.max_size)
        .wait_timeout(Some(options.acquire_timeout))
        .create_timeout(Some(options.acquire_timeout))
        .recycle_timeout(Some(options.acquire_timeout))
        .runtime(::deadpool::Runtime::Tokio1)
        .build()
}

/// A round trip to Postgres through the pool, bounded by `timeout`.
pub async fn ping(pool: &Pool, timeout: Duration) -> Result<(), String> {
    let attempt = async {
        let mut conn = pool
            .get()
            .await
            .map_err(|e| format!("no connection: {e}"))?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(|e| format!("query failed: {e}"))?;
        Ok(())
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}
