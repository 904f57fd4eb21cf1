//! `/api/v1/permissions/`: the one list of permission names that roles are made of.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde::Serialize;

/// The permission representation, for the API description.
pub const MODEL: Model = Model {
    name: "Permission",
    noun: "permission",
    about: "The permission names that roles are made of",
    record: false,
    fields: &[
        Field::ro("name", Kind::String),
        Field::ro("minimum_role", Kind::Enum(super::ROLES))
            .about("The least powerful built-in role that has it"),
    ],
    search: &["name"],
};

#[derive(Serialize)]
struct Permission {
    name: &'static str,
    /// The least powerful built-in role that has it.
    minimum_role: &'static str,
}

fn all() -> Vec<Permission> {
    use clientstor_http::Role;
    clientstor_http::all_permissions()
        .map(|name| {
            let minimum_role = [Role::ReadOnly, Role::Editor, Role::Admin, Role::Owner]
                .into_iter()
                .find(|r| r.permissions().contains(name))
                .map_or("owner", Role::name);
            Permission { name, minimum_role }
        })
        .collect()
}

/// What the list can be ordered by.
const ORDERING_FIELDS: &[&str] = &["name", "minimum_role"];

async fn list(
    req: HttpRequest,
    _principal: web::ReqData<Principal>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(ORDERING_FIELDS)?;
    let words: Vec<String> = query
        .search_words()
        .iter()
        .map(|w| w.to_lowercase())
        .collect();
    let mut items: Vec<Permission> = all()
        .into_iter()
        .filter(|p| words.iter().all(|w| p.name.contains(w.as_str())))
        .collect();
    for (field, descending) in ordering.iter().rev() {
        items.sort_by(|a, b| {
            let order = if field == "name" {
                a.name.cmp(b.name)
            } else {
                a.minimum_role.cmp(b.minimum_role)
            };
            if *descending { order.reverse() } else { order }
        });
    }
    let count = items.len() as i64;
    let results: Vec<Permission> = items
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([
                format!("{prefix}/permissions/"),
                format!("{prefix}/permissions"),
            ])
            .route(web::get().to(list)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    spec.resource("/api/v1/permissions/", &MODEL, "l", &[]);
    spec.ordering("/api/v1/permissions/", ORDERING_FIELDS);
}
