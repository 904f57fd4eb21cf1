//! Answers of asset lists (the total and the ids of one page) under the data version of the
//! organizations they cover. Every transaction writing assets raises its organizations'
//! `assets_version` as it commits (a deferred trigger), so an answer is only reused while nothing
//! it covers has changed. Rows are always read fresh by id; only the expensive parts, counting
//! and finding the page, are saved. Concurrent requests for the same answer wait for one
//! computation instead of each running it.
//!
//! The latest answer to each question is kept with the version it was answered at, and a newer
//! version replaces it. (Keyed by question and version, a steady stream of writes filled the
//! cache with answers no one could ask for again, and the service's memory grew with every
//! write.) Only computations of the last seconds are kept by version, to be shared.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::InventoryError;

const CAPACITY: u64 = 10_000;
const TIME_TO_LIVE: Duration = Duration::from_secs(600);
/// How long a computation is kept for requests asking the same question at the same version.
const SHARED_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Answer {
    pub count: i64,
    pub ids: Arc<Vec<i64>>,
}

/// Answers to one kind of question.
#[derive(Clone)]
struct Answers<V: Clone + Send + Sync + 'static> {
    /// Per question: the version it was last answered at, and the answer.
    latest: moka::future::Cache<String, (i64, V)>,
    /// Per version and question, for a few seconds: computations that concurrent requests share.
    computing: moka::future::Cache<String, V>,
}

impl<V: Clone + Send + Sync + 'static> Answers<V> {
    fn new() -> Self {
        Self {
            latest: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TIME_TO_LIVE)
                .build(),
            computing: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(SHARED_FOR)
                .build(),
        }
    }

    /// The answer to `question` at `version`: the saved one if it is of that version, else
    /// `compute`'s (or that of a concurrent request computing the same), which is then saved.
    async fn get<F>(&self, question: String, version: i64, compute: F) -> Result<V, InventoryError>
    where
        F: Future<Output = Result<V, InventoryError>>,
    {
        if let Some((saved, value)) = self.latest.get(&question).await
            && saved == version
        {
            return Ok(value);
        }
        let value = self
            .computing
            .try_get_with(format!("{version}|{question}"), compute)
            .await
            .map_err(InventoryError::Shared)?;
        self.latest.insert(question, (version, value.clone())).await;
        Ok(value)
    }
}

/// One per worker; cheap to clone.
#[derive(Clone)]
pub struct ListCache {
    answers: Answers<Answer>,
    sizes: Answers<i64>,
}

impl Default for ListCache {
    fn default() -> Self {
        Self {
            answers: Answers::new(),
            sizes: Answers::new(),
        }
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
        self.answers.get(question, version, compute).await
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
        self.sizes.get(question, version, compute).await
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
