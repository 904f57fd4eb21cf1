//! API key queries for `/api/v1/api-keys/` and `api-gateway admin key list|revoke`.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::api_keys;
use crate::error::GatewayError;

/// What the API shows of a key: never the key itself, nor its hash.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_keys, check_for_backend(Pg))]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    #[serde(rename = "user")]
    pub user_id: i64,
    #[serde(rename = "organization")]
    pub organization_id: i64,
    pub role: String,
    pub scope: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub rate_limit_per_minute: Option<i32>,
    pub rate_limit_burst: Option<i32>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const ORDERING_FIELDS: &[&str] = &["id", "name", "created_at", "last_used_at", "expires_at"];

/// Keys the caller may see: their own, plus every key homed in `managed` organizations.
fn visible<'a>(
    user: i64,
    managed: &'a [i64],
    search: &'a [String],
) -> api_keys::BoxedQuery<'a, Pg> {
    let mut query = api_keys::table
        .filter(
            api_keys::user_id
                .eq(user)
                .or(api_keys::organization_id.eq_any(managed)),
        )
        .into_boxed();
    for word in search {
        let pattern = clientstor_db::like_pattern(word);
        query = query.filter(api_keys::name.ilike(pattern));
    }
    query
}

pub async fn list(
    pool: &Pool,
    user: i64,
    managed: &[i64],
    search: &[String],
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<KeyView>), GatewayError> {
    let mut conn = pool.get().await?;
    let count: i64 = visible(user, managed, search)
        .count()
        .get_result(&mut conn)
        .await?;
    let mut query = visible(user, managed, search);
    query = clientstor_db::apply_ordering!(query, ordering, {
        "name" => api_keys::name,
        "created_at" => api_keys::created_at,
        "last_used_at" => api_keys::last_used_at,
        "expires_at" => api_keys::expires_at,
        "id" => api_keys::id,
    });
    let rows = query
        .then_order_by(api_keys::id.asc())
        .select(KeyView::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(pool: &Pool, id: i64) -> Result<KeyView, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(api_keys::table
        .find(id)
        .select(KeyView::as_select())
        .first(&mut conn)
        .await?)
}

pub async fn set_limits(
    pool: &Pool,
    id: i64,
    per_minute: Option<i32>,
    burst: Option<i32>,
) -> Result<(), GatewayError> {
    let mut conn = pool.get().await?;
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::rate_limit_per_minute.eq(per_minute),
            api_keys::rate_limit_burst.eq(burst),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Revokes the key (idempotent); returns its public prefix.
pub async fn revoke(pool: &Pool, id: i64) -> Result<String, GatewayError> {
    let mut conn = pool.get().await?;
    let now = Utc::now();
    Ok(diesel::update(api_keys::table.find(id))
        .set((
            api_keys::revoked_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("COALESCE(revoked_at, now())")),
            api_keys::updated_at.eq(now),
        ))
        .returning(api_keys::prefix)
        .get_result(&mut conn)
        .await?)
}

/// Every key of a user, for `admin key list`.
pub async fn of_user(pool: &Pool, user: i64) -> Result<Vec<KeyView>, GatewayError> {
    let mut conn = pool.get().await?;
    Ok(api_keys::table
        .filter(api_keys::user_id.eq(user))
        .order(api_keys::id.asc())
        .select(KeyView::as_select())
        .load(&mut conn)
        .await?)
}
