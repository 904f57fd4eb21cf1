//! Deciding whether a CVE's NVD configurations apply to an asset's products.
//!
//! Semantics: a CVE applies when any configuration is satisfied. A configuration with operator
//! OR is satisfied when any node is, AND when all are (an application node AND a "running on"
//! platform node). A node OR is satisfied when any of its matches matches some product, AND when
//! all do; `negate` inverts a node's or configuration's result. Criteria with `vulnerable:
//! false` only satisfy platform conditions: the product reported is always one that matched a
//! `vulnerable: true` criterion in a satisfied, non-negated node. A negated node or
//! configuration is satisfied by the *absence* of products, so it names none; a negated
//! configuration therefore never yields a match on its own (NVD does not publish them).

use std::cmp::Ordering;
use std::collections::HashMap;

use super::cpe::compare_versions;
use super::nvd::{Configuration, CpeMatch, Node, Operator};
use super::products::Product;

/// The first product (lowest index) that matches a vulnerable criterion of a configuration that
/// is satisfied by the product set; `None` when the CVE does not apply.
pub fn evaluate(configurations: &[Configuration], products: &[Product]) -> Option<usize> {
    configurations
        .iter()
        .filter_map(|c| evaluate_configuration(c, products))
        .min()
}

/// Part, vendor and product must be equal. Then the version: an exact criteria version must
/// compare equal; otherwise every bound present must hold; no version and no bounds means any
/// version. A product without a version only matches "any version".
pub fn criterion_matches(m: &CpeMatch, p: &Product) -> bool {
    let c = &m.criteria;
    if c.part != p.part || c.vendor != p.vendor || c.product != p.product {
        return false;
    }
    let bounds = [
        &m.start_including,
        &m.start_excluding,
        &m.end_including,
        &m.end_excluding,
    ];
    let any_version = c.version.is_none() && bounds.iter().all(|b| b.is_none());
    if any_version {
        return true;
    }
    let version = p.version.trim();
    if version.is_empty() {
        return false;
    }
    if let Some(exact) = &c.version {
        return compare_versions(version, exact) == Ordering::Equal;
    }
    let holds = |bound: &Option<String>, ok: fn(Ordering) -> bool| {
        bound
            .as_deref()
            .is_none_or(|b| ok(compare_versions(version, b)))
    };
    holds(&m.start_including, |o| o != Ordering::Less)
        && holds(&m.start_excluding, |o| o == Ordering::Greater)
        && holds(&m.end_including, |o| o != Ordering::Greater)
        && holds(&m.end_excluding, |o| o == Ordering::Less)
}

/// A node's or configuration's result: whether it is satisfied and, if so, the first product
/// that matched one of its vulnerable criteria.
struct Outcome {
    satisfied: bool,
    vulnerable: Option<usize>,
}

fn evaluate_node(node: &Node, products: &[Product]) -> Outcome {
    let mut vulnerable: Option<usize> = None;
    let mut any = false;
    let mut all = !node.matches.is_empty();
    for m in &node.matches {
        let mut hit = false;
        for (index, product) in products.iter().enumerate() {
            if criterion_matches(m, product) {
                hit = true;
                if m.vulnerable {
                    vulnerable = Some(vulnerable.map_or(index, |v| v.min(index)));
                }
                break;
            }
        }
        any |= hit;
        all &= hit;
    }
    let matched = match node.operator {
        Operator::Or => any,
        Operator::And => all,
    };
    let satisfied = matched != node.negate;
    Outcome {
        satisfied,
        vulnerable: vulnerable.filter(|_| satisfied && !node.negate),
    }
}

fn evaluate_configuration(config: &Configuration, products: &[Product]) -> Option<usize> {
    if config.nodes.is_empty() || config.negate {
        // No nodes: nothing to satisfy (NVD has not analysed the CVE). Negated: see module doc.
        return None;
    }
    let mut any = false;
    let mut all = true;
    let mut vulnerable: Option<usize> = None;
    for node in &config.nodes {
        let outcome = evaluate_node(node, products);
        any |= outcome.satisfied;
        all &= outcome.satisfied;
        if outcome.satisfied
            && let Some(v) = outcome.vulnerable
        {
            vulnerable = Some(vulnerable.map_or(v, |current| current.min(v)));
        }
    }
    let satisfied = match config.operator {
        Operator::Or => any,
        Operator::And => all,
    };
    vulnerable.filter(|_| satisfied)
}

