//! HTTP routes of the inventory service. The gateway forwards `/api/v1/…` here with a signed
//! principal; `/api/<resource>/` aliases are rewritten by the gateway.

mod asset_input;
mod assets;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    assets::configure(cfg);
}

pub fn openapi_paths() -> serde_json::Value {
    assets::openapi_paths()
}
