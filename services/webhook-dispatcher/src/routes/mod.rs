//! HTTP routes of the dispatcher.

mod actions;
mod deliveries;
mod input;
mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The catalogue and the actions come first: `/webhooks/events/` is not an endpoint id.
    actions::configure(cfg);
    deliveries::configure(cfg);
    webhooks::configure(cfg);
}

pub fn openapi_paths() -> serde_json::Value {
    webhooks::openapi_paths()
}
