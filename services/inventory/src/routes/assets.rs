//! `/api/v1/assets/`: create, list, detail, replace (`PUT`), update (`PATCH`), delete.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, ValidationErrors};
use clientstor_runtime::Context;
use serde::{Deserialize, Serialize};

use crate::db::assets::{self as repo, AssetRow, NewAsset};

/// The documented asset types; anything else is a 400.
pub const ASSET_TYPES: &[&str] = &[
    "server",
    "workstation",
    "laptop",
    "desktop",
    "switch",
    "router",
    "firewall",
    "wireless_ap",
    "patch_panel",
    "nas",
    "san",
    "ups",
    "pdu",
    "printer",
    "phone",
    "security_camera",
    "nvr",
    "iot_device",
    "rack",
    "virtual_machine",
    "mobile",
    "other",
];

#[derive(Debug, Default, Deserialize)]
struct AssetInput {
    name: Option<String>,
    asset_type: Option<String>,
    serial_number: Option<String>,
    organization: Option<i64>,
}

/// `PATCH` body: absent fields stay, `null` clears a nullable one.
#[derive(Debug, Deserialize)]
struct AssetPatch {
    name: Option<String>,
    asset_type: Option<String>,
    #[serde(default, deserialize_with = "clientstor_http::input::nullable")]
    serial_number: Option<Option<String>>,
}

#[derive(Debug, Serialize)]
struct AssetOut {
    id: i64,
    organization: i64,
    organization_name: String,
    name: String,
    asset_type: String,
    serial_number: Option<String>,
    created_at: String,
    updated_at: String,
}

impl AssetOut {
    fn new(row: AssetRow, organization_name: String) -> Self {
        AssetOut {
            id: row.id,
            organization: row.organization_id,
            organization_name,
            name: row.name,
            asset_type: row.asset_type,
            serial_number: row.serial_number,
            created_at: row
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            updated_at: row
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }
}

fn validate(input: AssetInput, organization_id: i64) -> Result<NewAsset, ApiError> {
    let mut errors = ValidationErrors::new();
    let name = input.name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        errors
            .entry("name".into())
            .or_default()
            .push("This field is required.".into());
    } else if name.chars().count() > 255 {
        errors
            .entry("name".into())
            .or_default()
            .push("Ensure this field has no more than 255 characters.".into());
    }
    let asset_type = input.asset_type.unwrap_or_else(|| "other".into());
    if !ASSET_TYPES.contains(&asset_type.as_str()) {
        errors
            .entry("asset_type".into())
            .or_default()
            .push(format!("\"{asset_type}\" is not a valid choice."));
    }
    let serial_number = input
        .serial_number
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if serial_number
        .as_ref()
        .is_some_and(|s| s.chars().count() > 255)
    {
        errors
            .entry("serial_number".into())
            .or_default()
            .push("Ensure this field has no more than 255 characters.".into());
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(NewAsset {
        organization_id,
        name,
        asset_type,
        serial_number,
    })
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    body: web::Json<AssetInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let org = principal.target_org(input.organization)?;
    principal.require(org, "assets_create")?;
    let new = validate(input, org)?;
    let (row, org_name) = repo::create(&context.pool, new).await?;
    context.outbox.notify();
    Ok(HttpResponse::Created().json(AssetOut::new(row, org_name)))
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let orgs = principal.orgs_with("assets_view");
    let (count, rows) =
        repo::list(&context.pool, &orgs, &query.search_words(), &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.dedup();
    let names = repo::organization_names(&context.pool, &ids).await?;
    let results = rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.organization_id).cloned().unwrap_or_default();
            AssetOut::new(row, name)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // A non-numeric id names no asset: 404, like any other unknown id.
    let id: i64 = path.parse().map_err(|_| ApiError::not_found())?;
    let orgs = principal.orgs_with("assets_view");
    let row = repo::get(&context.pool, &orgs, id).await?;
    let names = repo::organization_names(&context.pool, &[row.organization_id]).await?;
    let name = names.get(&row.organization_id).cloned().unwrap_or_default();
    Ok(HttpResponse::Ok().json(AssetOut::new(row, name)))
}

/// The asset if the caller may see it (else 404), after checking `permission` in its organization.
async fn editable(
    principal: &Principal,
    context: &Context,
    raw: &str,
    permission: &str,
) -> Result<AssetRow, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    let row = repo::get(&context.pool, &principal.orgs_with("assets_view"), id).await?;
    principal.require(row.organization_id, permission)?;
    Ok(row)
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<AssetInput>,
) -> Result<HttpResponse, ApiError> {
    let row = editable(&principal, &context, &path, "assets_edit").await?;
    let new = validate(body.into_inner(), row.organization_id)?;
    let (row, org_name) = repo::update(&context.pool, row.id, new).await?;
    context.outbox.notify();
    Ok(HttpResponse::Ok().json(AssetOut::new(row, org_name)))
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<AssetPatch>,
) -> Result<HttpResponse, ApiError> {
    let row = editable(&principal, &context, &path, "assets_edit").await?;
    let patch = body.into_inner();
    let merged = AssetInput {
        name: Some(patch.name.unwrap_or(row.name)),
        asset_type: Some(patch.asset_type.unwrap_or(row.asset_type)),
        serial_number: patch.serial_number.unwrap_or(row.serial_number),
        organization: None,
    };
    let new = validate(merged, row.organization_id)?;
    let (row, org_name) = repo::update(&context.pool, row.id, new).await?;
    context.outbox.notify();
    Ok(HttpResponse::Ok().json(AssetOut::new(row, org_name)))
}

async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = editable(&principal, &context, &path, "assets_delete").await?;
    repo::delete(&context.pool, row.id).await?;
    context.outbox.notify();
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // With and without the trailing slash, served as is.
    cfg.service(
        web::resource(["/api/v1/assets/", "/api/v1/assets"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource(["/api/v1/assets/{id}/", "/api/v1/assets/{id}"])
            .route(web::get().to(detail))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

pub fn openapi_paths() -> serde_json::Value {
    clientstor_runtime::openapi::resource("/api/v1/assets/", "asset", "lcrpud", &["organization"])
}
