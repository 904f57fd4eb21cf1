//! One feed synchronisation: the KEV catalogue first (so CVEs stored next are flagged), then
//! the NVD: every CVE when there is no checkpoint yet, else the windows since the checkpoint
//! (one hour of overlap). Each page is stored as it arrives; the checkpoint moves only when the
//! whole listing was read, so a failed run is repeated from the same place.

use chrono::Utc;
use clientstor_db::Pool;
use serde_json::json;

use super::client::{FeedClient, windows};
use crate::db::cves;
use crate::db::feed_syncs::{self, FeedSyncRow, Outcome};
use crate::error::InventoryError;

pub struct Feeds {
    pub client: FeedClient,
    pub nvd_url: Option<String>,
    pub kev_url: Option<String>,
}

const LEASE_MINUTES: i64 = 10;

pub async fn run(
    pool: &Pool,
    feeds: &Feeds,
    sync: &FeedSyncRow,
) -> Result<Outcome, InventoryError> {
    let lease = chrono::Duration::minutes(LEASE_MINUTES);
    let mut outcome = Outcome {
        cves_received: 0,
        kev_entries: 0,
        errors: Vec::new(),
        checkpoint: None,
    };
    if let Some(url) = &feeds.kev_url {
        match feeds
            .client
            .kev(url)
            .await
            .map(|body| crate::vulns::kev::parse(&body))
        {
            Ok(Ok(entries)) => {
                let rows: Vec<_> = entries
                    .iter()
                    .map(|e| (e.cve_id.clone(), e.date_added, e.ransomware))
                    .collect();
                let mut conn = pool.get().await?;
                let stored = cves::store_kev(&mut conn, &rows).await?;
                outcome.kev_entries = i32::try_from(stored).unwrap_or(i32::MAX);
            }
            Ok(Err(reason)) => outcome
                .errors
                .push(json!({"feed": "kev", "reason": reason})),
            Err(e) => outcome
                .errors
                .push(json!({"feed": "kev", "reason": e.to_string()})),
        }
    }
    let Some(base) = &feeds.nvd_url else {
        return Ok(outcome);
    };
    let started = Utc::now();
    let checkpoint = {
        let mut conn = pool.get().await?;
        feed_syncs::checkpoint(&mut conn).await?
    };
    let windows: Vec<Option<_>> = match checkpoint {
        Some(since) => windows(since - chrono::Duration::hours(1), started)
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let mut first = true;
    for window in windows {
        let mut start_index = 0;
        loop {
            if !first {
                feeds.client.pause().await;
            }
            first = false;
            let page = match feeds.client.nvd_page(base, window, start_index).await {
                Ok(page) => page,
                Err(e) => {
                    outcome.errors.push(json!({
                        "feed": "nvd",
                        "reason": format!("startIndex {start_index}: {e}"),
                    }));
                    // What was stored still counts.
                    if outcome.cves_received > 0 {
                        let mut conn = pool.get().await?;
                        cves::queue_all(&mut conn).await?;
                    }
                    return Ok(outcome);
                }
            };
            let mut records = Vec::with_capacity(page.records.len());
            for record in page.records {
                match record {
                    Ok(record) => records.push(record),
                    Err(reason) => outcome
                        .errors
                        .push(json!({"feed": "nvd", "reason": reason})),
                }
            }
            let received = records.len();
            let mut conn = pool.get().await?;
            cves::store(&mut conn, &records).await?;
            outcome.cves_received += i32::try_from(received).unwrap_or(i32::MAX);
            feed_syncs::progress(&mut conn, sync.id, outcome.cves_received, lease).await?;
            start_index = page.start_index + page.results_per_page.max(1);
            if page.results_per_page == 0 || start_index >= page.total_results {
                break;
            }
        }
    }
    if outcome.cves_received > 0 {
        let mut conn = pool.get().await?;
        cves::queue_all(&mut conn).await?;
    }
    outcome.checkpoint = Some(started);
    Ok(outcome)
}
