//! The matcher: takes pending assets in batches (locked, so replicas share the work), computes
//! what each runs (OS, firmware, software; see `vulns::products`), evaluates the CVEs whose
//! vulnerable criteria name those products, and brings the findings in line, writing
//! `vulnerability.found` for each new (asset, CVE) in the same transaction.

use std::collections::HashMap;

use clientstor_db::Pool;
use clientstor_events::v1::VulnerabilityFound;
use clientstor_events::{Organization, Payload, new_envelope};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::SCHEMA;
use crate::db::assets::AssetRow;
use crate::db::cves::{self, CveRow};
use crate::db::findings::{self, Matched};
use crate::db::schema::assets;
use crate::db::software::{self, SoftwareRow};
use crate::error::InventoryError;
use crate::vulns::matcher::evaluate;
use crate::vulns::products::{AssetFacts, Product, SoftwareItem, products_of};

const BATCH: i64 = 200;

fn products(asset: &AssetRow, software: &[&SoftwareRow]) -> Vec<Product> {
    let facts = AssetFacts {
        manufacturer: asset.manufacturer.as_deref(),
        model: asset.model.as_deref(),
        os_name: asset.os_name.as_deref(),
        os_version: asset.os_version.as_deref(),
        firmware_version: asset.firmware_version.as_deref(),
    };
    let items: Vec<SoftwareItem<'_>> = software
        .iter()
        .map(|s| SoftwareItem {
            name: &s.name,
            vendor: s.vendor.as_deref(),
            version: s.version.as_deref(),
            cpe: s.cpe.as_deref(),
        })
        .collect();
    products_of(&facts, &items)
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn event(
    asset: &AssetRow,
    org_name: &str,
    cve: &CveRow,
    m: &Matched,
) -> clientstor_events::Envelope {
    new_envelope(
        clientstor_events::types::VULNERABILITY_FOUND,
        "inventory",
        Organization {
            id: asset.organization_id,
            name: org_name.to_string(),
        },
        Payload::VulnerabilityFound(VulnerabilityFound {
            cve_id: cve.cve_id.clone(),
            summary: cve.summary.clone(),
            severity: cve.severity.clone().unwrap_or_default(),
            cvss_score: cve.cvss_score,
            known_exploited: cve.known_exploited,
            published_at: cve.published_at.map(rfc3339).unwrap_or_default(),
            asset_id: asset.id,
            asset_name: asset.name.clone(),
            matched_product: m.product.clone(),
            matched_version: m.version.clone(),
            matched_source: m.source.clone(),
        }),
    )
}

/// Matches one batch of pending assets; returns how many were taken and whether events were
/// written.
pub async fn pass(pool: &Pool) -> Result<(usize, bool), InventoryError> {
    let mut conn = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let (taken, wrote) = conn
        .transaction(async |conn| {
            let ids = cves::take_pending(conn, BATCH).await?;
            if ids.is_empty() {
                return Ok::<_, InventoryError>((0, false));
            }
            let rows: Vec<AssetRow> = assets::table
                .filter(assets::id.eq_any(&ids))
                .select(AssetRow::as_select())
                .load(conn)
                .await?;
            let software = software::of_assets(conn, &ids).await?;
            let per_asset: Vec<(&AssetRow, Vec<Product>)> = rows
                .iter()
                .map(|a| {
                    let mine: Vec<&SoftwareRow> =
                        software.iter().filter(|s| s.asset_id == a.id).collect();
                    (a, products(a, &mine))
                })
                .collect();
            let mut wanted: Vec<(String, String)> = per_asset
                .iter()
                .flat_map(|(_, ps)| ps.iter().map(|p| (p.vendor.clone(), p.product.clone())))
                .collect();
            wanted.sort_unstable();
            wanted.dedup();
            let candidates = cves::candidates(conn, &wanted).await?;
            let configurations: HashMap<&str, _> = candidates
                .iter()
                .map(|(id, cve)| (id.as_str(), cve.configurations()))
                .collect();
            let mut names: HashMap<i64, String> = HashMap::new();
            let mut events = Vec::new();
            for (asset, products) in &per_asset {
                let mut matched = Vec::new();
                for (id, configs) in &configurations {
                    if let Some(i) = evaluate(configs, products) {
                        let p = &products[i];
                        matched.push(Matched {
                            cve_id: (*id).to_string(),
                            product: p.display.clone(),
                            version: p.version.clone(),
                            source: p.source.to_string(),
                        });
                    }
                }
                let new = findings::apply(conn, asset.organization_id, asset.id, &matched).await?;
                if new.is_empty() {
                    continue;
                }
                let org_name = match names.get(&asset.organization_id) {
                    Some(name) => name.clone(),
                    None => {
                        let name = clientstor_runtime::organizations::name(
                            conn,
                            SCHEMA,
                            asset.organization_id,
                        )
                        .await?;
                        names.insert(asset.organization_id, name.clone());
                        name
                    }
                };
                for m in &new {
                    if let Some(cve) = candidates.get(&m.cve_id) {
                        events.push(event(asset, &org_name, cve, m));
                    }
                }
            }
            clientstor_bus::enqueue_many(conn, SCHEMA, &events).await?;
            cves::clear_pending(conn, &ids).await?;
            Ok((ids.len(), !events.is_empty()))
        })
        .await?;
    Ok((taken, wrote))
}

/// Assets of `orgs` waiting for the matcher, shown with a feed sync's status. The sync is the
/// whole platform's, but the count is only ever of the caller's organizations: other tenants'
/// assets are not theirs to count.
pub async fn pending(conn: &mut AsyncPgConnection, orgs: &[i64]) -> Result<i64, InventoryError> {
    use crate::db::schema::vulns_pending;
    Ok(vulns_pending::table
        .inner_join(assets::table.on(assets::id.eq(vulns_pending::asset_id)))
        .filter(assets::organization_id.eq_any(orgs))
        .count()
        .get_result(conn)
        .await?)
}
