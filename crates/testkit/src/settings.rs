use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use clientstor_config::{Service, Settings};
use ring::rand::{SecureRandom, SystemRandom};

use crate::{TestBus, TestDb};

fn random_key() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Everything one test's services share: its database, its exchange, its secrets.
pub struct TestEnv {
    pub db: TestDb,
    pub bus: TestBus,
    pub internal_secret: String,
    pub key_pepper: String,
    pub master_key: String,
    /// Extra settings for every service of this test, e.g. `("outbound.allow_private", "true")`.
    pub overrides: Vec<(String, String)>,
}

impl TestEnv {
    pub async fn new(
        services: &[(Service, &'static clientstor_db::EmbeddedMigrations)],
    ) -> TestEnv {
        let _ = rustls::crypto::ring::default_provider().install_default();
        TestEnv {
            db: TestDb::new(services).await,
            bus: TestBus::new(),
            internal_secret: random_key(),
            key_pepper: random_key(),
            master_key: random_key(),
            overrides: Vec::new(),
        }
    }

    /// Settings for `service`: this test's database and exchange, an ephemeral port, and the
    /// test's overrides; `extra` wins over all of them.
    pub fn settings(&self, service: Service, extra: &[(&str, &str)]) -> Settings {
        let listen_key = format!("{}.listen", service.section());
        let mut pairs: Vec<(String, String)> = vec![
            ("database.url".into(), self.db.url.clone()),
            ("database.pool_size".into(), "4".into()),
            ("amqp.url".into(), self.bus.url.clone()),
            ("amqp.exchange".into(), self.bus.exchange.clone()),
            ("amqp.queue_prefix".into(), self.bus.queue_prefix.clone()),
            (
                "gateway.internal_secret".into(),
                self.internal_secret.clone(),
            ),
            ("gateway.key_pepper".into(), self.key_pepper.clone()),
            ("vault.master_key".into(), self.master_key.clone()),
            ("rmm.master_key".into(), self.master_key.clone()),
            // No test reaches the public CVE feeds; the feed tests point these at local servers.
            ("inventory.nvd_url".into(), String::new()),
            ("inventory.kev_url".into(), String::new()),
            (listen_key, "127.0.0.1:0".into()),
            ("gateway.admin_listen".into(), "127.0.0.1:0".into()),
        ];
        pairs.extend(self.overrides.iter().cloned());
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        clientstor_config::load_from(service, &BTreeMap::new(), &refs).unwrap()
    }
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `deadline`.
pub async fn poll_until<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
