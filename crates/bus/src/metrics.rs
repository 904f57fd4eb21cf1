//! Consumer metrics: events by outcome, redeliveries, and how old events are when applied (the
//! consumer's lag behind the commits that made them).

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct ConsumerMetrics {
    events: IntCounterVec,
    redeliveries: IntCounter,
    age: Histogram,
}

impl ConsumerMetrics {
    pub fn new(service: &str) -> Result<Self, prometheus::Error> {
        Ok(Self {
            events: IntCounterVec::new(
                Opts::new("consumer_events_total", "Consumed events by outcome")
                    .const_label("service", service),
                &["outcome"],
            )?,
            redeliveries: IntCounter::with_opts(
                Opts::new(
                    "consumer_redeliveries_total",
                    "Deliveries the broker marked redelivered",
                )
                .const_label("service", service),
            )?,
            age: Histogram::with_opts(
                HistogramOpts::new(
                    "consumer_event_age_seconds",
                    "Time from an event's commit to its application here",
                )
                .const_label("service", service)
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0,
                ]),
            )?,
        })
    }

    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.events.clone()))?;
        registry.register(Box::new(self.redeliveries.clone()))?;
        registry.register(Box::new(self.age.clone()))
    }

    pub(crate) fn outcome(&self, outcome: &str) {
        self.events.with_label_values(&[outcome]).inc();
    }

    pub(crate) fn redelivered(&self) {
        self.redeliveries.inc();
    }

    /// `occurred_at` is the envelope's RFC 3339 commit time.
    pub(crate) fn applied_at(&self, occurred_at: &str) {
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(occurred_at) {
            let age = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_milliseconds();
            self.age.observe(age.max(0) as f64 / 1000.0);
        }
    }
}
