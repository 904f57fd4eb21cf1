use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clientstor_runtime::Context;
use ring::hmac;

use crate::auth::KeyCache;
use crate::db::identity::KeyRow;
use crate::limits::Limiter;
use crate::limits::gcra::Quota;

/// Quotas from the settings; a key may carry its own.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_minute: u32,
    pub burst: u32,
    pub org: Quota,
    pub auth_failures: Quota,
}

impl Limits {
    pub fn key_quota(&self, key: &KeyRow) -> Quota {
        let per_minute = key
            .rate_limit_per_minute
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(self.per_minute);
        let burst = key
            .rate_limit_burst
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(per_minute);
        Quota {
            per_minute: per_minute.max(1),
            burst: burst.max(1),
        }
    }
}

/// What the gateway's handlers share.
pub struct Gateway {
    pub context: Context,
    peppers: BTreeMap<i32, hmac::Key>,
    pub pepper_version: i32,
    pub principal_ttl_seconds: i64,
    pub client: reqwest::Client,
    pub upstreams: BTreeMap<&'static str, String>,
    /// The merged API description, for `/api/v1/openapi.json` and the browsable pages.
    pub description: crate::browse::description::DescriptionCache,
    pub max_body_bytes: usize,
    pub keys: KeyCache,
    pub limiter: Limiter,
    pub limits: Limits,
    /// Requests refused by a limit, by scope (key, organization, auth_failures).
    pub rate_limited: prometheus::IntCounterVec,
    /// When each key's last use was last written, so busy keys cost one write a minute.
    touched: Mutex<HashMap<i64, Instant>>,
}

/// The rate-limit counter, registered once per context: the admin commands build a second
/// `Gateway` on the same context, whose counter then simply stays unexported.
fn rate_limited_counter(context: &Context) -> Result<prometheus::IntCounterVec, String> {
    let counter = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "rate_limited_total",
            "Requests refused by a rate limit, by scope",
        )
        .const_label("service", "api-gateway"),
        &["scope"],
    )
    .map_err(|e| format!("metrics: {e}"))?;
    match context
        .metrics
        .registry()
        .register(Box::new(counter.clone()))
    {
        Ok(()) | Err(prometheus::Error::AlreadyReg) => Ok(counter),
        Err(error) => Err(format!("metrics: {error}")),
    }
}

impl Gateway {
    pub fn new(context: Context) -> Result<Self, String> {
        let settings = context.settings.clone();
        let pepper = settings
            .gateway
            .key_pepper
            .as_ref()
            .and_then(|p| p.decode_base64().ok())
            .ok_or("setting CLIENTSTOR_GATEWAY__KEY_PEPPER is required")?;
        let version = settings.gateway.key_pepper_version;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            // Idle connections are dropped before the services close them (their keep-alive is
            // 75 s), so a request never goes out on a connection the service is closing.
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| format!("upstream client: {e}"))?;
        let u = &settings.gateway.upstreams;
        // Resource (first path segment after /api/v1/) → owning service.
        let upstreams = BTreeMap::from([
            ("assets", u.inventory.clone()),
            ("vehicles", u.inventory.clone()),
            ("vulnerabilities", u.inventory.clone()),
            ("passwords", u.vault.clone()),
            ("vault", u.vault.clone()),
            ("monitors", u.monitor.clone()),
            ("webhooks", u.webhooks.clone()),
            ("integrations", u.rmm.clone()),
        ]);
        let rl = &settings.gateway.rate_limit;
        let limiter = match rl.redis_url.as_ref() {
            Some(url) if !url.expose().is_empty() => Limiter::redis(url.expose(), &rl.namespace)?,
            _ => Limiter::local(),
        };
        let limits = Limits {
            per_minute: rl.per_minute.max(1),
            burst: rl.burst.unwrap_or(rl.per_minute).max(1),
            org: Quota {
                per_minute: rl.org_per_minute.max(1),
                burst: rl.org_per_minute.max(1),
            },
            auth_failures: Quota {
                per_minute: rl.auth_failures_per_minute.max(1),
                burst: rl.auth_failures_per_minute.max(1),
            },
        };
        let rate_limited = rate_limited_counter(&context)?;
        Ok(Self {
            keys: KeyCache::default(),
            limiter,
            limits,
            rate_limited,
            touched: Mutex::default(),
            peppers: BTreeMap::from([(version, hmac::Key::new(hmac::HMAC_SHA256, &pepper))]),
            pepper_version: version,
            principal_ttl_seconds: settings.gateway.principal_ttl_seconds as i64,
            client,
            upstreams,
            description: Default::default(),
            max_body_bytes: settings.gateway.max_body_bytes,
            context,
        })
    }

    pub fn pepper(&self, version: i32) -> Option<&hmac::Key> {
        self.peppers.get(&version)
    }

    pub fn current_pepper(&self) -> Option<&hmac::Key> {
        self.peppers.get(&self.pepper_version)
    }

    /// Records `last_used_at` / `last_used_ip`, at most once a minute per key, off the request path.
    pub fn touch(&self, key: &KeyRow, ip: &str) {
        {
            let mut touched = self.touched.lock().unwrap_or_else(|p| p.into_inner());
            if touched
                .get(&key.id)
                .is_some_and(|at| at.elapsed() < Duration::from_secs(60))
            {
                return;
            }
            if touched.len() > 100_000 {
                touched.clear();
            }
            touched.insert(key.id, Instant::now());
        }
        let pool = self.context.pool.clone();
        let (id, ip) = (key.id, ip.to_string());
        tokio::spawn(async move {
            if let Err(error) = crate::db::identity::touch_key(&pool, id, &ip).await {
                tracing::warn!(%error, "cannot record key use");
            }
        });
    }
}
