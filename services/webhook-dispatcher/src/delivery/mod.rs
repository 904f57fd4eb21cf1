//! Sending deliveries: signatures, the retry schedule, and the worker.

pub mod schedule;
pub mod signing;
pub mod worker;
