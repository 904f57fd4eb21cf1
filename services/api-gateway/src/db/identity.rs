//! Organizations, users, memberships and API keys: the queries behind authentication and the
//! admin commands.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_events::v1::OrganizationChanged;
use clientstor_events::{Organization, Payload, new_envelope};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{api_keys, organizations, roles, users};
use crate::SCHEMA;
use crate::error::GatewayError;
use crate::roles::RoleRef;
use clientstor_http::Role;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations, check_for_backend(Pg))]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<i64>,
    pub is_active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub is_active: bool,
    pub is_platform_admin: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys, check_for_backend(Pg))]
pub struct KeyRow {
    pub id: i64,
    pub key_hash: Vec<u8>,
    pub pepper_version: i32,
    pub organization_id: i64,
    pub role: String,
    pub scope: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub rate_limit_per_minute: Option<i32>,
    pub rate_limit_burst: Option<i32>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// Creates an organization and its `organization.created` event in one transaction.
pub async fn create_org(
    pool: &Pool,
    name: &str,
    slug: Option<&str>,
    parent_id: Option<i64>,
) -> Result<OrgRow, GatewayError> {
    let slug = slug.map(str::to_string).unwrap_or_else(|| slugify(name));
    if name.trim().is_empty() || slug.is_empty() {
        return Err(GatewayError::Invalid(
            "an organization needs a name and a slug".into(),
        ));
    }
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let row = conn
        .transaction(async |conn| {
            let row: OrgRow = diesel::insert_into(organizations::table)
                .values((
                    organizations::name.eq(name.trim()),
                    organizations::slug.eq(&slug),
                    organizations::parent_id.eq(parent_id),
                ))
                .returning(OrgRow::as_returning())
                .get_result(conn)
                .await?;
            let event = new_envelope(
                clientstor_events::types::ORGANIZATION_CREATED,
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
            );
            clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
            Ok::<_, diesel::result::Error>(row)
        })
        .await?;
    Ok(row)
}

pub async fn create_user(
    pool: &Pool,
    email: &str,
    name: &str,
    platform_admin: bool,
) -> Result<UserRow, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(users::table)
        .values((
            users::email.eq(email.trim().to_lowercase()),
            users::name.eq(name),
            users::is_platform_admin.eq(platform_admin),
        ))
        .returning(UserRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn find_user(pool: &Pool, email: &str) -> Result<UserRow, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .first(&mut conn)
        .await?)
}

/// An organization by id or slug.
pub async fn find_org(pool: &Pool, id_or_slug: &str) -> Result<OrgRow, GatewayError> {
    let mut conn = pool.get().await?;
    let query = organizations::table
        .select(OrgRow::as_select())
        .into_boxed();
    let query = match id_or_slug.parse::<i64>() {
        Ok(id) => query.filter(organizations::id.eq(id)),
        Err(_) => query.filter(organizations::slug.eq(id_or_slug)),
    };
    Ok(query.first(&mut conn).await?)
}

pub struct NewKey<'a> {
    pub prefix: &'a str,
    pub key_hash: Vec<u8>,
    pub pepper_version: i32,
    pub name: &'a str,
    pub user_id: i64,
    pub organization_id: i64,
    pub role: &'a str,
    pub scope: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert_key(pool: &Pool, key: NewKey<'_>) -> Result<i64, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(api_keys::table)
        .values((
            api_keys::prefix.eq(key.prefix),
            api_keys::key_hash.eq(key.key_hash),
            api_keys::pepper_version.eq(key.pepper_version),
            api_keys::name.eq(key.name),
            api_keys::user_id.eq(key.user_id),
            api_keys::organization_id.eq(key.organization_id),
            api_keys::role.eq(key.role),
            api_keys::scope.eq(key.scope),
            api_keys::expires_at.eq(key.expires_at),
        ))
        .returning(api_keys::id)
        .get_result(&mut conn)
        .await?)
}

/// The key with this public id and its user.
pub async fn key_by_prefix(
    pool: &Pool,
    prefix: &str,
) -> Result<Option<(KeyRow, UserRow)>, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(api_keys::table
        .inner_join(users::table)
        .filter(api_keys::prefix.eq(prefix))
        .select((KeyRow::as_select(), UserRow::as_select()))
        .first(&mut conn)
        .await
        .optional()?)
}

/// Active organizations the user reaches through the key's scope, with the user's role in
/// each (platform administrators: owner everywhere).
pub async fn reachable(
    pool: &Pool,
    user: &UserRow,
    key: &KeyRow,
) -> Result<BTreeMap<i64, RoleRef>, GatewayError> {
    let mut conn = pool.get().await?;
    let in_scope: Vec<i64> = match key.scope.as_str() {
        "single" => vec![key.organization_id],
        "descendants" => {
            crate::db::organizations::descendants(&mut conn, key.organization_id).await?
        }
        _ => {
            organizations::table
                .select(organizations::id)
                .load(&mut conn)
                .await?
        }
    };
    let active: Vec<i64> = organizations::table
        .filter(organizations::id.eq_any(&in_scope))
        .filter(organizations::is_active.eq(true))
        .select(organizations::id)
        .load(&mut conn)
        .await?;
    if user.is_platform_admin {
        return Ok(active
            .into_iter()
            .map(|id| (id, RoleRef::Builtin(Role::Owner)))
            .collect());
    }
    // A membership reaches down the tree: the nearest membership above an organization
    // (or on it) gives the user's role there.
    let rows: Vec<OrgRole> = diesel::sql_query(
        "WITH RECURSIVE tree AS ( \
             SELECT organization_id AS id, role, custom_role_id, 0 AS depth FROM gateway.memberships WHERE user_id = $1 \
             UNION ALL \
             SELECT o.id, t.role, t.custom_role_id, t.depth + 1 FROM gateway.organizations o JOIN tree t ON o.parent_id = t.id \
             WHERE t.depth < 64) \
         SELECT DISTINCT ON (id) id, role, custom_role_id FROM tree WHERE id = ANY($2) ORDER BY id, depth",
    )
    .bind::<BigInt, _>(user.id)
    .bind::<diesel::sql_types::Array<BigInt>, _>(&active)
    .load(&mut conn)
    .await?;
    let custom_ids: Vec<i64> = rows.iter().filter_map(|r| r.custom_role_id).collect();
    let custom: std::collections::HashMap<i64, Vec<String>> = if custom_ids.is_empty() {
        Default::default()
    } else {
        roles::table
            .filter(roles::id.eq_any(&custom_ids))
            .select((roles::id, roles::permissions))
            .load::<(i64, Vec<String>)>(&mut conn)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let grant = match r.custom_role_id {
                Some(id) => RoleRef::Custom {
                    id,
                    permissions: custom.get(&id)?.iter().cloned().collect(),
                },
                None => RoleRef::Builtin(Role::parse(&r.role)?),
            };
            Some((r.id, grant))
        })
        .collect())
}

#[derive(QueryableByName)]
struct OrgRole {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    role: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    custom_role_id: Option<i64>,
}

pub async fn touch_key(pool: &Pool, id: i64, ip: &str) -> Result<(), GatewayError> {
    let mut conn = pool.get().await?;
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::last_used_at.eq(Utc::now()),
            api_keys::last_used_ip.eq(ip),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}
