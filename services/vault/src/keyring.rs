//! The master key(s) from configuration and the organizations' data keys, unwrapped on first
//! use and kept in memory (a data key of one version never changes; only its wrapping does).

use std::sync::Arc;

use clientstor_config::Settings;
use clientstor_crypto::{DataKey, MasterKey};
use diesel_async::AsyncPgConnection;

use crate::db::data_keys;
use crate::error::VaultError;

pub struct Keyring {
    master: MasterKey,
    /// The master key being replaced, during a master-key rotation.
    previous: Option<MasterKey>,
    keys: moka::sync::Cache<(i64, u32), DataKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({:?})", self.master)
    }
}

impl Keyring {
    /// From `CLIENTSTOR_VAULT__MASTER_KEY` (and `…__PREVIOUS_MASTER_KEY`); the error names the
    /// setting.
    pub fn from_settings(settings: &Settings) -> Result<Arc<Self>, String> {
        let parse = |name: &str, value: Option<&clientstor_config::Secret>| {
            value
                .map(|secret| {
                    MasterKey::from_base64(secret.expose())
                        .map_err(|e| format!("setting CLIENTSTOR_VAULT__{name}: {e}"))
                })
                .transpose()
        };
        let master = parse("MASTER_KEY", settings.vault.master_key.as_ref())?
            .ok_or("setting CLIENTSTOR_VAULT__MASTER_KEY is required")?;
        let previous = parse(
            "PREVIOUS_MASTER_KEY",
            settings.vault.previous_master_key.as_ref(),
        )?;
        Ok(Arc::new(Self {
            master,
            previous,
            keys: moka::sync::Cache::new(10_000),
        }))
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn previous(&self) -> Option<&MasterKey> {
        self.previous.as_ref()
    }

    /// The master key with this fingerprint, current or previous.
    fn master_for(&self, fingerprint: &str) -> Option<&MasterKey> {
        std::iter::once(&self.master)
            .chain(self.previous.as_ref())
            .find(|m| m.fingerprint() == fingerprint)
    }

    /// The organization's data key of `version`.
    pub async fn key(
        &self,
        conn: &mut AsyncPgConnection,
        organization_id: i64,
        version: u32,
    ) -> Result<DataKey, VaultError> {
        if let Some(key) = self.keys.get(&(organization_id, version)) {
            return Ok(key);
        }
        let row = data_keys::get(conn, organization_id, version)
            .await?
            .ok_or(VaultError::MissingKey {
                organization: organization_id,
                version,
            })?;
        let master = self
            .master_for(&row.master_fingerprint)
            .ok_or(VaultError::MissingKey {
                organization: organization_id,
                version,
            })?;
        let key = master.unwrap_key(organization_id, version, &row.wrapped)?;
        self.keys.insert((organization_id, version), key.clone());
        Ok(key)
    }

    /// The organization's newest data key, made on first use.
    pub async fn current(
        &self,
        conn: &mut AsyncPgConnection,
        organization_id: i64,
    ) -> Result<DataKey, VaultError> {
        let version = match data_keys::newest_version(conn, organization_id).await? {
            Some(version) => version,
            None => self.add_version(conn, organization_id, 1).await?,
        };
        self.key(conn, organization_id, version).await
    }

    /// Stores a new data key of `version` (a concurrent writer may have stored it first; theirs
    /// is kept) and returns the version.
    pub async fn add_version(
        &self,
        conn: &mut AsyncPgConnection,
        organization_id: i64,
        version: u32,
    ) -> Result<u32, VaultError> {
        let (_, wrapped) = self.master.new_data_key(organization_id, version)?;
        data_keys::insert(conn, organization_id, version, &wrapped).await?;
        Ok(version)
    }
}

/// The keyring of one HTTP worker, made from the settings on first use (start-up has already
/// checked them).
#[derive(Debug, Default)]
pub struct KeyringCell(std::sync::OnceLock<Arc<Keyring>>);

impl KeyringCell {
    pub fn get(&self, settings: &Settings) -> Result<Arc<Keyring>, VaultError> {
        if let Some(keyring) = self.0.get() {
            return Ok(keyring.clone());
        }
        let keyring = Keyring::from_settings(settings).map_err(VaultError::Config)?;
        Ok(self.0.get_or_init(|| keyring).clone())
    }
}
