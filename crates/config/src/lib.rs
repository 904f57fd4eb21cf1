//! Settings for every service, loaded once at start:
//! embedded defaults → optional file (`CLIENTSTOR_CONFIG_FILE`) → `CLIENTSTOR_<SECTION>__<KEY>`
//! environment → `…_FILE` indirection for secrets. A bad or missing setting is reported by its
//! environment variable name so operators know exactly what to fix.

mod load;
mod secret;
mod sections;
mod service;

pub use load::{ConfigError, load, load_from};
pub use secret::Secret;
pub use sections::*;
pub use service::Service;
