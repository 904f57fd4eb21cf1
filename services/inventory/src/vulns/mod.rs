//! Vulnerability matching: which published CVEs apply to which assets.
//!
//! Pure logic, no database and no HTTP, so the feed client, the storage and the routes can be
//! built and tested around it independently:
//!
//! * [`nvd`] reads NVD CVE API 2.0 pages (and import files) into [`nvd::CveRecord`]s;
//! * [`kev`] reads CISA's Known Exploited Vulnerabilities catalog;
//! * [`products`] turns an asset's OS, firmware and installed software into CPE-like
//!   [`products::Product`]s, by the documented normalisation in that module and in [`cpe`];
//! * [`matcher`] evaluates a CVE's configurations against those products, with an [`matcher::Index`]
//!   to prefilter large feeds by (vendor, product).
//!
//! NVD is the source because it keys OS builds, firmware and commercial software by CPE, which
//! is what RMM inventories contain (see external-apis.md section 6.4).

pub mod cpe;
pub mod kev;
pub mod matcher;
pub mod nvd;
pub mod products;

#[cfg(test)]
mod tests {
    use super::matcher::{Index, evaluate};
    use super::nvd::{self, CveRecord};
    use super::products::{AssetFacts, SoftwareItem, products_of};

    fn example() -> CveRecord {
        let page = nvd::parse_page(nvd::tests::EXAMPLE.as_bytes()).unwrap();
        page.records.into_iter().next().unwrap().unwrap()
    }

    /// The reference CVE, an asset's inventory, the index prefilter and the evaluation together.
    #[test]
    fn reference_cve_against_an_asset() {
        let cve = example();
        let mut index = Index::new();
        index.add(1, &cve.configurations);

        let asset = AssetFacts {
            manufacturer: Some("Dell Inc."),
            model: Some("OptiPlex 7090"),
            os_name: Some("Windows 11 Pro"),
            os_version: Some("10.0.22631"),
            firmware_version: Some("1.22.0"),
        };
        let vulnerable = [
            SoftwareItem {
                name: "Google Chrome",
                vendor: None,
                version: Some("120.0"),
                cpe: None,
            },
            SoftwareItem {
                name: "Example Widget",
                vendor: Some("Example, Inc."),
                version: Some("4.1"),
                cpe: None,
            },
        ];
        let products = products_of(&asset, &vulnerable);
        // Windows has no revision, so only firmware and software.
        assert_eq!(products.len(), 3);
        assert_eq!(index.candidates(&products), vec![1]);
        let hit = evaluate(&cve.configurations, &products).unwrap();
        assert_eq!(products[hit].display, "Example Widget 4.1");

        let patched = [SoftwareItem {
            name: "Example Widget",
            vendor: Some("Example"),
            version: Some("4.2.1"),
            cpe: None,
        }];
        let products = products_of(&asset, &patched);
        assert_eq!(index.candidates(&products), vec![1]);
        assert_eq!(evaluate(&cve.configurations, &products), None);

        let unrelated = products_of(&asset, &[]);
        assert!(index.candidates(&unrelated).is_empty());
    }
}
