//! Asset queries. Every read is filtered to the organizations the caller reaches, and every
//! change writes its event to the outbox in the same transaction.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use clientstor_db::Pool;
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::list_cache::{self, Answer, ListCache};
use super::schema::assets;
use crate::SCHEMA;
use crate::error::InventoryError;
use crate::events::asset_event;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assets, check_for_backend(Pg))]
pub struct AssetRow {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub asset_type: String,
    pub serial_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub asset_tag: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub hostname: Option<String>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub firmware_version: Option<String>,
    pub cpu: Option<String>,
    pub ram_gb: Option<i32>,
    pub storage: Option<String>,
    pub status: String,
    pub purchase_date: Option<NaiveDate>,
    pub warranty_expiry: Option<NaiveDate>,
    pub location: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub notes: String,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Value,
    pub needs_reorder: bool,
    pub source: Option<serde_json::Value>,
    pub created_by: Option<i64>,
}

/// Everything a client writes; `None` clears a field.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = assets, treat_none_as_null = true)]
pub struct AssetFields {
    pub name: String,
    pub asset_type: String,
    pub asset_tag: Option<String>,
    pub serial_number: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub hostname: Option<String>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub firmware_version: Option<String>,
    pub cpu: Option<String>,
    pub ram_gb: Option<i32>,
    pub storage: Option<String>,
    pub status: String,
    pub purchase_date: Option<NaiveDate>,
    pub warranty_expiry: Option<NaiveDate>,
    pub location: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub notes: String,
    pub tags: Vec<String>,
    pub custom_fields: serde_json::Value,
    pub needs_reorder: bool,
}

/// Fields a list may be ordered by: every scalar field the API returns.
pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "name",
    "asset_type",
    "asset_tag",
    "serial_number",
    "manufacturer",
    "model",
    "hostname",
    "ip_address",
    "mac_address",
    "os_name",
    "os_version",
    "firmware_version",
    "cpu",
    "ram_gb",
    "storage",
    "status",
    "purchase_date",
    "warranty_expiry",
    "location",
    "latitude",
    "longitude",
    "needs_reorder",
    "created_by",
    "created_at",
    "updated_at",
    "organization",
];

/// List filters, all optional.
#[derive(Debug, Default)]
pub struct AssetFilter {
    pub search: Vec<String>,
    pub asset_type: Option<String>,
    pub status: Option<String>,
    pub manufacturer: Option<String>,
    pub needs_reorder: Option<bool>,
    pub tag: Option<String>,
    pub serial_number: Option<String>,
    pub hostname: Option<String>,
    pub ip_address: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
}

type Representation = dyn Fn(&AssetRow, &str) -> serde_json::Value + Sync;

/// Inserts the assets and one `asset.created` each, all in one transaction (all or nothing).
pub async fn create_many(
    pool: &Pool,
    organization_id: i64,
    created_by: i64,
    items: Vec<AssetFields>,
    represent: &Representation,
) -> Result<(Vec<AssetRow>, String), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| {
            let org_name =
                clientstor_runtime::organizations::name(conn, SCHEMA, organization_id).await?;
            let rows: Vec<AssetRow> = diesel::insert_into(assets::table)
                .values(
                    items
                        .iter()
                        .map(|f| {
                            (
                                assets::organization_id.eq(organization_id),
                                assets::created_by.eq(created_by),
                                f,
                            )
                        })
                        .collect::<Vec<_>>(),
                )
                .returning(AssetRow::as_returning())
                .get_results(conn)
                .await?;
            let events: Vec<_> = rows
                .iter()
                .map(|row| {
                    let representation = Some(represent(row, &org_name));
                    asset_event(
                        clientstor_events::types::ASSET_CREATED,
                        row,
                        &org_name,
                        representation,
                        None,
                    )
                })
                .collect();
            clientstor_bus::enqueue_many(conn, SCHEMA, &events).await?;
            Ok::<_, diesel::result::Error>((rows, org_name))
        })
        .await?)
}

