//! Webhook endpoint queries, always filtered to the caller's organizations.

use chrono::{DateTime, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::endpoints;
use crate::error::WebhookError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = endpoints, check_for_backend(Pg))]
pub struct EndpointRow {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub description: String,
    pub custom_headers: serde_json::Value,
    pub ordered: bool,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
}

impl EndpointRow {
    /// The secrets that sign now: the current one, and the previous one during its grace period.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = endpoints)]
pub struct NewEndpoint {
    pub organization_id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub is_active: bool,
    pub description: String,
    pub custom_headers: serde_json::Value,
    pub ordered: bool,
}

pub const ORDERING_FIELDS: &[&str] =
    &["id", "name", "url", "is_active", "created_at", "updated_at"];

pub async fn create(pool: &Pool, new: NewEndpoint) -> Result<EndpointRow, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(diesel::insert_into(endpoints::table)
        .values(&new)
        .returning(EndpointRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

/// Replaces the endpoint's settings (the secret is changed only by rotation).
pub async fn update(pool: &Pool, id: i64, new: &NewEndpoint) -> Result<EndpointRow, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(diesel::update(endpoints::table.find(id))
        .set((
            endpoints::name.eq(&new.name),
            endpoints::url.eq(&new.url),
            endpoints::events.eq(&new.events),
            endpoints::is_active.eq(new.is_active),
            endpoints::description.eq(&new.description),
            endpoints::custom_headers.eq(&new.custom_headers),
            endpoints::ordered.eq(new.ordered),
            endpoints::updated_at.eq(Utc::now()),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

/// Re-enabling clears why the endpoint was disabled and its failure streak.
pub async fn clear_disabled(pool: &Pool, id: i64) -> Result<(), WebhookError> {
    let mut conn = pool.get().await?;
    diesel::update(endpoints::table.find(id))
        .set((
            endpoints::disabled_reason.eq(None::<String>),
            endpoints::failing_since.eq(None::<DateTime<Utc>>),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// A new secret; the old one keeps signing until `grace_until`.
pub async fn rotate_secret(
    pool: &Pool,
    id: i64,
    secret: &str,
    grace_until: DateTime<Utc>,
) -> Result<EndpointRow, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(diesel::update(endpoints::table.find(id))
        .set((
            endpoints::previous_secret.eq(endpoints::secret.nullable()),
            endpoints::previous_secret_expires_at.eq(Some(grace_until)),
            endpoints::secret.eq(secret),
            endpoints::updated_at.eq(Utc::now()),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(&mut conn)
        .await?)
}

/// Keeps each endpoint's failure streak after a batch of attempts: a success clears it, a
/// failure starts it (if not running). An endpoint told to be disabled (410), or that has failed
/// without a single success for five days, is disabled. Returns the disabled endpoints.
pub async fn record_health_batch(
    conn: &mut AsyncPgConnection,
    batch: &[crate::db::deliveries::Finished],
) -> QueryResult<Vec<i64>> {
    use crate::db::deliveries::EndpointVerdict;
    let mut healthy: Vec<i64> = Vec::new();
    let mut failing: Vec<i64> = Vec::new();
    let mut disable_now: Vec<(i64, &'static str)> = Vec::new();
    for finished in batch {
        match finished.verdict {
            EndpointVerdict::Healthy => healthy.push(finished.endpoint_id),
            EndpointVerdict::Failing => failing.push(finished.endpoint_id),
            EndpointVerdict::Disable(reason) => disable_now.push((finished.endpoint_id, reason)),
        }
    }
    healthy.sort_unstable();
    healthy.dedup();
    failing.sort_unstable();
    failing.dedup();
    // A success anywhere in the batch ends the endpoint's streak.
    failing.retain(|id| healthy.binary_search(id).is_err());
    if !healthy.is_empty() {
        diesel::update(endpoints::table.filter(endpoints::id.eq_any(&healthy)))
            .filter(endpoints::failing_since.is_not_null())
            .set(endpoints::failing_since.eq(None::<DateTime<Utc>>))
            .execute(conn)
            .await?;
    }
    let mut disabled = Vec::new();
    if !failing.is_empty() {
        let streaks: Vec<(i64, Option<DateTime<Utc>>)> =
            diesel::update(endpoints::table.filter(endpoints::id.eq_any(&failing)))
                .set(endpoints::failing_since.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
                >(
                    "COALESCE(failing_since, now())"
                )))
                .returning((endpoints::id, endpoints::failing_since))
                .get_results(conn)
                .await?;
        for (id, since) in streaks {
            if since.is_some_and(|s| Utc::now() - s > chrono::Duration::days(5)) {
                disable_now.push((id, "failing for 5 days without a success"));
            }
        }
    }
    for (id, reason) in disable_now {
        disable(conn, id, reason).await?;
        disabled.push(id);
    }
    Ok(disabled)
}

/// Active or not, the endpoints with these ids.
pub async fn by_ids(pool: &Pool, ids: &[i64]) -> Result<Vec<EndpointRow>, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(endpoints::table
        .filter(endpoints::id.eq_any(ids))
        .select(EndpointRow::as_select())
        .load(&mut conn)
        .await?)
}

/// Disables the endpoint, saying why.
pub async fn disable(conn: &mut AsyncPgConnection, id: i64, reason: &str) -> QueryResult<()> {
    diesel::update(endpoints::table.find(id))
        .set((
            endpoints::is_active.eq(false),
            endpoints::disabled_reason.eq(reason),
            endpoints::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes the endpoint with its deliveries and their attempts.
pub async fn delete(pool: &Pool, id: i64) -> Result<(), WebhookError> {
    let mut conn = pool.get().await?;
    diesel::delete(endpoints::table.find(id))
        .execute(&mut conn)
        .await?;
    Ok(())
}

fn filtered<'a>(orgs: &'a [i64], search: &'a [String]) -> endpoints::BoxedQuery<'a, Pg> {
    let mut query = endpoints::table
        .filter(endpoints::organization_id.eq_any(orgs))
        .into_boxed();
    for word in search {
        let pattern = clientstor_db::like_pattern(word);
        query = query.filter(
            endpoints::name
                .ilike(pattern.clone())
                .or(endpoints::url.ilike(pattern)),
        );
    }
    query
}

pub async fn list(
    pool: &Pool,
    orgs: &[i64],
    search: &[String],
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<EndpointRow>), WebhookError> {
    let mut conn = pool.get().await?;
    let count: i64 = filtered(orgs, search).count().get_result(&mut conn).await?;
    let mut query = filtered(orgs, search);
    query = clientstor_db::apply_ordering!(query, ordering, {
        "name" => endpoints::name,
        "url" => endpoints::url,
        "is_active" => endpoints::is_active,
        "created_at" => endpoints::created_at,
        "updated_at" => endpoints::updated_at,
        "id" => endpoints::id,
    });
    let rows = query
        .then_order_by(endpoints::id.asc())
        .select(EndpointRow::as_select())
        .offset(page.offset())
        .limit(page.limit())
        .load(&mut conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(pool: &Pool, orgs: &[i64], id: i64) -> Result<EndpointRow, WebhookError> {
    let mut conn = pool.get().await?;
    Ok(endpoints::table
        .filter(endpoints::id.eq(id))
        .filter(endpoints::organization_id.eq_any(orgs))
        .select(EndpointRow::as_select())
        .first(&mut conn)
        .await?)
}

/// Active endpoints of `org` subscribed to `event_type` (or to everything).
pub async fn subscribed(
    conn: &mut AsyncPgConnection,
    org: i64,
    event_type: &str,
) -> QueryResult<Vec<EndpointRow>> {
    let wanted = vec![event_type.to_string(), "*".to_string()];
    endpoints::table
        .filter(endpoints::organization_id.eq(org))
        .filter(endpoints::is_active.eq(true))
        .filter(endpoints::events.overlaps_with(wanted))
        .order(endpoints::id.asc())
        .select(EndpointRow::as_select())
        .load(conn)
        .await
}
