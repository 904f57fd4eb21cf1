//! `vault rotate-keys`: re-wraps data keys still wrapped by the previous master key, then gives
//! every organization a new data-key version and re-seals its entries under it, in batches,
//! while the service keeps serving (ciphertexts name their key version, so reads never wait).

use clientstor_db::Pool;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};

use clientstor_keyring::store as data_keys;

use crate::db::passwords;
use crate::error::VaultError;
use crate::keyring::Keyring;
use crate::secrets;

const BATCH: i64 = 100;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    pub keys_rewrapped: usize,
    pub organizations: usize,
    pub entries_resealed: usize,
}

pub async fn rotate_keys(pool: &Pool, keyring: &Keyring) -> Result<Rotation, VaultError> {
    let mut rotation = Rotation::default();
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    for row in data_keys::all(conn, keyring.schema()).await? {
        if row.master_fingerprint == keyring.master().fingerprint() {
            continue;
        }
        let previous = keyring
            .previous()
            .filter(|p| p.fingerprint() == row.master_fingerprint)
            .ok_or_else(|| {
                VaultError::Config(format!(
                    "data key {}/v{} is wrapped by master key {}; set \
                     CLIENTSTOR_VAULT__PREVIOUS_MASTER_KEY to it",
                    row.organization_id, row.version, row.master_fingerprint
                ))
            })?;
        let version = u32::try_from(row.version).unwrap_or_default();
        let rewrapped =
            keyring
                .master()
                .rewrap(previous, row.organization_id, version, &row.wrapped)?;
        data_keys::rewrap(
            conn,
            keyring.schema(),
            row.organization_id,
            row.version,
            &rewrapped,
        )
        .await?;
        rotation.keys_rewrapped += 1;
    }
    for org in passwords::organizations_with_secrets(conn).await? {
        let newest = data_keys::newest_version(conn, keyring.schema(), org)
            .await?
            .unwrap_or(0);
        let version = keyring.add_version(conn, org, newest + 1).await?;
        rotation.organizations += 1;
        rotation.entries_resealed += reseal_organization(conn, keyring, org, version).await?;
    }
    Ok(rotation)
}

/// Re-seals every entry of `org` sealed under an older version, until none is left (entries
/// saved concurrently with an older key are picked up by the next pass).
async fn reseal_organization(
    conn: &mut AsyncPgConnection,
    keyring: &Keyring,
    org: i64,
    version: u32,
) -> Result<usize, VaultError> {
    let target = i32::try_from(version).unwrap_or(i32::MAX);
    let key = keyring.key(conn, org, version).await?;
    let mut resealed = 0;
    loop {
        let batch = passwords::sealed_before(conn, org, target, BATCH).await?;
        if batch.is_empty() {
            return Ok(resealed);
        }
        let done = conn
            .transaction(async |conn| {
                let mut done = 0;
                for row in &batch {
                    let plain = secrets::open_all(keyring, conn, row).await?;
                    let seal = |field: &str, value: Option<Vec<u8>>| {
                        value
                            .map(|v| {
                                clientstor_crypto::seal(
                                    &key,
                                    &clientstor_crypto::Binding::new(
                                        org,
                                        "passwords",
                                        row.id,
                                        field,
                                    ),
                                    &v,
                                )
                            })
                            .transpose()
                    };
                    let password = seal(secrets::PASSWORD, plain.password)?;
                    let otp = seal(secrets::OTP, plain.otp)?;
                    if passwords::reseal(conn, row, password, otp, target).await? {
                        done += 1;
                    }
                }
                Ok::<_, VaultError>(done)
            })
            .await?;
        resealed += done;
        if done == 0 {
            // Every row of the batch changed under us; give the writers a moment.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
