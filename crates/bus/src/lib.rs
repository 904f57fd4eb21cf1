//! The event bus. A service writes events into `<schema>.outbox` in the same transaction as its
//! change ([`enqueue`]); the [`relay`] publishes them to the topic exchange with publisher
//! confirms and marks them sent only after the broker's ack. The [`consumer`] reads a durable
//! quorum queue with manual acks and records each event id in `<schema>.inbox` in the same
//! transaction as its effect, so a redelivered event changes nothing. Both reconnect on their
//! own after a broker restart.

pub mod consumer;
mod metrics;
mod outbox;
pub mod relay;
mod status;
pub mod topology;

pub use consumer::{ConsumerSpec, EventHandler, HandlerError, run_consumer};
pub use metrics::ConsumerMetrics;
pub use outbox::{OutboxNotifier, enqueue, enqueue_many};
pub use relay::run_relay;
pub use status::BusStatus;
pub use topology::BusSettings;

use std::time::Duration;

/// Reconnect delays: 250 ms doubling up to 10 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((250u64 << attempt.min(6)).min(10_000))
}

/// Sleeps for `duration`, or less if `shutdown` is cancelled meanwhile.
pub(crate) async fn sleep_or_cancel(
    duration: Duration,
    shutdown: &tokio_util::sync::CancellationToken,
) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.cancelled() => {}
    }
}
