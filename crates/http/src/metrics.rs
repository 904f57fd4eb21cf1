//! Prometheus metrics: one registry per service, HTTP request counts and durations by route.

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

#[derive(Clone)]
pub struct HttpMetrics {
    service: String,
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    /// Creates the registry with the HTTP metrics registered. Start-up only.
    pub fn new(service: &str) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("clientstor".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status")
                .const_label("service", service),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request duration")
                .const_label("service", service)
                .buckets(vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ]),
            &["method", "route"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(Self {
            service: service.to_string(),
            registry,
            requests,
            duration,
        })
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A counter with the service label, registered here.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntCounterVec, prometheus::Error> {
        let counter = IntCounterVec::new(
            Opts::new(name, help).const_label("service", &self.service),
            labels,
        )?;
        self.registry.register(Box::new(counter.clone()))?;
        Ok(counter)
    }

    /// A histogram of seconds with the service label, registered here.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        buckets: Vec<f64>,
        labels: &[&str],
    ) -> Result<HistogramVec, prometheus::Error> {
        let histogram = HistogramVec::new(
            HistogramOpts::new(name, help)
                .const_label("service", &self.service)
                .buckets(buckets),
            labels,
        )?;
        self.registry.register(Box::new(histogram.clone()))?;
        Ok(histogram)
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}
