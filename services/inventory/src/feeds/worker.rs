//! The feed and matching worker of each inventory replica: queues a scheduled sync every
//! `INVENTORY__FEED_SYNC_HOURS` when a feed is configured, runs queued syncs (leased, so a
//! crashed replica's sync is taken over), and matches pending assets until none are left.

use std::sync::Arc;
use std::time::Duration;

use clientstor_runtime::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::client::FeedClient;
use super::matching;
use super::sync::{self, Feeds};
use crate::db::feed_syncs;
use crate::error::InventoryError;

const TICK: Duration = Duration::from_secs(2);

pub fn spawn(context: &Context, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let settings = &context.settings.inventory;
    let policy = match clientstor_outbound::Policy::from_settings(&context.settings.outbound) {
        Ok(policy) => Arc::new(policy),
        Err(error) => {
            eprintln!("inventory: {error}");
            std::process::exit(2);
        }
    };
    let client = FeedClient::new(
        policy,
        Duration::from_secs(context.settings.outbound.timeout_seconds.max(30)),
        settings
            .nvd_api_key
            .as_ref()
            .map(|k| k.expose().to_string()),
        Duration::from_millis(settings.nvd_pause_ms),
    );
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            eprintln!("inventory: feed client: {error}");
            std::process::exit(1);
        }
    };
    let feeds = Arc::new(Feeds {
        client,
        nvd_url: settings.nvd_url.clone().filter(|u| !u.is_empty()),
        kev_url: settings.kev_url.clone().filter(|u| !u.is_empty()),
    });
    let every =
        chrono::Duration::hours(i64::try_from(settings.feed_sync_hours.max(1)).unwrap_or(6));
    let context = context.clone();
    vec![tokio::spawn(async move {
        loop {
            if let Err(error) = feeds_pass(&context, &feeds, every).await {
                tracing::warn!(%error, "feed sync pass failed");
            }
            loop {
                match matching::pass(&context.pool).await {
                    Ok((0, _)) => break,
                    Ok((_, wrote)) => {
                        if wrote {
                            context.outbox.notify();
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "vulnerability matching pass failed");
                        break;
                    }
                }
                if shutdown.is_cancelled() {
                    return;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    })]
}

async fn feeds_pass(
    context: &Context,
    feeds: &Feeds,
    every: chrono::Duration,
) -> Result<(), InventoryError> {
    let configured = feeds.nvd_url.is_some() || feeds.kev_url.is_some();
    let claimed = {
        let mut conn = context.pool.get().await?;
        if configured {
            feed_syncs::queue_due(&mut conn).await?;
        }
        feed_syncs::claim(&mut conn, chrono::Duration::minutes(10)).await?
    };
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let trace = clientstor_events::trace::TraceParent::root();
    let outcome =
        clientstor_events::trace::scope(trace, sync::run(&context.pool, feeds, &claimed)).await?;
    let mut conn = context.pool.get().await?;
    feed_syncs::finish(&mut conn, claimed.id, &outcome, every).await?;
    tracing::info!(
        sync = claimed.id,
        cves = outcome.cves_received,
        kev = outcome.kev_entries,
        errors = outcome.errors.len(),
        "feed sync finished"
    );
    Ok(())
}
