//! Vulnerability findings: one row per (asset, CVE) ever found. The matcher inserts new ones
//! (with `vulnerability.found` in the same transaction), reopens resolved ones that match
//! again, and resolves open ones that no longer match; users may ignore one with a reason.

use chrono::{DateTime, Utc};
use clientstor_http::PageRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{assets, cves, vulnerability_findings as findings};
use crate::error::InventoryError;

pub const STATUSES: &[&str] = &["open", "resolved", "ignored"];

/// A finding with what the API shows of its CVE and asset.
#[derive(Debug, Clone, Queryable)]
pub struct FindingView {
    pub id: i64,
    pub organization_id: i64,
    pub asset_id: i64,
    pub cve_id: String,
    pub status: String,
    pub ignored_reason: Option<String>,
    pub matched_product: String,
    pub matched_version: String,
    pub source: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub summary: String,
    pub severity: Option<String>,
    pub cvss_score: Option<f64>,
    pub known_exploited: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub asset_name: String,
}

type ViewColumns = (
    findings::id,
    findings::organization_id,
    findings::asset_id,
    findings::cve_id,
    findings::status,
    findings::ignored_reason,
    findings::matched_product,
    findings::matched_version,
    findings::source,
    findings::resolved_at,
    findings::created_at,
    findings::updated_at,
    cves::summary,
    cves::severity,
    cves::cvss_score,
    cves::known_exploited,
    cves::published_at,
    assets::name,
);

const VIEW: ViewColumns = (
    findings::id,
    findings::organization_id,
    findings::asset_id,
    findings::cve_id,
    findings::status,
    findings::ignored_reason,
    findings::matched_product,
    findings::matched_version,
    findings::source,
    findings::resolved_at,
    findings::created_at,
    findings::updated_at,
    cves::summary,
    cves::severity,
    cves::cvss_score,
    cves::known_exploited,
    cves::published_at,
    assets::name,
);

pub const ORDERING_FIELDS: &[&str] = &[
    "id",
    "cve_id",
    "status",
    "cvss",
    "cvss_score",
    "published",
    "published_at",
    "severity",
    "created_at",
    "updated_at",
];

#[derive(Debug, Default)]
pub struct FindingFilter {
    pub search: Vec<String>,
    pub asset: Option<i64>,
    pub severity: Option<String>,
    pub cvss_min: Option<f64>,
    pub known_exploited: Option<bool>,
    pub status: Option<String>,
    pub cve_id: Option<String>,
}

type Joined =
    diesel::dsl::InnerJoin<diesel::dsl::InnerJoin<findings::table, cves::table>, assets::table>;

fn filtered<'a>(orgs: &'a [i64], f: &'a FindingFilter) -> diesel::dsl::IntoBoxed<'a, Joined, Pg> {
    let mut query = findings::table
        .inner_join(cves::table)
        .inner_join(assets::table)
        .filter(findings::organization_id.eq_any(orgs))
        .into_boxed();
    for word in &f.search {
        query = query.filter(findings::cve_id.ilike(clientstor_db::like_pattern(word)));
    }
    if let Some(v) = f.asset {
        query = query.filter(findings::asset_id.eq(v));
    }
    if let Some(v) = &f.severity {
        query = query.filter(cves::severity.eq(v));
    }
    if let Some(v) = f.cvss_min {
        query = query.filter(cves::cvss_score.ge(v));
    }
    if let Some(v) = f.known_exploited {
        query = query.filter(cves::known_exploited.eq(v));
    }
    if let Some(v) = &f.status {
        query = query.filter(findings::status.eq(v));
    }
    if let Some(v) = &f.cve_id {
        query = query.filter(findings::cve_id.eq(v.to_uppercase()));
    }
    query
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    orgs: &[i64],
    filter: &FindingFilter,
    ordering: &[(String, bool)],
    page: PageRequest,
) -> Result<(i64, Vec<FindingView>), InventoryError> {
    let count: i64 = filtered(orgs, filter).count().get_result(conn).await?;
    let query = clientstor_db::apply_ordering!(filtered(orgs, filter), ordering, {
        "id" => findings::id, "cve_id" => findings::cve_id, "status" => findings::status,
        "cvss" => cves::cvss_score, "cvss_score" => cves::cvss_score,
        "published" => cves::published_at, "published_at" => cves::published_at,
        "severity" => cves::severity, "created_at" => findings::created_at,
        "updated_at" => findings::updated_at,
    });
    let rows = query
        .then_order_by(findings::id.asc())
        .select(VIEW)
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)
        .await?;
    Ok((count, rows))
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    orgs: &[i64],
    id: i64,
) -> Result<FindingView, InventoryError> {
    Ok(filtered(orgs, &FindingFilter::default())
        .filter(findings::id.eq(id))
        .select(VIEW)
        .first(conn)
        .await?)
}

/// Marks a finding ignored (with the reason) or open again.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    reason: Option<&str>,
) -> Result<(), InventoryError> {
    diesel::update(findings::table.find(id))
        .set((
            findings::status.eq(status),
            findings::ignored_reason.eq(reason),
            findings::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What the matcher found on one asset.
#[derive(Debug, Clone)]
pub struct Matched {
    pub cve_id: String,
    pub product: String,
    pub version: String,
    pub source: String,
}

/// Brings the asset's findings in line with `matched`; returns the matches that are new.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    organization_id: i64,
    asset_id: i64,
    matched: &[Matched],
) -> Result<Vec<Matched>, InventoryError> {
    let existing: Vec<(i64, String, String)> = findings::table
        .filter(findings::asset_id.eq(asset_id))
        .select((findings::id, findings::cve_id, findings::status))
        .load(conn)
        .await?;
    let now = Utc::now();
    let mut new = Vec::new();
    for m in matched {
        match existing.iter().find(|(_, cve, _)| *cve == m.cve_id) {
            None => new.push(m.clone()),
            Some((id, _, status)) if status == "resolved" => {
                diesel::update(findings::table.find(id))
                    .set((
                        findings::status.eq("open"),
                        findings::resolved_at.eq(None::<DateTime<Utc>>),
                        findings::matched_product.eq(&m.product),
                        findings::matched_version.eq(&m.version),
                        findings::source.eq(&m.source),
                        findings::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
            }
            Some(_) => {}
        }
    }
    if !new.is_empty() {
        let rows: Vec<_> = new
            .iter()
            .map(|m| {
                (
                    findings::organization_id.eq(organization_id),
                    findings::asset_id.eq(asset_id),
                    findings::cve_id.eq(&m.cve_id),
                    findings::matched_product.eq(&m.product),
                    findings::matched_version.eq(&m.version),
                    findings::source.eq(&m.source),
                )
            })
            .collect();
        diesel::insert_into(findings::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    let gone: Vec<i64> = existing
        .iter()
        .filter(|(_, cve, status)| status == "open" && !matched.iter().any(|m| m.cve_id == *cve))
        .map(|(id, _, _)| *id)
        .collect();
    if !gone.is_empty() {
        diesel::update(findings::table.filter(findings::id.eq_any(gone)))
            .set((
                findings::status.eq("resolved"),
                findings::resolved_at.eq(now),
                findings::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    Ok(new)
}
