//! Resources the gateway serves itself; everything else under `/api/` is forwarded.

mod api_keys;
mod audit;
mod audit_log;
mod memberships;
mod organizations;
mod permissions;
mod roles;
mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    organizations::configure(cfg);
    users::configure(cfg);
    memberships::configure(cfg);
    roles::configure(cfg);
    api_keys::configure(cfg);
    permissions::configure(cfg);
    audit_log::configure(cfg);
}
