//! Run metrics: runs by outcome and devices by what a run did with them.

use prometheus::IntCounterVec;

use crate::db::runs::Progress;

#[derive(Clone)]
pub struct Metrics {
    runs: IntCounterVec,
    devices: IntCounterVec,
}

impl Metrics {
    pub fn register(metrics: &clientstor_http::metrics::HttpMetrics) -> Result<Self, String> {
        let runs = metrics
            .counter(
                "rmm_runs_total",
                "Finished sync runs by outcome",
                &["outcome"],
            )
            .map_err(|e| e.to_string())?;
        let devices = metrics
            .counter(
                "rmm_devices_processed_total",
                "Devices processed by sync runs, by result (created, updated, unchanged, \
                 retired, error)",
                &["result"],
            )
            .map_err(|e| e.to_string())?;
        Ok(Self { runs, devices })
    }

    pub fn run(&self, outcome: &str, progress: &Progress) {
        self.runs.with_label_values(&[outcome]).inc();
        for (result, n) in [
            ("created", progress.created),
            ("updated", progress.updated),
            ("unchanged", progress.unchanged),
            ("retired", progress.retired),
            (
                "error",
                i32::try_from(progress.errors.len()).unwrap_or(i32::MAX),
            ),
        ] {
            self.devices
                .with_label_values(&[result])
                .inc_by(u64::try_from(n).unwrap_or_default());
        }
    }
}
