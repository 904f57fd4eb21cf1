//! HTTP routes of the inventory service. The gateway forwards `/api/v1/…` here with a signed
//! principal; `/api/<resource>/` aliases are rewritten by the gateway.

mod asset_input;
mod assets;
mod fuel_logs;
mod maintenance;
mod software;
mod vehicle_input;
mod vehicles;
mod vulnerabilities;

use actix_web::web;

pub(crate) use asset_input::ASSET_TYPES;
pub(crate) use assets::represent as represent_asset;

pub fn configure(cfg: &mut web::ServiceConfig) {
    assets::configure(cfg);
    vehicles::configure(cfg);
    maintenance::configure(cfg);
    fuel_logs::configure(cfg);
    software::configure(cfg);
    vulnerabilities::configure(cfg);
}

/// The API description of the inventory's resources.
pub fn openapi(spec: &mut clientstor_runtime::openapi::Spec) {
    assets::openapi(spec);
    vehicles::openapi(spec);
    maintenance::openapi(spec);
    fuel_logs::openapi(spec);
    software::openapi(spec);
    vulnerabilities::openapi(spec);
}
