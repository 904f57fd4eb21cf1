//! The vault's keyring: data keys in `vault.data_keys`, wrapped by
//! `CLIENTSTOR_VAULT__MASTER_KEY` (and `…__PREVIOUS_MASTER_KEY` during a rotation).

use std::sync::Arc;

use clientstor_config::{Secret, Settings};
pub use clientstor_keyring::Keyring;

use crate::SCHEMA;
use crate::error::VaultError;

pub fn from_settings(settings: &Settings) -> Result<Arc<Keyring>, String> {
    Keyring::from_base64(
        SCHEMA,
        "CLIENTSTOR_VAULT__MASTER_KEY",
        settings.vault.master_key.as_ref().map(Secret::expose),
        settings
            .vault
            .previous_master_key
            .as_ref()
            .map(Secret::expose),
    )
}

/// The keyring of one HTTP worker.
#[derive(Debug, Default)]
pub struct KeyringCell(clientstor_keyring::KeyringCell);

impl KeyringCell {
    pub fn get(&self, settings: &Settings) -> Result<Arc<Keyring>, VaultError> {
        self.0
            .get(|| from_settings(settings))
            .map_err(VaultError::Config)
    }
}
