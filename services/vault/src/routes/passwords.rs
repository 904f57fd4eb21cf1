//! `/api/v1/passwords/`: list, create, detail (`?reveal=true` in reveal.rs), replace, update,
//! delete. The password itself is write-only here: lists omit it, the detail masks it.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::reader::{merged, object, requested_organization};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Kind, Spec, reference};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde::Deserialize;
use serde_json::{Value, json};

use super::password_input::{self, Input, SecretInput};
use super::{Caller, keyring, path_id};
use crate::db::access_log;
use crate::db::passwords::{
    self as repo, NewEntry, NewPassword, PasswordFilter, PasswordRow, SecretChange,
};
use crate::error::VaultError;
use crate::keyring::KeyringCell;
use crate::secrets::{self, Plain};
use crate::strength;

/// How the password appears in a response.
pub enum Shown<'a> {
    Omitted,
    Masked,
    Plain(&'a str),
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The entry as the API returns it.
pub fn represent(row: &PasswordRow, organization_name: &str, shown: Shown<'_>) -> Value {
    let mut value = json!({
        "id": row.id,
        "organization": row.organization_id,
        "organization_name": organization_name,
        "title": row.title,
        "username": row.username,
        "url": row.url,
        "notes": row.notes,
        "password_type": row.password_type,
        "has_password": row.password_sealed.is_some(),
        "has_otp": row.otp_sealed.is_some(),
        "otp_issuer": row.otp_issuer,
        "strength_score": row.strength_score,
        "password_changed_at": row.password_changed_at.map(rfc3339),
        "expires_at": row.expires_at.map(rfc3339),
        "is_expired": row.expires_at.is_some_and(|at| at <= chrono::Utc::now()),
        "tags": row.tags,
        "custom_fields": row.custom_fields,
        "breach": {
            "status": row.breach_status,
            "count": row.breach_count,
            "checked_at": row.breach_checked_at.map(rfc3339),
        },
        "created_by": row.created_by,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    });
    let password = match shown {
        Shown::Omitted => None,
        Shown::Masked => Some(if row.password_sealed.is_some() {
            json!("********")
        } else {
            Value::Null
        }),
        Shown::Plain(text) => Some(json!(text)),
    };
    if let (Some(password), Some(object)) = (password, value.as_object_mut()) {
        object.insert("password".into(), password);
    }
    value
}

pub(crate) async fn organization_name(
    conn: &mut AsyncPgConnection,
    org: i64,
) -> Result<String, VaultError> {
    Ok(clientstor_runtime::organizations::name(conn, crate::SCHEMA, org).await?)
}

#[derive(Debug, Deserialize)]
struct Filters {
    password_type: Option<String>,
    breach_status: Option<String>,
    has_otp: Option<bool>,
    is_expired: Option<bool>,
    tag: Option<String>,
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let f = filters.into_inner();
    let filter = PasswordFilter {
        search: query.search_words(),
        password_type: f.password_type,
        breach_status: f.breach_status,
        has_otp: f.has_otp,
        is_expired: f.is_expired,
        tag: f.tag,
    };
    let orgs = principal.orgs_with("vault_view");
    let (count, rows) = repo::list(&context.pool, &orgs, &filter, &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let names = clientstor_runtime::organizations::names(&mut conn, crate::SCHEMA, &ids)
        .await
        .map_err(VaultError::from)?;
    let results = rows
        .iter()
        .map(|r| {
            let name = names.get(&r.organization_id).map_or("", String::as_str);
            represent(r, name, Shown::Omitted)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

fn new_password(input: &SecretInput<String>) -> Option<&str> {
    match input {
        SecretInput::Set(p) => Some(p.as_str()),
        _ => None,
    }
}

async fn create(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let map = object(&body)?;
    let requested = requested_organization(map)?;
    let org = principal.target_org(requested)?;
    principal.require(org, "vault_create")?;
    let Input {
        fields,
        password,
        otp,
    } = password_input::parse(map).map_err(ApiError::Validation)?;
    let keyring = keyring(&cell, &context)?;
    let caller = Caller::of(&req, &principal);
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let plain = Plain {
        password: new_password(&password).map(|p| p.as_bytes().to_vec()),
        otp: match &otp {
            SecretInput::Set(secret) => Some(secret.to_uri().into_bytes()),
            _ => None,
        },
    };
    let (row, name) = conn
        .transaction(async |conn| {
            let id = repo::next_id(conn).await?;
            let sealed = secrets::seal(&keyring, conn, org, id, &plain).await?;
            let entry = NewEntry {
                id,
                organization_id: org,
                created_by: principal.uid,
                password: sealed.password.map(|sealed| NewPassword {
                    sealed,
                    strength_score: strength::score(new_password(&password).unwrap_or_default()),
                }),
                otp_sealed: sealed.otp,
                key_version: sealed.version,
            };
            let row = repo::insert(conn, &entry, &fields).await?;
            access_log::append(conn, &caller.access(&row, access_log::CREATE)).await?;
            let name = organization_name(conn, org).await?;
            Ok::<_, VaultError>((row, name))
        })
        .await?;
    if row.password_sealed.is_some() {
        context.work.notify_one();
    }
    Ok(HttpResponse::Created().json(represent(&row, &name, Shown::Masked)))
}

/// The entry if the caller may view it; any other id is a 404.
pub(crate) async fn visible(
    principal: &Principal,
    conn: &mut AsyncPgConnection,
    raw: &str,
) -> Result<PasswordRow, ApiError> {
    Ok(repo::get(conn, &principal.orgs_with("vault_view"), path_id(raw)?).await?)
}

#[derive(Debug, Deserialize)]
struct DetailQuery {
    #[serde(default)]
    reveal: Option<String>,
}

async fn detail(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, ApiError> {
    let reveal = match query.reveal.as_deref() {
        None | Some("false" | "0" | "") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::field("reveal", "Must be true or false.")),
    };
    if reveal {
        return super::reveal::reveal(req, principal, context, cell, &path).await;
    }
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let row = visible(&principal, &mut conn, &path).await?;
    let name = organization_name(&mut conn, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &name, Shown::Masked)))
}

async fn save(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    body: web::Json<Value>,
    partial: bool,
) -> Result<HttpResponse, ApiError> {
    let keyring = keyring(&cell, &context)?;
    let caller = Caller::of(&req, &principal);
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let current = visible(&principal, conn, &path).await?;
    principal.require(current.organization_id, "vault_edit")?;
    let map = if partial {
        merged(represent(&current, "", Shown::Omitted), &body)?
    } else {
        object(&body)?.clone()
    };
    let Input {
        fields,
        password,
        otp,
    } = password_input::parse(&map).map_err(ApiError::Validation)?;
    let (row, name) = conn
        .transaction(async |conn| {
            let row = repo::get(conn, &[current.organization_id], current.id).await?;
            let changes_secret = !matches!(
                (&password, &otp),
                (SecretInput::Absent, SecretInput::Absent)
            );
            let (password_change, otp_change, version) = if changes_secret {
                // Everything is re-sealed under the newest key, kept secrets included.
                let mut plain = secrets::open_all(&keyring, conn, &row).await?;
                match &password {
                    SecretInput::Set(p) => plain.password = Some(p.as_bytes().to_vec()),
                    SecretInput::Clear => plain.password = None,
                    SecretInput::Absent => {}
                }
                match &otp {
                    SecretInput::Set(s) => plain.otp = Some(s.to_uri().into_bytes()),
                    SecretInput::Clear => plain.otp = None,
                    SecretInput::Absent => {}
                }
                let sealed =
                    secrets::seal(&keyring, conn, row.organization_id, row.id, &plain).await?;
                let password_change = match (&password, sealed.password) {
                    (SecretInput::Set(p), Some(sealed)) => SecretChange::Set(NewPassword {
                        sealed,
                        strength_score: strength::score(p),
                    }),
                    (SecretInput::Clear, _) => SecretChange::Clear,
                    (_, Some(sealed)) => SecretChange::Reseal(sealed),
                    (_, None) => SecretChange::Keep,
                };
                let otp_change = match sealed.otp {
                    Some(sealed) => SecretChange::Set(sealed),
                    None if row.otp_sealed.is_some() => SecretChange::Clear,
                    None => SecretChange::Keep,
                };
                (password_change, otp_change, sealed.version)
            } else {
                (SecretChange::Keep, SecretChange::Keep, None)
            };
            let row = repo::update(
                conn,
                row.id,
                &fields,
                &password_change,
                &otp_change,
                version,
            )
            .await?;
            access_log::append(conn, &caller.access(&row, access_log::UPDATE)).await?;
            let name = organization_name(conn, row.organization_id).await?;
            Ok::<_, VaultError>((row, name))
        })
        .await?;
    if matches!(password, SecretInput::Set(_)) {
        context.work.notify_one();
    }
    Ok(HttpResponse::Ok().json(represent(&row, &name, Shown::Masked)))
}

async fn replace(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(req, principal, context, cell, path, body, false).await
}

async fn patch(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(req, principal, context, cell, path, body, true).await
}

async fn delete(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let row = visible(&principal, conn, &path).await?;
    principal.require(row.organization_id, "vault_delete")?;
    let caller = Caller::of(&req, &principal);
    conn.transaction(async |conn| {
        access_log::append(conn, &caller.access(&row, access_log::DELETE)).await?;
        repo::delete(conn, row.id).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/passwords/", "/api/v1/passwords"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource(["/api/v1/passwords/{id}/", "/api/v1/passwords/{id}"])
            .route(web::get().to(detail))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

/// The `password` key that the single-entry answers add to `Password`.
fn detail_schema() -> Value {
    json!({
        "description": "A vault entry as the create, detail, replace and update answers give it",
        "allOf": [
            reference(password_input::MODEL.name),
            {
                "type": "object",
                "required": ["password"],
                "properties": {
                    "password": {
                        "type": ["string", "null"],
                        "description": "`********` when the entry has a password, null when it has none; the password itself with `?reveal=true`"
                    }
                }
            }
        ]
    })
}

pub fn openapi(spec: &mut Spec) {
    let model = &password_input::MODEL;
    spec.schema(
        "PasswordBreach",
        json!({
            "type": "object",
            "required": ["status", "count", "checked_at"],
            "properties": {
                "status": { "type": "string", "enum": password_input::BREACH_STATUSES },
                "count": {
                    "type": ["integer", "null"],
                    "description": "How often the password appears in the corpus; 0 when safe, null until checked"
                },
                "checked_at": { "type": ["string", "null"], "format": "date-time" }
            }
        }),
    )
    .schema("PasswordDetail", detail_schema())
    .resource(
        "/api/v1/passwords/",
        model,
        "lcrpud",
        &[
            "password_type",
            "breach_status",
            "has_otp",
            "is_expired",
            "tag",
        ],
    );
    // The single-entry answers carry `password`, which lists leave out: the create, detail,
    // replace and update operations are described again with `PasswordDetail`.
    let input = reference(&model.input_name());
    let required = json!({ "allOf": [input, { "required": model.required_on_create() }] });
    spec.action(
        Action::new("post", "/api/v1/passwords/", "Create a password")
            .answers("201", "Created; the password masked")
            .organization()
            .body(required.clone())
            .returns_schema(reference("PasswordDetail")),
    )
    .action(
        Action::new("get", "/api/v1/passwords/{id}/", "Get a password")
            .answers(
                "200",
                "The entry, the password masked; with ?reveal=true the password itself (Cache-Control: no-store)",
            )
            .query(
                "reveal",
                Kind::Boolean,
                "`true` (or 1) answers the password itself: needs vault_view_password, is recorded in the access log and counts towards the hourly reveal limit",
            )
            .returns_schema(reference("PasswordDetail"))
            .error("400", "`reveal` is not true or false")
            .error(
                "429",
                "Rate limited, or (with reveal) the hourly reveal limit is reached; retry after Retry-After seconds",
            ),
    )
    .action(
        Action::new("put", "/api/v1/passwords/{id}/", "Replace a password")
            .answers("200", "The entry, the password masked")
            .body(required)
            .returns_schema(reference("PasswordDetail")),
    )
    .action(
        Action::new("patch", "/api/v1/passwords/{id}/", "Update a password")
            .answers("200", "The entry, the password masked")
            .body(reference(&model.input_name()))
            .returns_schema(reference("PasswordDetail")),
    );
    spec.ordering("/api/v1/passwords/", repo::ORDERING_FIELDS);
}
