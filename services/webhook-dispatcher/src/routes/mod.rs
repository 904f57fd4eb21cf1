//! HTTP routes of the dispatcher.

mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    webhooks::configure(cfg);
}

pub fn openapi_paths() -> serde_json::Value {
    webhooks::openapi_paths()
}
