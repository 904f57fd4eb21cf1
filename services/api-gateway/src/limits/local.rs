use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::Bucket;
use super::gcra::{self, Verdict};

/// Buckets in this process. Entries whose TAT has passed are dropped now and then, so memory
/// stays bounded by the number of recently active keys.
#[derive(Default)]
pub struct LocalStore {
    tats: Mutex<HashMap<String, f64>>,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

impl LocalStore {
    pub fn acquire(&self, buckets: &[Bucket]) -> Vec<Verdict> {
        let now = now_ms();
        let mut tats = self
            .tats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if tats.len() > 100_000 {
            tats.retain(|_, tat| *tat > now);
        }
        let decisions: Vec<_> = buckets
            .iter()
            .map(|b| gcra::decide(tats.get(&b.key).copied(), now, b.quota))
            .collect();
        if decisions.iter().all(|(v, _)| v.allowed) {
            for (bucket, (_, new_tat)) in buckets.iter().zip(&decisions) {
                if let Some(tat) = new_tat {
                    tats.insert(bucket.key.clone(), *tat);
                }
            }
        }
        decisions.into_iter().map(|(v, _)| v).collect()
    }

    pub fn has_capacity(&self, bucket: &Bucket) -> bool {
        let tats = self
            .tats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gcra::would_allow(tats.get(&bucket.key).copied(), now_ms(), bucket.quota)
    }
}
