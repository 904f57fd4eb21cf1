//! Users, memberships and custom roles, for their REST resources.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::{memberships, roles, users};
use crate::error::GatewayError;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub is_active: bool,
    pub is_platform_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = memberships, check_for_backend(Pg))]
pub struct MembershipView {
    pub id: i64,
    #[serde(rename = "user")]
    pub user_id: i64,
    #[serde(rename = "organization")]
    pub organization_id: i64,
    pub role: String,
    #[serde(rename = "custom_role")]
    pub custom_role_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = roles, check_for_backend(Pg))]
pub struct RoleView {
    pub id: i64,
    #[serde(rename = "organization")]
    pub organization_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Users with a membership in one of `orgs`.
pub async fn list_users(
    pool: &Pool,
    orgs: &[i64],
    search: &[String],
    page: PageRequest,
) -> Result<(i64, Vec<UserView>), GatewayError> {
    let mut conn = pool.get().await?;
    let build = || {
        let members = memberships::table
            .filter(memberships::organization_id.eq_any(orgs))
            .select(memberships::user_id);
        let mut query = users::table.filter(users::id.eq_any(members)).into_boxed();
        for word in search {
            query = query.filter(
                users::email
                    .ilike(clientstor_db::like_pattern(word))
                    .or(users::name.ilike(clientstor_db::like_pattern(word))),
            );
        }
        query
    };
    let count: i64 = build().count().get_result(&mut conn).await?;
    let rows = build()
        .order(users::id.asc())
        .select(UserView::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn user(pool: &Pool, id: i64) -> Result<UserView, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(users::table
        .find(id)
        .select(UserView::as_select())
        .first(&mut conn)
        .await?)
}

/// Organizations the user is a member of, among `orgs`.
pub async fn shared_orgs(pool: &Pool, user: i64, orgs: &[i64]) -> Result<Vec<i64>, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(memberships::table
        .filter(memberships::user_id.eq(user))
        .filter(memberships::organization_id.eq_any(orgs))
        .select(memberships::organization_id)
        .load(&mut conn)
        .await?)
}

#[derive(Debug, Default)]
pub struct MembershipFilter {
    pub user: Option<i64>,
    pub organization: Option<i64>,
}

pub async fn list_memberships(
    pool: &Pool,
    orgs: &[i64],
    filter: &MembershipFilter,
    page: PageRequest,
) -> Result<(i64, Vec<MembershipView>), GatewayError> {
    let mut conn = pool.get().await?;
    let build = || {
        let mut query = memberships::table
            .filter(memberships::organization_id.eq_any(orgs))
            .into_boxed();
        if let Some(user) = filter.user {
            query = query.filter(memberships::user_id.eq(user));
        }
        if let Some(org) = filter.organization {
            query = query.filter(memberships::organization_id.eq(org));
        }
        query
    };
    let count: i64 = build().count().get_result(&mut conn).await?;
    let rows = build()
        .order(memberships::id.asc())
        .select(MembershipView::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn membership(pool: &Pool, id: i64) -> Result<MembershipView, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(memberships::table
        .find(id)
        .select(MembershipView::as_select())
        .first(&mut conn)
        .await?)
}

/// Creates or replaces the user's role in the organization.
pub async fn put_membership(
    pool: &Pool,
    user: i64,
    org: i64,
    role: &str,
    custom_role: Option<i64>,
) -> Result<MembershipView, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(memberships::table)
        .values((
            memberships::user_id.eq(user),
            memberships::organization_id.eq(org),
            memberships::role.eq(role),
            memberships::custom_role_id.eq(custom_role),
        ))
        .on_conflict((memberships::user_id, memberships::organization_id))
        .do_update()
        .set((
            memberships::role.eq(role),
            memberships::custom_role_id.eq(custom_role),
            memberships::updated_at.eq(Utc::now()),
        ))
        .returning(MembershipView::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn delete_membership(pool: &Pool, id: i64) -> Result<(), GatewayError> {
    let mut conn = pool.get().await?;
    diesel::delete(memberships::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Custom roles of `orgs` and the global ones.
/// The custom roles of `orgs` (and the platform's), `limit` of them from `offset`, and how many
/// there are in all.
pub async fn list_roles(
    pool: &Pool,
    orgs: &[i64],
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<RoleView>), GatewayError> {
    let mut conn = pool.get().await?;
    let build = || {
        roles::table
            .filter(
                roles::organization_id
                    .eq_any(orgs)
                    .or(roles::organization_id.is_null()),
            )
            .into_boxed()
    };
    let count: i64 = build().count().get_result(&mut conn).await?;
    let rows = build()
        .order(roles::id.asc())
        .select(RoleView::as_select())
        .offset(offset)
        .limit(limit)
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn role(pool: &Pool, id: i64) -> Result<RoleView, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(roles::table
        .find(id)
        .select(RoleView::as_select())
        .first(&mut conn)
        .await?)
}

pub async fn create_role(
    pool: &Pool,
    org: Option<i64>,
    name: &str,
    description: &str,
    permissions: &[String],
) -> Result<RoleView, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(roles::table)
        .values((
            roles::organization_id.eq(org),
            roles::name.eq(name),
            roles::description.eq(description),
            roles::permissions.eq(permissions),
        ))
        .returning(RoleView::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn update_role(
    pool: &Pool,
    id: i64,
    name: Option<&str>,
    description: Option<&str>,
    permissions: Option<&[String]>,
) -> Result<RoleView, GatewayError> {
    let mut conn = pool.get().await?;
    let current = role(pool, id).await?;
    Ok(diesel::update(roles::table.find(id))
        .set((
            roles::name.eq(name.unwrap_or(&current.name)),
            roles::description.eq(description.unwrap_or(&current.description)),
            roles::permissions.eq(permissions.unwrap_or(&current.permissions)),
            roles::updated_at.eq(Utc::now()),
        ))
        .returning(RoleView::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn delete_role(pool: &Pool, id: i64) -> Result<(), GatewayError> {
    let mut conn = pool.get().await?;
    diesel::delete(roles::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}
