//! Sealing and opening an entry's secrets. Each is bound to its organization, entry and field,
//! and sealed under the organization's newest data key; all secrets of an entry share one key
//! version, so a rotation can tell which entries are done.

use clientstor_crypto::Binding;
use diesel_async::AsyncPgConnection;

use crate::db::passwords::PasswordRow;
use crate::error::VaultError;
use crate::keyring::Keyring;

pub const PASSWORD: &str = "password";
pub const OTP: &str = "otp_secret";

fn binding(organization_id: i64, id: i64, field: &str) -> Binding {
    Binding::new(organization_id, "passwords", id, field)
}

/// Plaintext secrets of an entry, to be sealed together.
#[derive(Default)]
pub struct Plain {
    pub password: Option<Vec<u8>>,
    pub otp: Option<Vec<u8>>,
}

pub struct Sealed {
    pub password: Option<Vec<u8>>,
    pub otp: Option<Vec<u8>>,
    pub version: Option<i32>,
}

pub async fn seal(
    keyring: &Keyring,
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    id: i64,
    plain: &Plain,
) -> Result<Sealed, VaultError> {
    if plain.password.is_none() && plain.otp.is_none() {
        return Ok(Sealed {
            password: None,
            otp: None,
            version: None,
        });
    }
    let key = keyring.current(conn, organization_id).await?;
    let seal_one = |field: &str, value: &Option<Vec<u8>>| {
        value
            .as_ref()
            .map(|v| clientstor_crypto::seal(&key, &binding(organization_id, id, field), v))
            .transpose()
    };
    Ok(Sealed {
        password: seal_one(PASSWORD, &plain.password)?,
        otp: seal_one(OTP, &plain.otp)?,
        version: Some(i32::try_from(key.version).unwrap_or(i32::MAX)),
    })
}

/// Opens one sealed field of `row` with the key version recorded in the ciphertext.
pub async fn open(
    keyring: &Keyring,
    conn: &mut AsyncPgConnection,
    row: &PasswordRow,
    field: &str,
    sealed: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let undecryptable = |cause| VaultError::Undecryptable {
        entry: row.id,
        cause,
    };
    let version = clientstor_crypto::key_version(sealed).map_err(undecryptable)?;
    let key = keyring.key(conn, row.organization_id, version).await?;
    clientstor_crypto::open(&key, &binding(row.organization_id, row.id, field), sealed)
        .map_err(undecryptable)
}

/// Every secret of `row`, opened.
pub async fn open_all(
    keyring: &Keyring,
    conn: &mut AsyncPgConnection,
    row: &PasswordRow,
) -> Result<Plain, VaultError> {
    let mut plain = Plain::default();
    if let Some(sealed) = &row.password_sealed {
        plain.password = Some(open(keyring, conn, row, PASSWORD, sealed).await?);
    }
    if let Some(sealed) = &row.otp_sealed {
        plain.otp = Some(open(keyring, conn, row, OTP, sealed).await?);
    }
    Ok(plain)
}
