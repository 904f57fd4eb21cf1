//! Gauges sampled every few seconds: the connection pool's use and, for services that publish,
//! the outbox backlog and the age of its oldest unsent event (the relay's lag).

use std::time::Duration;

use diesel::sql_types::{BigInt, Double};
use diesel_async::RunQueryDsl;
use prometheus::{Gauge, IntGauge, IntGaugeVec, Opts};
use tokio_util::sync::CancellationToken;

use crate::Context;

const EVERY: Duration = Duration::from_secs(5);

#[derive(diesel::QueryableByName)]
struct Backlog {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = Double)]
    oldest_seconds: f64,
}

struct Gauges {
    pool: IntGaugeVec,
    pool_max: IntGauge,
    outbox_pending: IntGauge,
    outbox_oldest: Gauge,
}

fn gauges(context: &Context) -> Result<Gauges, prometheus::Error> {
    let service = context.service.binary();
    let gauges = Gauges {
        pool: IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state")
                .const_label("service", service),
            &["state"],
        )?,
        pool_max: IntGauge::with_opts(
            Opts::new("db_pool_max_connections", "Database pool size limit")
                .const_label("service", service),
        )?,
        outbox_pending: IntGauge::with_opts(
            Opts::new(
                "outbox_pending_events",
                "Events written but not yet published",
            )
            .const_label("service", service),
        )?,
        outbox_oldest: Gauge::with_opts(
            Opts::new(
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest unpublished event",
            )
            .const_label("service", service),
        )?,
    };
    let registry = context.metrics.registry();
    registry.register(Box::new(gauges.pool.clone()))?;
    registry.register(Box::new(gauges.pool_max.clone()))?;
    registry.register(Box::new(gauges.outbox_pending.clone()))?;
    registry.register(Box::new(gauges.outbox_oldest.clone()))?;
    Ok(gauges)
}

pub async fn run(context: Context, publishes: bool, shutdown: CancellationToken) {
    let gauges = match gauges(&context) {
        Ok(gauges) => gauges,
        Err(error) => {
            tracing::warn!(%error, "cannot register gauges");
            return;
        }
    };
    let schema = clientstor_db::checked_schema(context.service.section());
    loop {
        let status = context.pool.status();
        let idle = i64::try_from(status.available).unwrap_or(0);
        let open = i64::try_from(status.size).unwrap_or(0);
        gauges.pool.with_label_values(&["in_use"]).set(open - idle);
        gauges.pool.with_label_values(&["idle"]).set(idle);
        gauges
            .pool_max
            .set(i64::try_from(status.max_size).unwrap_or(0));
        if publishes && let Ok(mut conn) = context.pool.get().await {
            let backlog: Result<Backlog, _> = diesel::sql_query(format!(
                "SELECT count(*) AS pending, \
                 coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_seconds \
                 FROM {schema}.outbox WHERE sent_at IS NULL"
            ))
            .get_result(&mut conn)
            .await;
            if let Ok(backlog) = backlog {
                gauges.outbox_pending.set(backlog.pending);
                gauges.outbox_oldest.set(backlog.oldest_seconds);
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
