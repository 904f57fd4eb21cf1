//! Reading CISA's Known Exploited Vulnerabilities catalog (JSON feed).
//!
//! KEV is the high-signal trigger: a matched CVE that is in KEV is being exploited. Entries are
//! read one by one and an entry without a usable `cveID` is skipped rather than failing the
//! whole catalog, since the rest is still worth flagging.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One catalog entry. `vendor`/`product` are CISA's free-text names (`vendorProject`,
/// `product`), not CPE names; pass them through `cpe::normalise_vendor`/`normalise_product`
/// for a coarse comparison with inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve_id: String,
    pub vendor: String,
    pub product: String,
    /// `None` when the date is missing or not `YYYY-MM-DD`.
    pub date_added: Option<NaiveDate>,
    /// `knownRansomwareCampaignUse` is `"Known"`.
    pub ransomware: bool,
}

#[derive(Deserialize)]
struct RawCatalog {
    vulnerabilities: Vec<Value>,
}

/// Parses `known_exploited_vulnerabilities.json`. Fails only when the body is not a catalog.
pub fn parse(body: &[u8]) -> Result<Vec<KevEntry>, String> {
    let catalog: RawCatalog =
        serde_json::from_slice(body).map_err(|e| format!("not a CISA KEV catalog: {e}"))?;
    Ok(catalog.vulnerabilities.iter().filter_map(entry).collect())
}

fn entry(item: &Value) -> Option<KevEntry> {
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::trim);
    let cve_id = text("cveID")
        .filter(|id| !id.is_empty())?
        .to_ascii_uppercase();
    Some(KevEntry {
        cve_id,
        vendor: text("vendorProject").unwrap_or_default().to_owned(),
        product: text("product").unwrap_or_default().to_owned(),
        date_added: text("dateAdded").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        ransomware: text("knownRansomwareCampaignUse")
            .is_some_and(|v| v.eq_ignore_ascii_case("known")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from external-apis.md section 6.3.
    const EXAMPLE: &str = r#"{
      "title": "CISA Catalog of Known Exploited Vulnerabilities",
      "catalogVersion": "2024.11.18",
      "dateReleased": "2024-11-18T17:01:12.8531Z",
      "count": 1234,
      "vulnerabilities": [
        {
          "cveID": "CVE-2024-99999",
          "vendorProject": "Example",
          "product": "Widget",
          "vulnerabilityName": "Example Widget Remote Code Execution Vulnerability",
          "dateAdded": "2024-11-14",
          "shortDescription": "Example Widget contains an out-of-bounds write that allows remote code execution.",
          "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.",
          "dueDate": "2024-12-05",
          "knownRansomwareCampaignUse": "Unknown",
          "notes": "https://vendor.example/advisories/2024-11 ; https://nvd.nist.gov/vuln/detail/CVE-2024-99999",
          "cwes": ["CWE-787"]
        }
      ]
    }"#;

    #[test]
    fn parses_the_reference_example() {
        let entries = parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(
            entries,
            vec![KevEntry {
                cve_id: "CVE-2024-99999".into(),
                vendor: "Example".into(),
                product: "Widget".into(),
                date_added: NaiveDate::from_ymd_opt(2024, 11, 14),
                ransomware: false,
            }]
        );
    }

    #[test]
    fn ransomware_bad_dates_and_missing_ids() {
        let body = r#"{"vulnerabilities": [
            {"cveID": "CVE-2023-1", "vendorProject": "Fortinet", "product": "FortiOS",
             "dateAdded": "14/11/2024", "knownRansomwareCampaignUse": "Known"},
            {"vendorProject": "No id"},
            {"cveID": ""},
            {"cveID": "cve-2023-2"}
        ]}"#;
        let entries = parse(body.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].ransomware);
        assert_eq!(entries[0].date_added, None);
        assert_eq!(entries[1].cve_id, "CVE-2023-2");
        assert_eq!(entries[1].vendor, "");
        assert!(!entries[1].ransomware);
    }

    #[test]
    fn a_non_catalog_fails() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"[]").is_err());
        assert!(parse(b"").is_err());
    }
}