/// Which CVEs could apply to a product, by (vendor, product) of their vulnerable criteria: the
/// prefilter for large feeds, so [`evaluate`] runs only on candidates.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// vendor → product → CVE numbers (nested so lookups borrow `&str` instead of cloning).
    by_product: HashMap<String, HashMap<String, Vec<u32>>>,
}

impl Index {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `cve` (a caller-chosen number, e.g. a row id or a position in a list) under
    /// every (vendor, product) of its vulnerable criteria.
    pub fn add(&mut self, cve: u32, configurations: &[Configuration]) {
        for (vendor, product) in vulnerable_products(configurations) {
            let list = self
                .by_product
                .entry(vendor)
                .or_default()
                .entry(product)
                .or_default();
            if !list.contains(&cve) {
                list.push(cve);
            }
        }
    }

    /// The CVEs filed under any of the products' (vendor, product), sorted and deduplicated.
    pub fn candidates(&self, products: &[Product]) -> Vec<u32> {
        let mut out: Vec<u32> = products
            .iter()
            .filter_map(|p| self.by_product.get(&p.vendor)?.get(&p.product))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The (vendor, product) pairs of a CVE's vulnerable criteria, sorted and deduplicated, for
/// storage as a lookup table.
pub fn vulnerable_products(configurations: &[Configuration]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = configurations
        .iter()
        .flat_map(|c| &c.nodes)
        .flat_map(|n| &n.matches)
        .filter(|m| m.vulnerable)
        .map(|m| (m.criteria.vendor.clone(), m.criteria.product.clone()))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vulns::cpe;

    fn criterion(vulnerable: bool, cpe_text: &str) -> CpeMatch {
        CpeMatch {
            vulnerable,
            criteria: cpe::parse(cpe_text).unwrap(),
            start_including: None,
            start_excluding: None,
            end_including: None,
            end_excluding: None,
        }
    }

    const WIDGET: &str = "cpe:2.3:a:example:widget:*:*:*:*:*:*:*:*";
    const WINDOWS: &str = "cpe:2.3:o:microsoft:windows_11_23h2:*:*:*:*:*:*:*:*";
    const LINUX: &str = "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*";

    fn product(part: char, vendor: &str, name: &str, version: &str) -> Product {
        Product {
            part,
            vendor: vendor.into(),
            product: name.into(),
            version: version.into(),
            source: "software",
            display: format!("{name} {version}"),
        }
    }

    fn widget(version: &str) -> Product {
        product('a', "example", "widget", version)
    }

    fn windows() -> Product {
        product('o', "microsoft", "windows_11_23h2", "10.0.22631.4460")
    }

    fn linux() -> Product {
        product('o', "linux", "linux_kernel", "6.1")
    }

    fn node(operator: Operator, negate: bool, matches: Vec<CpeMatch>) -> Node {
        Node {
            operator,
            negate,
            matches,
        }
    }

    fn config(operator: Operator, nodes: Vec<Node>) -> Configuration {
        Configuration {
            operator,
            negate: false,
            nodes,
        }
    }

    /// The reference example's range: 4.0.0 <= v < 4.2.1.
    fn ranged() -> CpeMatch {
        CpeMatch {
            start_including: Some("4.0.0".into()),
            end_excluding: Some("4.2.1".into()),
            ..criterion(true, WIDGET)
        }
    }

    #[test]
    fn range_boundaries() {
        let m = ranged();
        assert!(criterion_matches(&m, &widget("4.0.0")));
        assert!(criterion_matches(&m, &widget("4.0")));
        assert!(criterion_matches(&m, &widget("4.2.0")));
        assert!(criterion_matches(&m, &widget("4.2")));
        assert!(!criterion_matches(&m, &widget("4.2.1")));
        assert!(!criterion_matches(&m, &widget("4.10")));
        assert!(!criterion_matches(&m, &widget("3.9")));
        assert!(!criterion_matches(&m, &widget("")));

        let inclusive = CpeMatch {
            end_excluding: None,
            end_including: Some("4.2.1".into()),
            ..m
        };
        assert!(criterion_matches(&inclusive, &widget("4.2.1")));
        assert!(!criterion_matches(&inclusive, &widget("4.2.2")));

        let exclusive_start = CpeMatch {
            start_including: None,
            start_excluding: Some("4.0.0".into()),
            ..inclusive
        };
        assert!(!criterion_matches(&exclusive_start, &widget("4.0.0")));
        assert!(criterion_matches(&exclusive_start, &widget("4.0.1")));

        let only_end = CpeMatch {
            end_excluding: Some("2.0".into()),
            ..criterion(true, WIDGET)
        };
        assert!(criterion_matches(&only_end, &widget("0.1")));
        assert!(!criterion_matches(&only_end, &widget("2.0.0")));
    }

    #[test]
    fn exact_and_any_versions() {
        let exact = criterion(true, "cpe:2.3:a:example:widget:4.1:*:*:*:*:*:*:*");
        assert!(criterion_matches(&exact, &widget("4.1")));
        assert!(criterion_matches(&exact, &widget("4.1.0")));
        assert!(!criterion_matches(&exact, &widget("4.1.1")));
        assert!(!criterion_matches(&exact, &widget("")));

        let any = criterion(true, WIDGET);
        assert!(criterion_matches(&any, &widget("0.0.1")));
        assert!(criterion_matches(&any, &widget("")));
    }

    #[test]
    fn names_must_match() {
        let m = criterion(true, WIDGET);
        assert!(!criterion_matches(
            &m,
            &product('o', "example", "widget", "1")
        ));
        assert!(!criterion_matches(
            &m,
            &product('a', "other", "widget", "1")
        ));
        assert!(!criterion_matches(
            &m,
            &product('a', "example", "gadget", "1")
        ));
    }

    #[test]
    fn or_configuration_picks_the_first_vulnerable_product() {
        let configs = vec![config(
            Operator::Or,
            vec![node(
                Operator::Or,
                false,
                vec![
                    ranged(),
                    criterion(true, "cpe:2.3:a:example:gadget:*:*:*:*:*:*:*:*"),
                ],
            )],
        )];
        let gadget = product('a', "example", "gadget", "1");
        assert_eq!(evaluate(&configs, &[linux(), widget("4.1")]), Some(1));
        assert_eq!(
            evaluate(&configs, &[linux(), gadget.clone(), widget("4.1")]),
            Some(1)
        );
        assert_eq!(evaluate(&configs, &[widget("4.1"), gadget]), Some(0));
        assert_eq!(evaluate(&configs, &[widget("4.2.1")]), None);
        assert_eq!(evaluate(&configs, &[]), None);
        assert_eq!(evaluate(&[], &[widget("4.1")]), None);
    }

    #[test]
    fn and_configuration_needs_the_platform() {
        // Widget before 4.2.1 running on Windows 11 23H2.
        let configs = vec![config(
            Operator::And,
            vec![
                node(Operator::Or, false, vec![ranged()]),
                node(Operator::Or, false, vec![criterion(false, WINDOWS)]),
            ],
        )];
        assert_eq!(evaluate(&configs, &[widget("4.1")]), None);
        assert_eq!(evaluate(&configs, &[linux(), widget("4.1")]), None);
        assert_eq!(evaluate(&configs, &[windows(), widget("4.1")]), Some(1));
        assert_eq!(evaluate(&configs, &[windows(), widget("4.3")]), None);
        // The platform alone is not vulnerable.
        assert_eq!(evaluate(&configs, &[windows()]), None);
    }

    #[test]
    fn and_node_needs_every_match() {
        let configs = vec![config(
            Operator::Or,
            vec![node(
                Operator::And,
                false,
                vec![ranged(), criterion(false, WINDOWS)],
            )],
        )];
        assert_eq!(evaluate(&configs, &[widget("4.1")]), None);
        assert_eq!(evaluate(&configs, &[widget("4.1"), windows()]), Some(0));
        let empty = vec![config(
            Operator::Or,
            vec![node(Operator::And, false, vec![])],
        )];
        assert_eq!(evaluate(&empty, &[widget("4.1")]), None);
    }

    #[test]
    fn non_vulnerable_criteria_never_name_a_product() {
        let configs = vec![config(
            Operator::Or,
            vec![node(Operator::Or, false, vec![criterion(false, WIDGET)])],
        )];
        assert_eq!(evaluate(&configs, &[widget("4.1")]), None);
    }

    #[test]
    fn negated_nodes_and_configurations() {
        // Widget, unless it runs on Linux.
        let configs = vec![config(
            Operator::And,
            vec![
                node(Operator::Or, false, vec![ranged()]),
                node(Operator::Or, true, vec![criterion(false, LINUX)]),
            ],
        )];
        assert_eq!(evaluate(&configs, &[widget("4.1")]), Some(0));
        assert_eq!(evaluate(&configs, &[widget("4.1"), windows()]), Some(0));
        assert_eq!(evaluate(&configs, &[linux(), widget("4.1")]), None);

        // A negated vulnerable node is satisfied by absence and names nothing.
        let negated_vulnerable = vec![config(
            Operator::Or,
            vec![node(Operator::Or, true, vec![criterion(true, WIDGET)])],
        )];
        assert_eq!(evaluate(&negated_vulnerable, &[windows()]), None);
        assert_eq!(evaluate(&negated_vulnerable, &[widget("1")]), None);

        let negated_config = Configuration {
            negate: true,
            ..config(
                Operator::Or,
                vec![node(Operator::Or, false, vec![ranged()])],
            )
        };
        assert_eq!(
            evaluate(std::slice::from_ref(&negated_config), &[widget("4.1")]),
            None
        );
        assert_eq!(evaluate(&[negated_config], &[windows()]), None);
    }

    #[test]
    fn any_configuration_matches() {
        let configs = vec![
            config(
                Operator::Or,
                vec![node(Operator::Or, false, vec![criterion(true, LINUX)])],
            ),
            config(
                Operator::Or,
                vec![node(Operator::Or, false, vec![ranged()])],
            ),
        ];
        assert_eq!(evaluate(&configs, &[windows(), widget("4.1")]), Some(1));
        assert_eq!(evaluate(&configs, &[widget("4.1"), linux()]), Some(0));
    }

    #[test]
    fn index_and_vulnerable_products() {
        let app_on_windows = vec![config(
            Operator::And,
            vec![
                node(Operator::Or, false, vec![ranged()]),
                node(Operator::Or, false, vec![criterion(false, WINDOWS)]),
            ],
        )];
        let kernel = vec![config(
            Operator::Or,
            vec![node(
                Operator::Or,
                false,
                vec![criterion(true, LINUX), ranged()],
            )],
        )];
        assert_eq!(
            vulnerable_products(&app_on_windows),
            vec![("example".to_owned(), "widget".to_owned())]
        );
        assert_eq!(
            vulnerable_products(&kernel),
            vec![
                ("example".to_owned(), "widget".to_owned()),
                ("linux".to_owned(), "linux_kernel".to_owned()),
            ]
        );

        let mut index = Index::new();
        index.add(7, &app_on_windows);
        index.add(3, &kernel);
        index.add(3, &kernel);
        index.add(9, &[]);
        assert_eq!(index.candidates(&[widget("1"), linux()]), vec![3, 7]);
        assert_eq!(index.candidates(&[linux()]), vec![3]);
        // Platforms are not indexed: Windows alone cannot make a CVE apply.
        assert_eq!(index.candidates(&[windows()]), Vec::<u32>::new());
        assert_eq!(index.candidates(&[]), Vec::<u32>::new());
    }
}
