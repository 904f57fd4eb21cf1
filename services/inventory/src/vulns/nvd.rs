//! Reading NVD CVE API 2.0 responses into [`CveRecord`]s.
//!
//! Each record is read on its own: one record NVD publishes in an unexpected shape must not
//! stop the poll from seeing the other 1,999 on the page, so it becomes an `Err` naming the CVE
//! while the page still parses. NVD timestamps carry no offset and are UTC.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cpe::{self, Cpe};

/// How a node combines its matches, or a configuration its nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    And,
    Or,
}

/// One `cpeMatch` entry: a CPE pattern plus an optional version range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpeMatch {
    /// `false` for "running on" platforms, which only make a configuration apply.
    pub vulnerable: bool,
    pub criteria: Cpe,
    pub start_including: Option<String>,
    pub start_excluding: Option<String>,
    pub end_including: Option<String>,
    pub end_excluding: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub operator: Operator,
    pub negate: bool,
    pub matches: Vec<CpeMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    pub operator: Operator,
    pub negate: bool,
    pub nodes: Vec<Node>,
}

/// The parts of an NVD CVE that alerting and matching need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CveRecord {
    pub id: String,
    /// The English description (the first one when there is none in English).
    pub summary: String,
    pub published: Option<DateTime<Utc>>,
    pub last_modified: Option<DateTime<Utc>>,
    /// Base score of the newest CVSS version present (4.0, 3.1, 3.0, 2), NVD's "Primary"
    /// metric first.
    pub cvss_score: Option<f64>,
    /// Lower-case `critical|high|medium|low|none`, from the same metric as the score.
    pub severity: Option<String>,
    /// Empty while NVD has not analysed the CVE yet.
    pub configurations: Vec<Configuration>,
    /// NVD copies `cisaExploitAdd` from CISA's KEV catalog.
    pub in_kev: bool,
    pub rejected: bool,
}

/// One page of `GET /rest/json/cves/2.0`. Page on with `start_index += results_per_page` while
/// `start_index < total_results`.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdPage {
    pub results_per_page: u64,
    pub start_index: u64,
    pub total_results: u64,
    pub records: Vec<Result<CveRecord, String>>,
}

impl NvdPage {
    /// The `startIndex` of the next page, `None` after the last one.
    pub fn next_start_index(&self) -> Option<u64> {
        let next = self.start_index.saturating_add(self.results_per_page);
        (self.results_per_page > 0 && next < self.total_results).then_some(next)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    results_per_page: u64,
    start_index: u64,
    total_results: u64,
    #[serde(default)]
    vulnerabilities: Vec<Value>,
}

/// Parses an NVD CVE API 2.0 response page. Fails only when the body is not such a page (for
/// example an error document); unreadable records are `Err` entries in `records`.
pub fn parse_page(body: &[u8]) -> Result<NvdPage, String> {
    let raw: RawPage = serde_json::from_slice(body)
        .map_err(|e| format!("not an NVD CVE API 2.0 response: {e}"))?;
    Ok(NvdPage {
        results_per_page: raw.results_per_page,
        start_index: raw.start_index,
        total_results: raw.total_results,
        records: raw.vulnerabilities.into_iter().map(parse_item).collect(),
    })
}

/// Parses a file for `inventory import-cves`: an NVD 2.0 API response page (or a data feed
/// file of the same shape; the paging counts are not needed), or a JSON array of
/// `{"cve": {...}}` items. Bare CVE objects in the array are accepted too.
pub fn parse_records(body: &[u8]) -> Result<Vec<Result<CveRecord, String>>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("vulnerabilities") {
            Some(Value::Array(items)) => items,
            _ => return Err("expected an NVD response with a \"vulnerabilities\" array".into()),
        },
        _ => return Err("expected an NVD response object or an array of CVE items".into()),
    };
    Ok(items.into_iter().map(parse_item).collect())
}

