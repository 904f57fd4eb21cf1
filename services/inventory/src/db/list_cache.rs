//! Answers of asset lists (the total and the ids of one page), kept under the data version of
//! the organizations they cover. Every statement writing assets raises its organizations'
//! `assets_version` in the writing transaction (a trigger), so an answer is only reused while
//! nothing it covers has changed. Rows are always read fresh by id; only the expensive parts,
//! counting and finding the page, are saved.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

const CAPACITY: u64 = 10_000;
const TIME_TO_LIVE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
struct Answer {
    version: i64,
    count: i64,
    ids: Vec<i64>,
}

/// One per worker; cheap to clone.
#[derive(Clone)]
pub struct ListCache {
    answers: moka::sync::Cache<String, Answer>,
}

impl Default for ListCache {
    fn default() -> Self {
        Self {
            answers: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TIME_TO_LIVE)
                .build(),
        }
    }
}

impl ListCache {
    /// The saved total and page ids for `key`, if saved at `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<(i64, Vec<i64>)> {
        self.answers
            .get(key)
            .filter(|a| a.version == version)
            .map(|a| (a.count, a.ids))
    }

    pub fn put(&self, key: String, version: i64, count: i64, ids: Vec<i64>) {
        self.answers.insert(
            key,
            Answer {
                version,
                count,
                ids,
            },
        );
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