/// Replaces the asset's fields and writes `asset.updated` with what changed, in one transaction.
pub async fn update(
    pool: &Pool,
    before: &AssetRow,
    fields: AssetFields,
    represent: &Representation,
) -> Result<(AssetRow, String), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    Ok(conn
        .transaction(async |conn| {
            let row: AssetRow = diesel::update(assets::table.find(before.id))
                .set((&fields, assets::updated_at.eq(Utc::now())))
                .returning(AssetRow::as_returning())
                .get_result(conn)
                .await?;
            let org_name =
                clientstor_runtime::organizations::name(conn, SCHEMA, row.organization_id).await?;
            let (old, new) = (represent(before, &org_name), represent(&row, &org_name));
            let changes = changes(&old, &new);
            let event = asset_event(
                clientstor_events::types::ASSET_UPDATED,
                &row,
                &org_name,
                Some(new),
                Some(changes),
            );
            clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
            Ok::<_, diesel::result::Error>((row, org_name))
        })
        .await?)
}

/// `{"field": [old, new]}` for every field that differs, leaving out the timestamps.
pub(crate) fn changes(old: &serde_json::Value, new: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let (Some(old), Some(new)) = (old.as_object(), new.as_object()) {
        for (field, value) in new {
            if field == "updated_at" {
                continue;
            }
            let before = old.get(field).cloned().unwrap_or_default();
            if &before != value {
                out.insert(field.clone(), serde_json::json!([before, value]));
            }
        }
    }
    serde_json::Value::Object(out)
}

/// Deletes the asset and writes `asset.deleted`, in one transaction.
pub async fn delete(pool: &Pool, id: i64) -> Result<(), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    conn.transaction(async |conn| {
        let row: AssetRow = diesel::delete(assets::table.find(id))
            .returning(AssetRow::as_returning())
            .get_result(conn)
            .await?;
        let org_name =
            clientstor_runtime::organizations::name(conn, SCHEMA, row.organization_id).await?;
        let event = asset_event(
            clientstor_events::types::ASSET_DELETED,
            &row,
            &org_name,
            None,
            None,
        );
        clientstor_bus::enqueue(conn, SCHEMA, &event).await?;
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}

diesel::define_sql_function! {
    /// Position of `needle` in `haystack`, 0 when absent; never served by the trigram index.
    fn strpos(haystack: diesel::sql_types::Nullable<diesel::sql_types::Text>, needle: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

/// The filtered assets of `orgs`. Search words match `search_text` (every search field,
/// lower-cased) through the trigram index, or, with `scan`, by reading the organizations' rows.
fn filtered<'a>(
    orgs: &'a [i64],
    filter: &'a AssetFilter,
    scan: bool,
) -> assets::BoxedQuery<'a, Pg> {
    let mut query = assets::table
        .filter(assets::organization_id.eq_any(orgs))
        .into_boxed();
    for word in &filter.search {
        let word = word.to_lowercase();
        query = if scan {
            query.filter(strpos(assets::search_text, word).gt(0))
        } else {
            query.filter(assets::search_text.like(clientstor_db::like_pattern(&word)))
        };
    }
    if let Some(v) = &filter.asset_type {
        query = query.filter(assets::asset_type.eq(v));
    }
    if let Some(v) = &filter.status {
        query = query.filter(assets::status.eq(v));
    }
    if let Some(v) = &filter.manufacturer {
        query = query.filter(
            assets::manufacturer.ilike(
                v.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_"),
            ),
        );
    }
    if let Some(v) = filter.needs_reorder {
        query = query.filter(assets::needs_reorder.eq(v));
    }
    if let Some(v) = &filter.tag {
        query = query.filter(assets::tags.contains(vec![v.clone()]));
    }
    if let Some(v) = &filter.serial_number {
        query = query.filter(assets::serial_number.eq(v));
    }
    if let Some(v) = &filter.hostname {
        query = query.filter(assets::hostname.eq(v));
    }
    if let Some(v) = &filter.ip_address {
        query = query.filter(assets::ip_address.eq(v));
    }
    if let Some(v) = filter.created_after {
        query = query.filter(assets::created_at.ge(v));
    }
    if let Some(v) = filter.created_before {
        query = query.filter(assets::created_at.lt(v));
    }
    if let Some(v) = filter.updated_after {
        query = query.filter(assets::updated_at.ge(v));
    }
    if let Some(v) = filter.updated_before {
        query = query.filter(assets::updated_at.lt(v));
    }
    query
}

/// The asset columns a list can be ordered by, with `id` given (see [`ordered`]).
macro_rules! asset_ordering {
    ($query:expr, $ordering:expr, $id:expr) => {
        clientstor_db::apply_ordering!($query, $ordering, {
            "id" => $id, "name" => assets::name, "asset_type" => assets::asset_type,
            "asset_tag" => assets::asset_tag, "serial_number" => assets::serial_number,
            "manufacturer" => assets::manufacturer, "model" => assets::model, "hostname" => assets::hostname,
            "ip_address" => assets::ip_address, "mac_address" => assets::mac_address, "os_name" => assets::os_name,
            "os_version" => assets::os_version, "firmware_version" => assets::firmware_version, "cpu" => assets::cpu,
            "ram_gb" => assets::ram_gb, "storage" => assets::storage, "status" => assets::status,
            "purchase_date" => assets::purchase_date, "warranty_expiry" => assets::warranty_expiry,
            "location" => assets::location, "latitude" => assets::latitude, "longitude" => assets::longitude,
            "needs_reorder" => assets::needs_reorder, "created_by" => assets::created_by,
            "created_at" => assets::created_at, "updated_at" => assets::updated_at,
            "organization" => assets::organization_id,
        })
    };
}

/// The ordering, with `id` as the last key so that pages never overlap. In `scan` mode the id is
/// ordered as `id + 0`: otherwise the planner may walk the whole primary key looking for the
/// few rows of a rare term, where reading the reach's rows and sorting them is bounded.
fn ordered<'a>(
    query: assets::BoxedQuery<'a, Pg>,
    ordering: &[(String, bool)],
    scan: bool,
) -> assets::BoxedQuery<'a, Pg> {
    if scan {
        asset_ordering!(query, ordering, assets::id + 0_i64)
            .then_order_by((assets::id + 0_i64).asc())
    } else {
        asset_ordering!(query, ordering, assets::id).then_order_by(assets::id.asc())
    }
}

