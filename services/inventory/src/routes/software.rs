//! `/api/v1/assets/{id}/software/`: the asset's software list, `GET` and `PUT` (the list is
//! replaced; the asset is matched against the CVEs again).

use actix_web::{HttpResponse, web};
use clientstor_http::reader::Reader;
use clientstor_http::{ApiError, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec, reference};
use serde_json::{Value, json};

use super::assets::visible;
use crate::db::software::{self, Software, SoftwareRow};
use crate::error::InventoryError;

const MAX_ITEMS: usize = 5000;

/// One entry of an asset's software list.
pub const MODEL: Model = Model {
    name: "AssetSoftware",
    noun: "software entry",
    about: "A program installed on an asset, matched against the CVEs",
    record: false,
    fields: &[
        Field::rw("name", Kind::String).required(),
        Field::rw("vendor", Kind::String).nullable(),
        Field::rw("version", Kind::String).nullable(),
        Field::rw("cpe", Kind::String)
            .nullable()
            .about("A CPE 2.3 name (cpe:2.3:a:vendor:product:version:…); else vendor and name are normalised"),
    ],
    search: &[],
};

fn represent(rows: &[SoftwareRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(
                |s| json!({"name": s.name, "vendor": s.vendor, "version": s.version, "cpe": s.cpe}),
            )
            .collect(),
    )
}

/// A JSON array of `{name, vendor, version, cpe}`; errors aligned with the input.
fn parse(body: &Value) -> Result<Vec<Software>, ApiError> {
    let Some(items) = body.as_array() else {
        return Err(ApiError::BadRequest(
            "Expected a JSON array of {name, vendor, version, cpe}.".into(),
        ));
    };
    if items.len() > MAX_ITEMS {
        return Err(ApiError::field(
            "non_field_errors",
            format!("At most {MAX_ITEMS} entries."),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut report = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in items {
        let Some(map) = item.as_object() else {
            failed = true;
            report.push(json!({"non_field_errors": ["Expected a JSON object."]}));
            continue;
        };
        let mut r = Reader::new(map);
        let name = r.text("name", 255);
        if name.is_none() && !r.errors.contains_key("name") {
            r.fail("name", "This field is required.");
        }
        let vendor = r.text("vendor", 255);
        let version = r.text("version", 100);
        let cpe = r.text("cpe", 500);
        if cpe
            .as_deref()
            .is_some_and(|c| crate::vulns::cpe::parse(c).is_none())
        {
            r.fail(
                "cpe",
                "Enter a CPE 2.3 name (cpe:2.3:a:vendor:product:version:…).",
            );
        }
        if r.errors.is_empty() {
            report.push(json!({}));
            out.push(Software {
                name: name.unwrap_or_default(),
                vendor,
                version,
                cpe,
            });
        } else {
            failed = true;
            report.push(json!(r.errors));
        }
    }
    if failed {
        return Err(ApiError::ValidationBody(Value::Array(report)));
    }
    Ok(out)
}

async fn get(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let asset = visible(&principal, &context, &path).await?;
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    let rows = software::of_assets(&mut conn, &[asset.id]).await?;
    Ok(HttpResponse::Ok().json(represent(&rows)))
}

async fn put(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let asset = visible(&principal, &context, &path).await?;
    principal.require(asset.organization_id, "assets_edit")?;
    let items = parse(&body)?;
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    software::replace(&mut conn, asset.id, &items).await?;
    let rows = software::of_assets(&mut conn, &[asset.id]).await?;
    Ok(HttpResponse::Ok().json(represent(&rows)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource([
            "/api/v1/assets/{id}/software/",
            "/api/v1/assets/{id}/software",
        ])
        .route(web::get().to(get))
        .route(web::put().to(put)),
    );
}

/// The API description of the assets' software lists.
pub fn openapi(spec: &mut Spec) {
    spec.model(&MODEL);
    let list = json!({ "type": "array", "items": reference(MODEL.name) });
    spec.action(
        Action::new(
            "get",
            "/api/v1/assets/{id}/software/",
            "The asset's software list",
        )
        .answers("200", "The list")
        .returns_schema(list.clone()),
    );
    spec.action(
        Action::new(
            "put",
            "/api/v1/assets/{id}/software/",
            "Replace the asset's software list; the asset is matched against the CVEs again",
        )
        .body(json!({
            "type": "array",
            "maxItems": MAX_ITEMS,
            "items": { "allOf": [reference(&MODEL.input_name()), { "required": ["name"] }] },
        }))
        .returns_schema(list)
        .answers("200", "The stored list"),
    );
}
