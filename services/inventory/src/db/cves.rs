//! The CVE store shared by every organization: records from the NVD or an imported file, the
//! prefilter of (vendor, product) pairs, and the KEV catalogue.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::schema::{cve_products, cves, kev, vulns_pending};
use crate::error::InventoryError;
use crate::vulns::matcher::vulnerable_products;
use crate::vulns::nvd::{Configuration, CveRecord};

/// A CVE as the matcher and the findings need it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cves, check_for_backend(diesel::pg::Pg))]
pub struct CveRow {
    pub cve_id: String,
    pub summary: String,
    pub published_at: Option<DateTime<Utc>>,
    pub cvss_score: Option<f64>,
    pub severity: Option<String>,
    pub known_exploited: bool,
    pub configurations: serde_json::Value,
}

impl CveRow {
    pub fn configurations(&self) -> Vec<Configuration> {
        serde_json::from_value(self.configurations.clone()).unwrap_or_default()
    }
}

/// Stores the records (a newer copy replaces an older one) and their prefilter rows; returns
/// how many were stored. The caller queues the assets with [`queue_all`] once it has stored
/// everything, so a long listing does not make the matcher start over after every page.
pub async fn store(
    conn: &mut AsyncPgConnection,
    records: &[CveRecord],
) -> Result<usize, InventoryError> {
    if records.is_empty() {
        return Ok(0);
    }
    let known: Vec<String> = kev::table
        .filter(kev::cve_id.eq_any(records.iter().map(|r| r.id.clone()).collect::<Vec<_>>()))
        .select(kev::cve_id)
        .load(conn)
        .await?;
    let now = Utc::now();
    conn.transaction(async |conn| {
        for chunk in records.chunks(500) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        cves::cve_id.eq(&r.id),
                        cves::summary.eq(&r.summary),
                        cves::published_at.eq(r.published),
                        cves::last_modified.eq(r.last_modified),
                        cves::cvss_score.eq(r.cvss_score),
                        cves::severity.eq(&r.severity),
                        cves::known_exploited.eq(r.in_kev || known.contains(&r.id)),
                        cves::rejected.eq(r.rejected),
                        cves::configurations
                            .eq(serde_json::to_value(&r.configurations).unwrap_or_default()),
                        cves::updated_at.eq(now),
                    )
                })
                .collect();
            diesel::insert_into(cves::table)
                .values(rows)
                .on_conflict(cves::cve_id)
                .do_update()
                .set((
                    cves::summary.eq(excluded(cves::summary)),
                    cves::published_at.eq(excluded(cves::published_at)),
                    cves::last_modified.eq(excluded(cves::last_modified)),
                    cves::cvss_score.eq(excluded(cves::cvss_score)),
                    cves::severity.eq(excluded(cves::severity)),
                    cves::known_exploited
                        .eq(cves::known_exploited.or(excluded(cves::known_exploited))),
                    cves::rejected.eq(excluded(cves::rejected)),
                    cves::configurations.eq(excluded(cves::configurations)),
                    cves::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            let ids: Vec<&String> = chunk.iter().map(|r| &r.id).collect();
            diesel::delete(cve_products::table.filter(cve_products::cve_id.eq_any(ids)))
                .execute(conn)
                .await?;
            let products: Vec<_> = chunk
                .iter()
                .filter(|r| !r.rejected)
                .flat_map(|r| {
                    vulnerable_products(&r.configurations)
                        .into_iter()
                        .map(|(vendor, product)| {
                            (
                                cve_products::vendor.eq(vendor),
                                cve_products::product.eq(product),
                                cve_products::cve_id.eq(r.id.clone()),
                            )
                        })
                })
                .collect();
            for rows in products.chunks(5000) {
                diesel::insert_into(cve_products::table)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(records.len())
}

/// Every asset is matched again (after the CVE data changed).
pub async fn queue_all(conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO inventory.vulns_pending (asset_id) SELECT id FROM inventory.assets \
         ON CONFLICT DO NOTHING",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the KEV catalogue and marks its CVEs known exploited; returns the entries stored.
pub async fn store_kev(
    conn: &mut AsyncPgConnection,
    entries: &[(String, Option<NaiveDate>, bool)],
) -> Result<usize, InventoryError> {
    conn.transaction(async |conn| {
        for chunk in entries.chunks(1000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(id, added, ransomware)| {
                    (
                        kev::cve_id.eq(id),
                        kev::date_added.eq(added),
                        kev::ransomware.eq(ransomware),
                    )
                })
                .collect();
            diesel::insert_into(kev::table)
                .values(rows)
                .on_conflict(kev::cve_id)
                .do_update()
                .set((
                    kev::date_added.eq(excluded(kev::date_added)),
                    kev::ransomware.eq(excluded(kev::ransomware)),
                ))
                .execute(conn)
                .await?;
        }
        let ids: Vec<&String> = entries.iter().map(|(id, _, _)| id).collect();
        let changed = diesel::update(
            cves::table
                .filter(cves::cve_id.eq_any(ids))
                .filter(cves::known_exploited.eq(false)),
        )
        .set(cves::known_exploited.eq(true))
        .execute(conn)
        .await?;
        if changed > 0 {
            queue_all(conn).await?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(entries.len())
}

/// The CVEs whose vulnerable criteria name one of `products` (vendor, product), not rejected.
pub async fn candidates(
    conn: &mut AsyncPgConnection,
    products: &[(String, String)],
) -> Result<HashMap<String, CveRow>, InventoryError> {
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let vendors: Vec<&String> = products.iter().map(|(v, _)| v).collect();
    let names: Vec<&String> = products.iter().map(|(_, p)| p).collect();
    // Pairs as two arrays; rows are then checked as pairs.
    let pairs: Vec<(String, String, String)> = cve_products::table
        .filter(cve_products::vendor.eq_any(&vendors))
        .filter(cve_products::product.eq_any(&names))
        .select((
            cve_products::vendor,
            cve_products::product,
            cve_products::cve_id,
        ))
        .load(conn)
        .await?;
    let mut ids: Vec<String> = pairs
        .into_iter()
        .filter(|(v, p, _)| products.iter().any(|(pv, pp)| pv == v && pp == p))
        .map(|(_, _, id)| id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(1000) {
        let rows: Vec<CveRow> = cves::table
            .filter(cves::cve_id.eq_any(chunk))
            .filter(cves::rejected.eq(false))
            .select(CveRow::as_select())
            .load(conn)
            .await?;
        out.extend(rows.into_iter().map(|r| (r.cve_id.clone(), r)));
    }
    Ok(out)
}

/// Takes up to `limit` pending assets (locked until the transaction ends).
pub async fn take_pending(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<i64>, InventoryError> {
    Ok(vulns_pending::table
        .select(vulns_pending::asset_id)
        .order(vulns_pending::asset_id)
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?)
}

pub async fn clear_pending(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<(), InventoryError> {
    diesel::delete(vulns_pending::table.filter(vulns_pending::asset_id.eq_any(ids)))
        .execute(conn)
        .await?;
    Ok(())
}