/// One page of the assets of `orgs`, with the total count. The count and the page's ids come
/// from `cache` while the organizations' data has not changed; the rows are read fresh.
///
/// Up to `scan_reach` assets in reach, a search reads the organizations' rows instead of the
/// trigram index: bounded work, where a term made of common trigrams (digits of serial numbers)
/// would walk long posting lists of the whole table.
pub async fn list(
    pool: &Pool,
    cache: &ListCache,
    scan_reach: i64,
    orgs: &[i64],
    filter: &AssetFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<AssetRow>), InventoryError> {
    let mut conn = pool.get().await?;
    let version = list_cache::version(&mut conn, orgs).await?;
    let scan = if filter.search.is_empty() {
        false
    } else {
        let size = cache
            .size(format!("{orgs:?}"), version, async {
                let n: i64 = assets::table
                    .filter(assets::organization_id.eq_any(orgs))
                    .count()
                    .get_result(&mut conn)
                    .await?;
                Ok(n)
            })
            .await?;
        size <= scan_reach
    };
    let question = format!(
        "{orgs:?}|{filter:?}|{ordering:?}|{}|{}",
        page.offset(),
        page.limit()
    );
    let mut computed = None;
    let answer = cache
        .answer(question, version, async {
            let count: i64 = filtered(orgs, filter, scan)
                .count()
                .get_result(&mut conn)
                .await?;
            let rows: Vec<AssetRow> = ordered(filtered(orgs, filter, scan), ordering, scan)
                .select(AssetRow::as_select())
                .offset(page.offset())
                .limit(page.limit())
                .load(&mut conn)
                .await?;
            let ids = rows.iter().map(|r| r.id).collect();
            computed = Some(rows);
            Ok(Answer {
                count,
                ids: Arc::new(ids),
            })
        })
        .await?;
    if let Some(rows) = computed {
        return Ok((answer.count, rows));
    }
    let mut rows: Vec<AssetRow> = assets::table
        .filter(assets::id.eq_any(answer.ids.as_slice()))
        .filter(assets::organization_id.eq_any(orgs))
        .select(AssetRow::as_select())
        .load(&mut conn)
        .await?;
    rows.sort_by_key(|row| answer.ids.iter().position(|id| *id == row.id));
    Ok((answer.count, rows))
}

/// The asset, if it belongs to one of `orgs`.
pub async fn get(pool: &Pool, orgs: &[i64], id: i64) -> Result<AssetRow, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(assets::table
        .filter(assets::id.eq(id))
        .filter(assets::organization_id.eq_any(orgs))
        .select(AssetRow::as_select())
        .first(&mut conn)
        .await?)
}

/// Organization names for a set of rows.
pub async fn organization_names(
    pool: &Pool,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, InventoryError> {
    let mut conn = pool.get().await?;
    Ok(clientstor_runtime::organizations::names(&mut conn, SCHEMA, ids).await?)
}
