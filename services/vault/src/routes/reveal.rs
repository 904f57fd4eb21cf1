//! Reading secrets: `GET /api/v1/passwords/{id}/?reveal=true` and `GET …/{id}/otp/`. Both need
//! `vault_view_password`, and both write the access record in the transaction that reads the
//! sealed value: if the record cannot be written, nothing is returned.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Spec, reference};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::json;

use super::passwords::{Shown, organization_name, represent, visible};
use super::{Caller, keyring};
use crate::db::access_log;
use crate::db::passwords::{self as repo, PasswordRow};
use crate::error::VaultError;
use crate::keyring::KeyringCell;
use crate::otp::OtpSecret;
use crate::secrets;

/// The entry, re-read in a transaction that also appends the access record.
async fn read_recorded(
    caller: &Caller,
    conn: &mut AsyncPgConnection,
    row: &PasswordRow,
    action: &'static str,
) -> Result<PasswordRow, ApiError> {
    Ok(conn
        .transaction(async |conn| {
            let row = repo::get(conn, &[row.organization_id], row.id).await?;
            access_log::append(conn, &caller.access(&row, action)).await?;
            Ok::<_, VaultError>(row)
        })
        .await?)
}

/// Refuses with 429 once the caller revealed `limit` passwords in the last hour.
async fn check_limit(
    context: &Context,
    conn: &mut AsyncPgConnection,
    user: i64,
) -> Result<(), ApiError> {
    let limit = i64::from(context.settings.vault.reveal_limit_per_hour);
    let (count, oldest) = access_log::recent_reveals(conn, user).await?;
    if count >= limit {
        let frees_at = oldest.map_or_else(chrono::Utc::now, |at| at + chrono::Duration::hours(1));
        let wait = (frees_at - chrono::Utc::now()).num_seconds().max(1);
        return Err(ApiError::TooManyRequests {
            retry_after_seconds: u64::try_from(wait).unwrap_or(1),
        });
    }
    Ok(())
}

pub async fn reveal(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    raw_id: &str,
) -> Result<HttpResponse, ApiError> {
    let keyring = keyring(&cell, &context)?;
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let row = visible(&principal, &mut conn, raw_id).await?;
    principal.require(row.organization_id, "vault_view_password")?;
    check_limit(&context, &mut conn, principal.uid).await?;
    let row = read_recorded(
        &Caller::of(&req, &principal),
        &mut conn,
        &row,
        access_log::REVEAL,
    )
    .await?;
    let password = match &row.password_sealed {
        Some(sealed) => {
            let bytes = secrets::open(&keyring, &mut conn, &row, secrets::PASSWORD, sealed).await?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        None => None,
    };
    let name = organization_name(&mut conn, row.organization_id).await?;
    let shown = match &password {
        Some(text) => Shown::Plain(text),
        None => Shown::Masked,
    };
    let body = represent(&row, &name, shown);
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(body))
}

async fn otp(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let keyring = keyring(&cell, &context)?;
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let row = visible(&principal, &mut conn, &path).await?;
    principal.require(row.organization_id, "vault_view_password")?;
    if row.otp_sealed.is_none() {
        return Err(ApiError::BadRequest("This entry has no OTP secret.".into()));
    }
    let row = read_recorded(
        &Caller::of(&req, &principal),
        &mut conn,
        &row,
        access_log::OTP,
    )
    .await?;
    let Some(sealed) = &row.otp_sealed else {
        return Err(ApiError::BadRequest("This entry has no OTP secret.".into()));
    };
    let uri = secrets::open(&keyring, &mut conn, &row, secrets::OTP, sealed).await?;
    let secret = OtpSecret::parse(&String::from_utf8_lossy(&uri))
        .map_err(|e| ApiError::internal(format!("stored OTP secret of {}: {e}", row.id)))?;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let code = secret.code_at(now);
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "code": code.code,
            "time_remaining": code.time_remaining,
            "period": secret.period,
            "digits": secret.digits,
            "issuer": row.otp_issuer.clone().or(secret.issuer.clone()),
        })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/passwords/{id}/otp/", "/api/v1/passwords/{id}/otp"])
            .route(web::get().to(otp)),
    );
}

pub fn openapi(spec: &mut Spec) {
    spec.schema(
        "PasswordOtp",
        json!({
            "type": "object",
            "description": "The current TOTP code of a vault entry",
            "required": ["code", "time_remaining", "period", "digits", "issuer"],
            "properties": {
                "code": { "type": "string", "description": "The digits, leading zeros kept" },
                "time_remaining": { "type": "integer", "description": "Seconds until the code changes" },
                "period": { "type": "integer", "description": "Seconds a code is valid" },
                "digits": { "type": "integer" },
                "issuer": { "type": ["string", "null"] }
            }
        }),
    )
    .action(
        Action::new("get", "/api/v1/passwords/{id}/otp/", "Get an entry's current TOTP code")
            .answers(
                "200",
                "The code (Cache-Control: no-store); needs vault_view_password and is recorded in the access log",
            )
            .returns_schema(reference("PasswordOtp"))
            .error("400", "The entry has no OTP secret"),
    );
}
