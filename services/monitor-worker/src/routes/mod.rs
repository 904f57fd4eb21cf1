//! HTTP routes of the monitor service. The gateway forwards `/api/v1/monitors/…` here with a
//! signed principal.

mod monitor_input;
mod monitors;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    monitors::configure(cfg);
}

/// The API description of the monitors.
pub fn openapi(spec: &mut clientstor_runtime::openapi::Spec) {
    monitors::openapi(spec);
}
