//! The master key(s) from configuration and the organizations' data keys, stored wrapped in the
//! owning service's schema (`<schema>.data_keys`), unwrapped on first use and kept in memory (a
//! data key of one version never changes; only its wrapping does). The vault seals passwords
//! with it, rmm-sync the platforms' credentials.

pub mod store;

use std::sync::{Arc, OnceLock};

use clientstor_crypto::{CryptoError, DataKey, MasterKey};
use diesel_async::AsyncPgConnection;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("encryption failed: {0}")]
    Crypto(#[from] CryptoError),
    #[error("no data key version {version} for organization {organization}")]
    MissingKey { organization: i64, version: u32 },
}

pub struct Keyring {
    schema: &'static str,
    master: MasterKey,
    /// The master key being replaced, during a master-key rotation.
    previous: Option<MasterKey>,
    keys: moka::sync::Cache<(i64, u32), DataKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({}, {:?})", self.schema, self.master)
    }
}

impl Keyring {
    /// From base64 master keys; errors name `setting` (for example
    /// `CLIENTSTOR_VAULT__MASTER_KEY`) and its `PREVIOUS_` twin.
    pub fn from_base64(
        schema: &'static str,
        setting: &str,
        master: Option<&str>,
        previous: Option<&str>,
    ) -> Result<Arc<Self>, String> {
        let master = master
            .ok_or_else(|| format!("setting {setting} is required"))
            .and_then(|m| {
                MasterKey::from_base64(m).map_err(|e| format!("setting {setting}: {e}"))
            })?;
        let previous = previous
            .map(|p| {
                MasterKey::from_base64(p).map_err(|e| format!("setting {setting} (previous): {e}"))
            })
            .transpose()?;
        Ok(Arc::new(Self {
            schema,
            master,
            previous,
            keys: moka::sync::Cache::new(10_000),
        }))
    }

    pub fn schema(&self) -> &'static str {
        self.schema
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
    ) -> Result<DataKey, KeyringError> {
        if let Some(key) = self.keys.get(&(organization_id, version)) {
            return Ok(key);
        }
        let missing = KeyringError::MissingKey {
            organization: organization_id,
            version,
        };
        let Some(row) = store::get(conn, self.schema, organization_id, version).await? else {
            return Err(missing);
        };
        let Some(master) = self.master_for(&row.master_fingerprint) else {
            return Err(missing);
        };
        let key = master.unwrap_key(organization_id, version, &row.wrapped)?;
        self.keys.insert((organization_id, version), key.clone());
        Ok(key)
    }

    /// The organization's newest data key, made on first use.
    pub async fn current(
        &self,
        conn: &mut AsyncPgConnection,
        organization_id: i64,
    ) -> Result<DataKey, KeyringError> {
        let version = match store::newest_version(conn, self.schema, organization_id).await? {
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
    ) -> Result<u32, KeyringError> {
        let (_, wrapped) = self.master.new_data_key(organization_id, version)?;
        store::insert(conn, self.schema, organization_id, version, &wrapped).await?;
        Ok(version)
    }
}

/// The keyring of one HTTP worker, made on first use (start-up has already checked the
/// settings it comes from).
#[derive(Debug, Default)]
pub struct KeyringCell(OnceLock<Arc<Keyring>>);

impl KeyringCell {
    pub fn get(
        &self,
        make: impl FnOnce() -> Result<Arc<Keyring>, String>,
    ) -> Result<Arc<Keyring>, String> {
        if let Some(keyring) = self.0.get() {
            return Ok(keyring.clone());
        }
        let keyring = make()?;
        Ok(self.0.get_or_init(|| keyring).clone())
    }
}
