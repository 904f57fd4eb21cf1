//! One run of one integration: page by page, the devices read are compared with what is
//! stored; new and changed ones are saved and published in one transaction per page, with the
//! run's progress and lease. Only a complete listing retires the devices it no longer holds, so
//! a failed page never retires anything.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use clientstor_db::Pool;
use clientstor_events::Organization;
use clientstor_events::types::{RMM_DEVICE_REMOVED, RMM_DEVICE_UPSERTED};
use clientstor_keyring::Keyring;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::json;

use crate::SCHEMA;
use crate::connectors::{Config, Connector, Http, KnownDevices, Provider};
use crate::db::alerts;
use crate::db::devices::{self, Incoming, Stored};
use crate::db::integrations::{self, IntegrationRow};
use crate::db::runs::{self, Progress, RunRow};
use crate::error::RmmError;
use crate::events::{device_event, fingerprint};
use crate::mapping::Mapping;
use crate::metrics::Metrics;

/// What every run shares.
pub struct Runner {
    pub pool: Pool,
    pub keyring: Arc<Keyring>,
    pub http: Http,
    pub settings: clientstor_config::RmmSettings,
    pub outbox: clientstor_bus::OutboxNotifier,
    pub metrics: Metrics,
}

/// The connector of an integration, its credentials opened.
pub async fn connector(
    runner_http: &Http,
    settings: &clientstor_config::RmmSettings,
    keyring: &Keyring,
    conn: &mut AsyncPgConnection,
    integration: &IntegrationRow,
) -> Result<Connector, RmmError> {
    let provider = Provider::parse(&integration.provider)
        .ok_or_else(|| RmmError::Config(format!("unknown provider {}", integration.provider)))?;
    let credentials = crate::secrets::open(
        keyring,
        conn,
        integration.organization_id,
        integration.id,
        &integration.credentials_sealed,
    )
    .await?;
    let base_url = crate::routes::integration_input::effective_base(
        provider,
        integration.base_url.as_deref(),
        integration.region.as_deref(),
    )
    .ok_or_else(|| RmmError::Config("the integration has no base URL or region".into()))?;
    let config = Config {
        provider,
        base_url,
        credentials,
        gps_extra_data_field: integration.gps_extra_data_field.clone(),
        page_size: settings.page_size.clamp(1, 1000),
        online_within_minutes: settings.online_within_minutes,
    };
    Ok(Connector::new(config, runner_http.clone()))
}

/// Organization names for event envelopes, read once per run.
struct Names(HashMap<i64, String>);

impl Names {
    async fn organization(&mut self, conn: &mut AsyncPgConnection, id: i64) -> Organization {
        if let Some(name) = self.0.get(&id) {
            return Organization {
                id,
                name: name.clone(),
            };
        }
        let name = clientstor_runtime::organizations::name(conn, SCHEMA, id)
            .await
            .unwrap_or_default();
        self.0.insert(id, name.clone());
        Organization { id, name }
    }
}

fn error(external_id: Option<&str>, reason: impl Into<String>) -> serde_json::Value {
    json!({ "external_id": external_id, "reason": reason.into() })
}

impl Runner {
    /// Executes a claimed run to its end and schedules the integration's next one.
    pub async fn execute(&self, run: RunRow) -> Result<(), RmmError> {
        let mut progress = Progress::default();
        let status = match self.sync(&run, &mut progress).await {
            Ok(status) => status,
            Err(RmmError::Database(diesel::result::Error::NotFound)) => return Ok(()),
            Err(err @ RmmError::Undecryptable { .. }) => {
                tracing::error!(run = run.id, error = %err, "run failed");
                progress.errors.push(error(
                    None,
                    "The stored credentials cannot be decrypted; enter them again.",
                ));
                runs::FAILED
            }
            Err(err @ RmmError::Config(_)) => {
                progress.errors.push(error(None, err.to_string()));
                runs::FAILED
            }
            Err(other) => return Err(other),
        };
        let mut conn = self.pool.get().await?;
        let conn: &mut AsyncPgConnection = &mut conn;
        conn.transaction(async |conn| {
            runs::finish(conn, run.id, status, &progress).await?;
            integrations::schedule_next(conn, run.integration_id, status == runs::FAILED).await
        })
        .await?;
        self.metrics.run(status, &progress);
        tracing::info!(
            run = run.id,
            integration = run.integration_id,
            status,
            pages = progress.pages_fetched,
            seen = progress.devices_seen,
            created = progress.created,
            updated = progress.updated,
            unchanged = progress.unchanged,
            retired = progress.retired,
            errors = progress.errors.len(),
            "run finished"
        );
        Ok(())
    }

