//! Rate limits: GCRA per API key, a ceiling per organization that all its keys share, and a
//! limit on failed authentications per client address. State is in this process unless
//! `CLIENTSTOR_GATEWAY__RATE_LIMIT__REDIS_URL` is set, in which case every replica shares it
//! and each decision is one atomic Redis script.

pub mod gcra;
mod local;
mod redis_store;

use std::sync::Arc;

use gcra::{Quota, Verdict};

/// One bucket to check: its storage key and quota.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub key: String,
    pub quota: Quota,
}

#[derive(Clone)]
pub enum Limiter {
    Local(Arc<local::LocalStore>),
    Redis(Arc<redis_store::RedisStore>),
}

impl Limiter {
    pub fn local() -> Self {
        Limiter::Local(Arc::new(local::LocalStore::default()))
    }

    pub fn redis(url: &str, namespace: &str) -> Result<Self, String> {
        Ok(Limiter::Redis(Arc::new(redis_store::RedisStore::new(
            url, namespace,
        )?)))
    }

    /// Takes a token from every bucket, or from none when any is empty. Returns one verdict per
    /// bucket. When shared state cannot be reached the request is admitted (fail open) and the
    /// failure is logged: an outage of the limiter must not become an outage of the API.
    pub async fn acquire(&self, buckets: &[Bucket]) -> Vec<Verdict> {
        match self {
            Limiter::Local(store) => store.acquire(buckets),
            Limiter::Redis(store) => match store.acquire(buckets).await {
                Ok(verdicts) => verdicts,
                Err(error) => {
                    tracing::warn!(%error, "rate-limit store unavailable; admitting");
                    buckets.iter().map(|b| open_verdict(b.quota)).collect()
                }
            },
        }
    }

    /// Whether a token could be taken from `bucket`, without taking it.
    pub async fn has_capacity(&self, bucket: &Bucket) -> bool {
        match self {
            Limiter::Local(store) => store.has_capacity(bucket),
            Limiter::Redis(store) => store.has_capacity(bucket).await.unwrap_or(true),
        }
    }
}

fn open_verdict(quota: Quota) -> Verdict {
    Verdict {
        allowed: true,
        remaining: quota.burst.saturating_sub(1),
        reset_ms: 0.0,
        retry_after_ms: 0.0,
    }
}
