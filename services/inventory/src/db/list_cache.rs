//! Answers of asset lists (the total and the ids of one page) under the data version of the
//! organizations they cover. Every transaction writing assets raises its organizations'
//! `assets_version` as it commits (a deferred trigger), so an answer is only reused while nothing
//! it covers has changed. Rows are always read fresh by id; only the expensive parts, counting
//! and finding the page, are saved. Concurrent requests for the same answer wait for one
//! computation instead of each running it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::InventoryError;

const CAPACITY: u64 = 10_000;
const TIME_TO_LIVE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct Answer {
    pub count: i64,
    pub ids: Arc<Vec<i64>>,
}

/// One per worker; cheap to clone.
#[derive(Clone)]
pub struct ListCache {
    answers: moka::future::Cache<String, Answer>,
    sizes: moka::future::Cache<String, i64>,
}

impl Default for ListCache {
    fn default() -> Self {
        Self {
            answers: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TIME_TO_LIVE)
                .build(),
            sizes: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TIME_TO_LIVE)
                .build(),
        }
    }
}

impl ListCache {
    /// The answer saved under `key` (which includes the data version), or `compute`'s.
    pub async fn answer<F>(&self, key: String, compute: F) -> Result<Answer, InventoryError>
    where
        F: Future<Output = Result<Answer, InventoryError>>,
    {
        self.answers
            .try_get_with(key, compute)
            .await
            .map_err(InventoryError::Shared)
    }

    /// How many assets the organizations hold, under the same versioning.
    pub async fn size<F>(&self, key: String, compute: F) -> Result<i64, InventoryError>
    where
        F: Future<Output = Result<i64, InventoryError>>,
    {
        self.sizes
            .try_get_with(key, compute)
            .await
            .map_err(InventoryError::Shared)
    }
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The data version of `orgs`: the sum of counters that only go up, so any write changes it.
/// Read before the answer is computed, so that an answer is never saved under a version newer
/// than the data it saw.
pub async fn version(conn: &mut AsyncPgConnection, orgs: &[i64]) -> diesel::QueryResult<i64> {
    let row: Version = diesel::sql_query(
        "SELECT coalesce(sum(assets_version), 0)::int8 AS version \
         FROM inventory.organizations WHERE id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(orgs)
    .get_result(conn)
    .await?;
    Ok(row.version)
}