    async fn sync(&self, run: &RunRow, progress: &mut Progress) -> Result<&'static str, RmmError> {
        let lease = std::time::Duration::from_secs(self.settings.lease_seconds.max(10));
        let (integration, mut connector, mapping, stored) = {
            let mut conn = self.pool.get().await?;
            let integration = integrations::by_id(&mut conn, run.integration_id).await?;
            let connector = connector(
                &self.http,
                &self.settings,
                &self.keyring,
                &mut conn,
                &integration,
            )
            .await?;
            let mapping = Mapping::load(&mut conn, &integration).await?;
            let stored = devices::stored(&mut conn, integration.id).await?;
            (integration, connector, mapping, stored)
        };
        let known: KnownDevices = stored
            .iter()
            .map(|(id, s)| (id.clone(), s.known.clone()))
            .collect();
        let mut names = Names(HashMap::new());
        let mut seen: HashSet<String> = HashSet::new();
        let complete = loop {
            let page = match connector.next_page(&known).await {
                Ok(Some(page)) => page,
                Ok(None) => break true,
                Err(e) => {
                    let page = progress.pages_fetched + 1;
                    progress
                        .errors
                        .push(error(None, format!("page {page}: {e}")));
                    break false;
                }
            };
            progress.pages_fetched += 1;
            let mut changed = Vec::new();
            let mut unchanged = Vec::new();
            for item in page.devices {
                match item {
                    Ok(device) => {
                        if !seen.insert(device.external_id.clone()) {
                            continue;
                        }
                        progress.devices_seen += 1;
                        let organization_id = mapping.target(&device);
                        let fingerprint = fingerprint(&device, organization_id);
                        match stored.get(&device.external_id) {
                            None => progress.created += 1,
                            Some(Stored { removed: true, .. }) => progress.updated += 1,
                            Some(s) if s.fingerprint != fingerprint => progress.updated += 1,
                            Some(_) => {
                                progress.unchanged += 1;
                                unchanged.push(device.external_id);
                                continue;
                            }
                        }
                        changed.push(Incoming {
                            device,
                            organization_id,
                            fingerprint,
                        });
                    }
                    Err(bad) => {
                        progress.devices_seen += 1;
                        if let Some(id) = &bad.external_id {
                            seen.insert(id.clone());
                        }
                        progress
                            .errors
                            .push(error(bad.external_id.as_deref(), bad.reason));
                    }
                }
            }
            let mut conn = self.pool.get().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            let mut events = Vec::with_capacity(changed.len());
            let now = Utc::now();
            for item in &changed {
                let organization = names.organization(conn, item.organization_id).await;
                events.push(device_event(
                    RMM_DEVICE_UPSERTED,
                    integration.id,
                    &integration.provider,
                    organization,
                    &item.device,
                    now,
                ));
            }
            let mine = conn
                .transaction(async |conn| {
                    for chunk in changed.chunks(1000) {
                        devices::upsert(conn, integration.id, chunk).await?;
                    }
                    devices::touch(conn, integration.id, &unchanged).await?;
                    clientstor_bus::enqueue_many(conn, SCHEMA, &events).await?;
                    runs::progress(conn, run.id, progress, lease).await
                })
                .await?;
            if !events.is_empty() {
                self.outbox.notify();
            }
            if !mine {
                // Another worker took the run over after our lease passed; it finishes it.
                return Err(RmmError::Database(diesel::result::Error::NotFound));
            }
        };
        let open_alerts = connector.alerts().await;
        let mut conn = self.pool.get().await?;
        let conn: &mut AsyncPgConnection = &mut conn;
        if complete {
            let now = Utc::now();
            let names = &mut names;
            let retired = conn
                .transaction(async |conn| {
                    let gone = devices::remove_missing(conn, integration.id, &seen).await?;
                    let mut events = Vec::with_capacity(gone.len());
                    for row in &gone {
                        let organization = names.organization(conn, row.organization_id).await;
                        events.push(device_event(
                            RMM_DEVICE_REMOVED,
                            integration.id,
                            &integration.provider,
                            organization,
                            &row.device(),
                            now,
                        ));
                    }
                    clientstor_bus::enqueue_many(conn, SCHEMA, &events).await?;
                    Ok::<_, RmmError>(gone.len())
                })
                .await?;
            if retired > 0 {
                progress.retired = i32::try_from(retired).unwrap_or(i32::MAX);
                self.outbox.notify();
            }
        }
        match open_alerts {
            Ok(open) => {
                alerts::replace_open(conn, integration.id, integration.organization_id, &open)
                    .await?
            }
            Err(e) => progress.errors.push(error(None, format!("alerts: {e}"))),
        }
        Ok(if !complete && progress.pages_fetched == 0 {
            runs::FAILED
        } else if progress.errors.is_empty() {
            runs::SUCCEEDED
        } else {
            runs::PARTIALLY_FAILED
        })
    }
}