/// Reads one `vulnerabilities[]` item (`{"cve": {...}}`) or a bare CVE object.
fn parse_item(item: Value) -> Result<CveRecord, String> {
    let cve = match item {
        Value::Object(mut object) => match object.remove("cve") {
            Some(cve) => cve,
            None => Value::Object(object),
        },
        other => other,
    };
    let id = cve.get("id").and_then(Value::as_str).map(str::to_owned);
    let name = || {
        id.clone()
            .unwrap_or_else(|| "record without a CVE id".to_owned())
    };
    let raw: RawCve = serde_json::from_value(cve).map_err(|e| format!("{}: {e}", name()))?;
    convert(raw).map_err(|e| format!("{}: {e}", name()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    vuln_status: Option<String>,
    #[serde(default)]
    descriptions: Vec<RawDescription>,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    configurations: Vec<RawConfiguration>,
    #[serde(default)]
    cisa_exploit_add: Option<Value>,
}

#[derive(Deserialize)]
struct RawDescription {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    #[serde(default, rename = "cvssMetricV40")]
    v40: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV31")]
    v31: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV30")]
    v30: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV2")]
    v2: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    cvss_data: RawCvssData,
    /// CVSS v2 metrics carry the severity here rather than in `cvssData`.
    #[serde(default)]
    base_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    #[serde(default)]
    base_score: Option<f64>,
    #[serde(default)]
    base_severity: Option<String>,
}

#[derive(Deserialize)]
struct RawConfiguration {
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default, rename = "cpeMatch")]
    cpe_match: Vec<RawCpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCpeMatch {
    vulnerable: bool,
    criteria: String,
    #[serde(default)]
    version_start_including: Option<String>,
    #[serde(default)]
    version_start_excluding: Option<String>,
    #[serde(default)]
    version_end_including: Option<String>,
    #[serde(default)]
    version_end_excluding: Option<String>,
}

fn convert(raw: RawCve) -> Result<CveRecord, String> {
    let summary = raw
        .descriptions
        .iter()
        .find(|d| d.lang.eq_ignore_ascii_case("en"))
        .or_else(|| raw.descriptions.first())
        .map(|d| d.value.clone())
        .unwrap_or_default();
    let published = raw.published.as_deref().map(parse_timestamp).transpose()?;
    let last_modified = raw
        .last_modified
        .as_deref()
        .map(parse_timestamp)
        .transpose()?;
    let (cvss_score, severity) = score(&raw.metrics);
    // An unreadable criterion fails the record: dropping it would silently widen an AND node
    // (false matches) or narrow an OR node (missed matches).
    let configurations = raw
        .configurations
        .into_iter()
        .map(convert_configuration)
        .collect::<Result<_, _>>()?;
    Ok(CveRecord {
        id: raw.id,
        summary,
        published,
        last_modified,
        cvss_score,
        severity,
        configurations,
        in_kev: raw.cisa_exploit_add.is_some(),
        rejected: raw
            .vuln_status
            .is_some_and(|s| s.eq_ignore_ascii_case("rejected")),
    })
}

/// NVD writes `2024-11-12T18:15:22.310` (UTC, no offset); an explicit offset is honoured too.
fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Ok(with_offset.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .map_err(|e| format!("invalid timestamp {text:?}: {e}"))
}

/// The score and severity of the first metric of the newest CVSS version present.
fn score(metrics: &RawMetrics) -> (Option<f64>, Option<String>) {
    let versions = [&metrics.v40, &metrics.v31, &metrics.v30, &metrics.v2];
    let Some(list) = versions.into_iter().find(|list| !list.is_empty()) else {
        return (None, None);
    };
    let metric = list
        .iter()
        .find(|m| {
            m.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("primary"))
        })
        .or_else(|| list.first());
    let Some(metric) = metric else {
        return (None, None);
    };
    let score = metric.cvss_data.base_score;
    let severity = metric
        .cvss_data
        .base_severity
        .as_deref()
        .or(metric.base_severity.as_deref())
        .map(str::to_lowercase)
        .or_else(|| score.map(|s| severity_for_score(s).to_owned()));
    (score, severity)
}

/// CVSS v3 qualitative bands, used when NVD gives a score without a severity.
pub fn severity_for_score(score: f64) -> &'static str {
    if score <= 0.0 {
        "none"
    } else if score < 4.0 {
        "low"
    } else if score < 7.0 {
        "medium"
    } else if score < 9.0 {
        "high"
    } else {
        "critical"
    }
}

