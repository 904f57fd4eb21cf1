//! Sealing and opening an integration's credentials: one JSON object of the provider's fields,
//! bound to the organization, the integration and the field, under the organization's newest
//! data key (the vault's envelope scheme, `crates/keyring`).

use std::sync::Arc;

use clientstor_config::{Secret, Settings};
use clientstor_crypto::Binding;
use clientstor_keyring::Keyring;
use diesel_async::AsyncPgConnection;

use crate::SCHEMA;
use crate::connectors::Credentials;
use crate::error::RmmError;

pub fn keyring(settings: &Settings) -> Result<Arc<Keyring>, String> {
    Keyring::from_base64(
        SCHEMA,
        "CLIENTSTOR_RMM__MASTER_KEY",
        settings.rmm.master_key.as_ref().map(Secret::expose),
        settings
            .rmm
            .previous_master_key
            .as_ref()
            .map(Secret::expose),
    )
}

fn binding(organization_id: i64, integration_id: i64) -> Binding {
    Binding::new(
        organization_id,
        "integrations",
        integration_id,
        "credentials",
    )
}

pub async fn seal(
    keyring: &Keyring,
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    integration_id: i64,
    credentials: &Credentials,
) -> Result<Vec<u8>, RmmError> {
    let key = keyring.current(conn, organization_id).await?;
    let plain = serde_json::to_vec(&credentials.0).map_err(|e| RmmError::Config(e.to_string()))?;
    Ok(clientstor_crypto::seal(
        &key,
        &binding(organization_id, integration_id),
        &plain,
    )?)
}

pub async fn open(
    keyring: &Keyring,
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    integration_id: i64,
    sealed: &[u8],
) -> Result<Credentials, RmmError> {
    let undecryptable = |cause| RmmError::Undecryptable {
        integration: integration_id,
        cause,
    };
    let version = clientstor_crypto::key_version(sealed).map_err(undecryptable)?;
    let key = keyring.key(conn, organization_id, version).await?;
    let plain = clientstor_crypto::open(&key, &binding(organization_id, integration_id), sealed)
        .map_err(undecryptable)?;
    serde_json::from_slice(&plain)
        .map(Credentials)
        .map_err(|_| undecryptable(clientstor_crypto::CryptoError::Malformed))
}
