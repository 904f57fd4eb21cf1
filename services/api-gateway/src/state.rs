use std::collections::BTreeMap;

use clientstor_runtime::Context;
use ring::hmac;

/// What the gateway's handlers share.
pub struct Gateway {
    pub context: Context,
    peppers: BTreeMap<i32, hmac::Key>,
    pub pepper_version: i32,
    pub principal_ttl_seconds: i64,
    pub client: reqwest::Client,
    pub upstreams: BTreeMap<&'static str, String>,
    pub max_body_bytes: usize,
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
        Ok(Self {
            peppers: BTreeMap::from([(version, hmac::Key::new(hmac::HMAC_SHA256, &pepper))]),
            pepper_version: version,
            principal_ttl_seconds: settings.gateway.principal_ttl_seconds as i64,
            client,
            upstreams,
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
}