fn parse_operator(text: Option<&str>) -> Result<Operator, String> {
    match text {
        None => Ok(Operator::Or),
        Some(op) if op.eq_ignore_ascii_case("or") => Ok(Operator::Or),
        Some(op) if op.eq_ignore_ascii_case("and") => Ok(Operator::And),
        Some(op) => Err(format!("unknown operator {op:?}")),
    }
}

fn convert_configuration(raw: RawConfiguration) -> Result<Configuration, String> {
    Ok(Configuration {
        operator: parse_operator(raw.operator.as_deref())?,
        negate: raw.negate,
        nodes: raw
            .nodes
            .into_iter()
            .map(convert_node)
            .collect::<Result<_, _>>()?,
    })
}

fn convert_node(raw: RawNode) -> Result<Node, String> {
    Ok(Node {
        operator: parse_operator(raw.operator.as_deref())?,
        negate: raw.negate,
        matches: raw
            .cpe_match
            .into_iter()
            .map(convert_match)
            .collect::<Result<_, _>>()?,
    })
}

fn convert_match(raw: RawCpeMatch) -> Result<CpeMatch, String> {
    let criteria =
        cpe::parse(&raw.criteria).ok_or_else(|| format!("invalid CPE {:?}", raw.criteria))?;
    let bound = |b: Option<String>| b.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(CpeMatch {
        vulnerable: raw.vulnerable,
        criteria,
        start_including: bound(raw.version_start_including),
        start_excluding: bound(raw.version_start_excluding),
        end_including: bound(raw.version_end_including),
        end_excluding: bound(raw.version_end_excluding),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;

    use super::*;

    /// The example response from external-apis.md section 6.1.
    pub(crate) const EXAMPLE: &str = r#"{
      "resultsPerPage": 1,
      "startIndex": 0,
      "totalResults": 1,
      "format": "NVD_CVE",
      "version": "2.0",
      "timestamp": "2024-11-18T15:02:11.417",
      "vulnerabilities": [
        {
          "cve": {
            "id": "CVE-2024-99999",
            "sourceIdentifier": "secure@vendor.example",
            "published": "2024-11-12T18:15:22.310",
            "lastModified": "2024-11-15T20:41:07.007",
            "vulnStatus": "Analyzed",
            "descriptions": [ { "lang": "en", "value": "Remote code execution in Example Widget before 4.2.1." } ],
            "metrics": {
              "cvssMetricV31": [ {
                "source": "nvd@nist.gov", "type": "Primary",
                "cvssData": { "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL" },
                "exploitabilityScore": 3.9, "impactScore": 5.9
              } ]
            },
            "weaknesses": [ { "source": "nvd@nist.gov", "type": "Primary", "description": [ { "lang": "en", "value": "CWE-787" } ] } ],
            "configurations": [ {
              "nodes": [ {
                "operator": "OR", "negate": false,
                "cpeMatch": [ {
                  "vulnerable": true,
                  "criteria": "cpe:2.3:a:example:widget:*:*:*:*:*:*:*:*",
                  "versionStartIncluding": "4.0.0",
                  "versionEndExcluding": "4.2.1",
                  "matchCriteriaId": "A1B2C3D4-0000-4000-8000-123456789ABC"
                } ]
              } ]
            } ],
            "references": [ { "url": "https://vendor.example/advisories/2024-11", "source": "secure@vendor.example", "tags": ["Vendor Advisory"] } ],
            "cisaExploitAdd": "2024-11-14",
            "cisaActionDue": "2024-12-05",
            "cisaRequiredAction": "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.",
            "cisaVulnerabilityName": "Example Widget Remote Code Execution Vulnerability"
          }
        }
      ]
    }"#;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
            + chrono::Duration::milliseconds(i64::from(ms))
    }

    #[test]
    fn parses_the_reference_example() {
        let page = parse_page(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(
            (page.results_per_page, page.start_index, page.total_results),
            (1, 0, 1)
        );
        assert_eq!(page.next_start_index(), None);
        assert_eq!(page.records.len(), 1);
        let cve = page.records[0].as_ref().unwrap();
        assert_eq!(cve.id, "CVE-2024-99999");
        assert_eq!(
            cve.summary,
            "Remote code execution in Example Widget before 4.2.1."
        );
        assert_eq!(cve.published, Some(utc(2024, 11, 12, 18, 15, 22, 310)));
        assert_eq!(cve.last_modified, Some(utc(2024, 11, 15, 20, 41, 7, 7)));
        assert_eq!(cve.cvss_score, Some(9.8));
        assert_eq!(cve.severity.as_deref(), Some("critical"));
        assert!(cve.in_kev);
        assert!(!cve.rejected);
        assert_eq!(cve.configurations.len(), 1);
        let config = &cve.configurations[0];
        assert_eq!(config.operator, Operator::Or);
        assert!(!config.negate);
        assert_eq!(config.nodes.len(), 1);
        assert_eq!(config.nodes[0].operator, Operator::Or);
        let m = &config.nodes[0].matches[0];
        assert!(m.vulnerable);
        assert_eq!(m.criteria.vendor, "example");
        assert_eq!(m.criteria.product, "widget");
        assert_eq!(m.criteria.version, None);
        assert_eq!(m.start_including.as_deref(), Some("4.0.0"));
        assert_eq!(m.end_excluding.as_deref(), Some("4.2.1"));
        assert_eq!(m.start_excluding, None);
        assert_eq!(m.end_including, None);
    }

    #[test]
    fn a_malformed_record_does_not_fail_the_page() {
        let body = r#"{"resultsPerPage": 3, "startIndex": 2000, "totalResults": 4500,
          "vulnerabilities": [
            {"cve": {"id": "CVE-2024-0001", "configurations": [{"nodes": [{"operator": "OR",
              "cpeMatch": [{"vulnerable": true, "criteria": "not a cpe"}]}]}]}},
            {"cve": {"id": "CVE-2024-0002", "published": "yesterday"}},
            {"cve": {"sourceIdentifier": "x"}},
            {"cve": {"id": "CVE-2024-0003", "vulnStatus": "Rejected",
              "descriptions": [{"lang": "es", "value": "Rechazado"}]}}
          ]}"#;
        let page = parse_page(body.as_bytes()).unwrap();
        assert_eq!(page.next_start_index(), Some(2003));
        assert_eq!(page.records.len(), 4);
        let err = page.records[0].as_ref().unwrap_err();
        assert!(
            err.contains("CVE-2024-0001") && err.contains("not a cpe"),
            "{err}"
        );
        assert!(
            page.records[1]
                .as_ref()
                .unwrap_err()
                .contains("CVE-2024-0002")
        );
        assert!(
            page.records[2]
                .as_ref()
                .unwrap_err()
                .contains("without a CVE id")
        );
        let rejected = page.records[3].as_ref().unwrap();
        assert!(rejected.rejected);
        assert_eq!(rejected.summary, "Rechazado");
        assert_eq!(rejected.cvss_score, None);
        assert_eq!(rejected.severity, None);
        assert!(!rejected.in_kev);
        assert!(rejected.configurations.is_empty());
    }

    #[test]
    fn a_non_page_body_fails() {
        assert!(parse_page(b"{\"message\": \"Invalid apiKey.\"}").is_err());
        assert!(parse_page(b"<html>").is_err());
    }

    #[test]
    fn score_prefers_newer_cvss_and_primary() {
        let body = r#"[{"cve": {"id": "CVE-2024-1", "metrics": {
            "cvssMetricV31": [
              {"type": "Secondary", "cvssData": {"baseScore": 5.0, "baseSeverity": "MEDIUM"}},
              {"type": "Primary", "cvssData": {"baseScore": 7.5, "baseSeverity": "HIGH"}}],
            "cvssMetricV2": [{"type": "Primary", "cvssData": {"baseScore": 10.0}, "baseSeverity": "HIGH"}]
          }}},
          {"cve": {"id": "CVE-2024-2", "metrics": {
            "cvssMetricV40": [{"type": "Secondary", "cvssData": {"baseScore": 2.1}}]}}},
          {"cve": {"id": "CVE-2024-3", "metrics": {
            "cvssMetricV2": [{"type": "Primary", "cvssData": {"baseScore": 4.3}, "baseSeverity": "MEDIUM"}]}}},
          {"cve": {"id": "CVE-2024-4", "metrics": {
            "cvssMetricV30": [{"type": "Primary", "cvssData": {"baseScore": 0.0}}]}}}
        ]"#;
        let records = parse_records(body.as_bytes()).unwrap();
        let got: Vec<_> = records
            .iter()
            .map(|r| {
                let r = r.as_ref().unwrap();
                (r.cvss_score, r.severity.clone())
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(7.5), Some("high".to_owned())),
                (Some(2.1), Some("low".to_owned())),
                (Some(4.3), Some("medium".to_owned())),
                (Some(0.0), Some("none".to_owned())),
            ]
        );
    }

    #[test]
    fn severity_bands() {
        assert_eq!(severity_for_score(0.0), "none");
        assert_eq!(severity_for_score(0.1), "low");
        assert_eq!(severity_for_score(3.9), "low");
        assert_eq!(severity_for_score(4.0), "medium");
        assert_eq!(severity_for_score(6.9), "medium");
        assert_eq!(severity_for_score(7.0), "high");
        assert_eq!(severity_for_score(8.9), "high");
        assert_eq!(severity_for_score(9.0), "critical");
        assert_eq!(severity_for_score(10.0), "critical");
    }

    #[test]
    fn parse_records_accepts_pages_arrays_and_bare_records() {
        let from_page = parse_records(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(from_page.len(), 1);
        assert_eq!(from_page[0].as_ref().unwrap().id, "CVE-2024-99999");

        let array = r#"[{"cve": {"id": "CVE-2024-1", "published": "2024-01-02T03:04:05"}},
                        {"id": "CVE-2024-2", "published": "2024-01-02T03:04:05Z"},
                        {"cve": {"id": "CVE-2024-3", "configurations": [{"operator": "XOR"}]}}]"#;
        let records = parse_records(array.as_bytes()).unwrap();
        assert_eq!(records.len(), 3);
        let first = records[0].as_ref().unwrap();
        assert_eq!(first.published, Some(utc(2024, 1, 2, 3, 4, 5, 0)));
        assert_eq!(
            records[1].as_ref().unwrap().published,
            Some(utc(2024, 1, 2, 3, 4, 5, 0))
        );
        assert!(records[2].as_ref().unwrap_err().contains("CVE-2024-3"));

        assert!(parse_records(b"{\"foo\": 1}").is_err());
        assert!(parse_records(b"42").is_err());
        assert!(parse_records(b"not json").is_err());
    }

    #[test]
    fn reads_and_configurations() {
        let body = r#"[{"cve": {"id": "CVE-2024-5", "configurations": [{
            "operator": "AND", "negate": false,
            "nodes": [
              {"operator": "OR", "negate": false, "cpeMatch": [
                {"vulnerable": true, "criteria": "cpe:2.3:a:example:widget:4.1:*:*:*:*:*:*:*"}]},
              {"operator": "OR", "negate": true, "cpeMatch": [
                {"vulnerable": false, "criteria": "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*",
                 "versionStartExcluding": "1", "versionEndIncluding": "2"}]}
            ]}]}}]"#;
        let records = parse_records(body.as_bytes()).unwrap();
        let cve = records[0].as_ref().unwrap();
        let config = &cve.configurations[0];
        assert_eq!(config.operator, Operator::And);
        assert_eq!(
            config.nodes[0].matches[0].criteria.version.as_deref(),
            Some("4.1")
        );
        assert!(config.nodes[1].negate);
        let platform = &config.nodes[1].matches[0];
        assert!(!platform.vulnerable);
        assert_eq!(platform.start_excluding.as_deref(), Some("1"));
        assert_eq!(platform.end_including.as_deref(), Some("2"));
    }
}
