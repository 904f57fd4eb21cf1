//! Answers of asset lists (the total and the ids of one page) under the data version of the
//! organizations they cover. Every transaction writing assets raises its organizations'
//! `assets_version` as it commits (a deferred trigger), so an answer is only reused while nothing
//! it covers has changed. Rows are always read fresh by id; only the expensive parts, counting
//! and finding the page, are saved. Concurrent requests for the same answer wait for one
//! computation instead of each running it.
//!
//! One entry per question, holding the version it was answered at: a newer version replaces it.
//! (Keyed by question and version, a steady stream of writes filled the cache with answers no
//! one could ask for again, and the service's memory grew with every write.)

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
    answers: moka::future::Cache<String, (i64, Answer)>,
    sizes: moka::future::Cache<String, (i64, i64)>,
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

/// The value saved for `question` if it was answered at `version`, else `compute`'s, which
/// replaces it. Calls for one question run one after the other, so concurrent requests wait for
/// one computation and then find its answer.
async fn answered<V, F>(
    cache: &moka::future::Cache<String, (i64, V)>,
    question: String,
    version: i64,
    compute: F,
) -> Result<V, InventoryError>
where
    V: Clone + Send + Sync + 'static,
    F: Future<Output = Result<V, InventoryError>>,
{
    use moka::ops::compute::{CompResult, Op};
    let result = cache
        .entry(question)
        .and_try_compute_with(|saved| async move {
            if saved.is_some_and(|entry| entry.value().0 == version) {
                return Ok::<_, InventoryError>(Op::Nop);
            }
            Ok(Op::Put((version, compute.await?)))
        })
        .await?;
    match result {
        CompResult::Unchanged(entry)
        | CompResult::Inserted(entry)
        | CompResult::ReplacedWith(entry) => Ok(entry.into_value().1),
        CompResult::StillNone(_) | CompResult::Removed(_) => Err(InventoryError::Unavailable(
            "list cache: no answer after computing one".into(),
        )),
    }
}

impl ListCache {
    /// The answer to `question` (filters, ordering, page, organizations) at `version`.
    pub async fn answer<F>(
        &self,
        question: String,
        version: i64,
        compute: F,
    ) -> Result<Answer, InventoryError>
    where
        F: Future<Output = Result<Answer, InventoryError>>,
    {
        answered(&self.answers, question, version, compute).await
    }

    /// How many assets the organizations (`question`) hold at `version`.
    pub async fn size<F>(
        &self,
        question: String,
        version: i64,
        compute: F,
    ) -> Result<i64, InventoryError>
    where
        F: Future<Output = Result<i64, InventoryError>>,
    {
        answered(&self.sizes, question, version, compute).await
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
