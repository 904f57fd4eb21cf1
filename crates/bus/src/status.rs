use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the relay and the consumer currently hold a live broker connection; `/readyz` reads it.
#[derive(Clone, Default)]
pub struct BusStatus {
    publisher: Arc<AtomicBool>,
    consumer: Arc<AtomicBool>,
    uses_publisher: Arc<AtomicBool>,
    uses_consumer: Arc<AtomicBool>,
}

impl BusStatus {
    pub(crate) fn set_publisher(&self, up: bool) {
        self.uses_publisher.store(true, Ordering::Relaxed);
        self.publisher.store(up, Ordering::Relaxed);
    }

    pub(crate) fn set_consumer(&self, up: bool) {
        self.uses_consumer.store(true, Ordering::Relaxed);
        self.consumer.store(up, Ordering::Relaxed);
    }

    /// `Err` names the side that is down.
    pub fn check(&self) -> Result<(), String> {
        if self.uses_publisher.load(Ordering::Relaxed) && !self.publisher.load(Ordering::Relaxed) {
            return Err("publisher not connected".into());
        }
        if self.uses_consumer.load(Ordering::Relaxed) && !self.consumer.load(Ordering::Relaxed) {
            return Err("consumer not connected".into());
        }
        Ok(())
    }
}
