use std::sync::Arc;
use std::time::Duration;

use clientstor_bus::{BusSettings, BusStatus, OutboxNotifier};
use clientstor_config::{Service, Settings};
use clientstor_db::{Pool, PoolOptions};
use clientstor_http::PrincipalKey;
use clientstor_http::metrics::HttpMetrics;

/// Shared state of a running service, available to handlers as `web::Data<Context>`.
#[derive(Clone)]
pub struct Context {
    pub service: Service,
    pub settings: Arc<Settings>,
    pub pool: Pool,
    pub outbox: OutboxNotifier,
    pub bus: BusStatus,
    pub principal_key: PrincipalKey,
    /// Woken after the consumer commits, for background workers acting on its effects.
    pub work: Arc<tokio::sync::Notify>,
    /// The service's Prometheus registry (served at `/metrics`), for every part to register in.
    pub metrics: HttpMetrics,
}

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl Context {
    pub fn new(service: Service, settings: Settings) -> Result<Self, StartError> {
        let options = PoolOptions {
            max_size: settings.database.pool_size,
            acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_seconds),
            statement_timeout: Duration::from_secs(settings.database.statement_timeout_seconds),
            application_name: service.binary().to_string(),
        };
        let pool = clientstor_db::build_pool(settings.database_url(service).expose(), &options)
            .map_err(|e| StartError(format!("database pool: {e}")))?;
        // Validated at load: present and base64.
        let secret = settings
            .gateway
            .internal_secret
            .as_ref()
            .and_then(|s| s.decode_base64().ok())
            .ok_or_else(|| {
                StartError("setting CLIENTSTOR_GATEWAY__INTERNAL_SECRET is required".into())
            })?;
        Ok(Self {
            service,
            settings: Arc::new(settings),
            pool,
            outbox: OutboxNotifier::default(),
            bus: BusStatus::default(),
            principal_key: PrincipalKey::new(&secret),
            work: Arc::default(),
            metrics: HttpMetrics::new(service.binary())
                .map_err(|e| StartError(format!("metrics: {e}")))?,
        })
    }

    pub fn bus_settings(&self) -> BusSettings {
        BusSettings::from_config(&self.settings, self.service)
    }
}
