//! Organization queries for the `/api/v1/organizations/` resource.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_events::v1::OrganizationChanged;
use clientstor_events::{Organization, Payload, new_envelope};
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::schema::{memberships, organizations};
use crate::SCHEMA;
use crate::error::GatewayError;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = organizations, check_for_backend(Pg))]
pub struct OrgDetail {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    #[serde(rename = "parent")]
    pub parent_id: Option<i64>,
    pub is_active: bool,
    pub organization_type: String,
    pub legal_name: String,
    pub tax_id: String,
    pub street_address: String,
    pub street_address_2: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub primary_contact_name: String,
    pub primary_contact_title: String,
    pub primary_contact_email: String,
    pub primary_contact_phone: String,
    pub region: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Writable fields; `None` leaves a field as it is.
#[derive(Debug, Default, Clone, Deserialize, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "parent")]
    pub parent_id: Option<Option<i64>>,
    pub is_active: Option<bool>,
    pub organization_type: Option<String>,
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub street_address: Option<String>,
    pub street_address_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_title: Option<String>,
    pub primary_contact_email: Option<String>,
    pub primary_contact_phone: Option<String>,
    pub region: Option<String>,
}

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "name",
    "slug",
    "is_active",
    "created_at",
    "updated_at",
];

/// Filters of the list.
#[derive(Debug, Default)]
pub struct OrgFilter {
    pub search: Vec<String>,
    pub parent: Option<i64>,
    pub is_active: Option<bool>,
}

fn filtered<'a>(ids: &'a [i64], filter: &'a OrgFilter) -> organizations::BoxedQuery<'a, Pg> {
    let mut query = organizations::table
        .filter(organizations::id.eq_any(ids))
        .into_boxed();
    for word in &filter.search {
        let pattern = clientstor_db::like_pattern(word);
        query = query.filter(
            organizations::name
                .ilike(pattern.clone())
                .or(organizations::slug.ilike(pattern)),
        );
    }
    if let Some(parent) = filter.parent {
        query = query.filter(organizations::parent_id.eq(parent));
    }
    if let Some(active) = filter.is_active {
        query = query.filter(organizations::is_active.eq(active));
    }
    query
}

pub async fn list(
    pool: &Pool,
    ids: &[i64],
    filter: &OrgFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<OrgDetail>), GatewayError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(ids, filter).count().get_result(&mut conn).await?;
    let mut query = filtered(ids, filter);
    query = clientstor_db::apply_ordering!(query, ordering, {
        "name" => organizations::name,
        "slug" => organizations::slug,
        "is_active" => organizations::is_active,
        "created_at" => organizations::created_at,
        "updated_at" => organizations::updated_at,
        "id" => organizations::id,
    });
    let rows = query
        .then_order_by(organizations::id.asc())
        .select(OrgDetail::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(pool: &Pool, id: i64) -> Result<OrgDetail, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(organizations::table
        .find(id)
        .select(OrgDetail::as_select())
        .first(&mut conn)
        .await?)
}

/// Ids of `org` and every organization below it.
pub async fn descendants(conn: &mut AsyncPgConnection, org: i64) -> QueryResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "WITH RECURSIVE tree AS (SELECT id FROM gateway.organizations WHERE id = $1 \
         UNION SELECT o.id FROM gateway.organizations o JOIN tree t ON o.parent_id = t.id) SELECT id FROM tree",
    )
    .bind::<diesel::sql_types::BigInt, _>(org)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

fn event(event_type: &str, row: &OrgDetail) -> clientstor_events::Envelope {
    new_envelope(
        event_type,
        "api-gateway",
        Organization {
            id: row.id,
            name: row.name.clone(),
        },
        Payload::OrganizationChanged(OrganizationChanged {
            id: row.id,
            name: row.name.clone(),
            slug: row.slug.clone(),
            parent_id: row.parent_id,
            is_active: row.is_active,
        }),
    )
}

/// Creates the organization, makes `owner` its Owner, and writes `organization.created`.
pub async fn create(
    pool: &Pool,
    fields: OrgChanges,
    owner: i64,
) -> Result<OrgDetail, GatewayError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let row = conn
        .transaction(async |conn| {
            let id: i64 = diesel::insert_into(organizations::table)
                .values((
                    organizations::name.eq(fields.name.clone().unwrap_or_default()),
                    organizations::slug.eq(fields.slug.clone().unwrap_or_default()),
                ))
                .returning(organizations::id)
                .get_result(conn)
                .await?;
            let row: OrgDetail = diesel::update(organizations::table.find(id))
                .set(&fields)
                .returning(OrgDetail::as_returning())
                .get_result(conn)
                .await?;
            diesel::insert_into(memberships::table)
                .values((
                    memberships::user_id.eq(owner),
                    memberships::organization_id.eq(id),
                    memberships::role.eq("owner"),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            clientstor_bus::enqueue(
                conn,
                SCHEMA,
                &event(clientstor_events::types::ORGANIZATION_CREATED, &row),
            )
            .await?;
            Ok::<_, diesel::result::Error>(row)
        })
        .await?;
    Ok(row)
}

/// Applies the changes and writes `organization.updated`.
pub async fn update(pool: &Pool, id: i64, changes: OrgChanges) -> Result<OrgDetail, GatewayError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let row = conn
        .transaction(async |conn| {
            let row: OrgDetail = diesel::update(organizations::table.find(id))
                .set((&changes, organizations::updated_at.eq(Utc::now())))
                .returning(OrgDetail::as_returning())
                .get_result(conn)
                .await?;
            clientstor_bus::enqueue(
                conn,
                SCHEMA,
                &event(clientstor_events::types::ORGANIZATION_UPDATED, &row),
            )
            .await?;
            Ok::<_, diesel::result::Error>(row)
        })
        .await?;
    Ok(row)
}
