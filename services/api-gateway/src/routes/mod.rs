//! Resources the gateway serves itself; everything else under `/api/` is forwarded.

mod api_keys;
mod organizations;
mod permissions;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    organizations::configure(cfg);
    api_keys::configure(cfg);
    permissions::configure(cfg);
}
