//! HTTP routes of the monitor service. The gateway forwards `/api/v1/monitors/…` here with a
//! signed principal.

mod monitor_input;
mod monitors;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    monitors::configure(cfg);
}

pub fn openapi_paths() -> serde_json::Value {
    monitors::openapi_paths()
}
