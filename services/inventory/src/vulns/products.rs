//! What an asset runs, as CPE-like products that NVD configurations can be matched against.
//!
//! Documented normalisation (vendor/product rules are in [`super::cpe`]); every product needs a
//! version, because NVD's version ranges cannot be decided without one:
//!
//! * **Software**: with a `cpe`, part/vendor/product come from it and the version from the CPE
//!   when it has one, else from `version` (an unparseable `cpe` falls back to the name rule).
//!   Without a `cpe`: the curated alias table by display name ([`cpe::product_alias`]) gives
//!   vendor and product and wins over the publisher, since Windows "Programs" publishers are
//!   often people or teams ("Igor Pavlov"); otherwise vendor = `normalise_vendor(vendor)` and
//!   product = `normalise_product(name)` with a leading vendor word dropped ("Example Widget"
//!   by "Example, Inc." → (example, widget), as NVD names most products), part `a`. No vendor
//!   and no alias → no product.
//! * **Firmware**: manufacturer + model + firmware_version → part `o`, vendor
//!   `normalise_vendor(manufacturer)`, product `normalise_product(model)` + `_firmware`, where a
//!   leading manufacturer word in the model is dropped ("HP EliteBook 840 G8" →
//!   `elitebook_840_g8_firmware`, as NVD names it). HP-style versions "T70 Ver. 01.15.00" keep
//!   the part after "Ver."; other versions are used as given.
//! * **OS** (part `o`), by `os_name`, case-insensitive:
//!   FortiOS → (fortinet, fortios); PAN-OS → (paloaltonetworks, pan-os); Junos → (juniper,
//!   junos); IOS XE / IOS XR / NX-OS / Cisco IOS (or "IOS" on a Cisco device) → (cisco, ios_xe /
//!   ios_xr / nx-os / ios); iPadOS → (apple, ipados); iOS → (apple, iphone_os); macOS / Mac OS X
//!   → (apple, macos); Ubuntu → (canonical, ubuntu_linux); Debian → (debian, debian_linux);
//!   VMware ESXi → (vmware, esxi); Android → (google, android). The version is the first
//!   version-looking token of `os_version` (a leading `v` and anything after a comma dropped:
//!   "v7.2.5,build1517" → "7.2.5"), or of `os_name` when `os_version` is empty. Ubuntu keeps
//!   major.minor ("22.04.3 LTS" → "22.04") and Debian the major ("12.5" → "12"), because NVD
//!   names releases, not point releases.
//! * **Windows** (`os_name` containing "windows"): NVD files Windows by release
//!   (`windows_11_23h2`) with ranges on the full build **including the revision**
//!   (`10.0.22631.4460`). A build without the revision would fall inside every range of its
//!   release and flag every Windows CVE ever published for it, so a product is emitted only for
//!   a four-part `10.0.build.revision`. The release is not in the inventory, so it comes from
//!   the build: Windows 10 14393→1607, 17763→1809, 19044→21h2, 19045→22h2; Windows 11
//!   22000→21h2, 22621→22h2, 22631→23h2, 26100→24h2; with "server" in the name 14393→
//!   windows_server_2016, 17763→2019, 20348→2022, 25398→2022_23h2, 26100→2025. The build, not
//!   the name, picks 10 vs 11 (Windows 11 still reports "Windows 10" in some places). Unknown
//!   builds give nothing rather than a guess.
//!
//! Products come out OS first, then firmware, then software, without duplicates.

use super::cpe::{self, Cpe};

/// One thing an asset runs, in NVD's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub part: char,
    pub vendor: String,
    pub product: String,
    pub version: String,
    /// `"os"`, `"firmware"` or `"software"`.
    pub source: &'static str,
    /// For humans, e.g. "Example Widget 4.1".
    pub display: String,
}

impl Product {
    /// The product as a CPE (e.g. for NVD's `cpeName` or a table of distinct asset CPEs).
    pub fn cpe(&self) -> Cpe {
        Cpe {
            part: self.part,
            vendor: self.vendor.clone(),
            product: self.product.clone(),
            version: Some(self.version.clone()),
            update: None,
            target_sw: None,
        }
    }
}

/// The asset columns that say what it runs (see `db::assets::AssetRow`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetFacts<'a> {
    pub manufacturer: Option<&'a str>,
    pub model: Option<&'a str>,
    pub os_name: Option<&'a str>,
    pub os_version: Option<&'a str>,
    pub firmware_version: Option<&'a str>,
}

/// One installed-software entry as an RMM reports it.
#[derive(Debug, Clone, Copy)]
pub struct SoftwareItem<'a> {
    pub name: &'a str,
    pub vendor: Option<&'a str>,
    pub version: Option<&'a str>,
    pub cpe: Option<&'a str>,
}

/// The products of one asset, by the rules in the module doc.
pub fn products_of(asset: &AssetFacts<'_>, software: &[SoftwareItem<'_>]) -> Vec<Product> {
    let candidates = os_product(asset)
        .into_iter()
        .chain(firmware_product(asset))
        .chain(software.iter().filter_map(software_product));
    let mut out: Vec<Product> = Vec::new();
    for product in candidates {
        let duplicate = out.iter().any(|p| {
            p.part == product.part
                && p.vendor == product.vendor
                && p.product == product.product
                && p.version == product.version
        });
        if !duplicate {
            out.push(product);
        }
    }
    out
}

/// A trimmed, non-empty value.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn software_product(item: &SoftwareItem<'_>) -> Option<Product> {
    let name = item.name.trim();
    if let Some(cpe) = present(item.cpe).and_then(cpe::parse) {
        let version = cpe
            .version
            .or_else(|| present(item.version).map(str::to_owned))?;
        let display = display(name, &version);
        return Some(Product {
            part: cpe.part,
            vendor: cpe.vendor,
            product: cpe.product,
            version,
            source: "software",
            display,
        });
    }
    let version = present(item.version)?;
    let (vendor, product) = match cpe::product_alias(name) {
        Some((vendor, product)) => (vendor.to_owned(), product.to_owned()),
        None => {
            let publisher = present(item.vendor)?;
            let vendor = cpe::normalise_vendor(publisher);
            let product = cpe::normalise_product(without_leading_vendor(name, publisher, &vendor));
            (vendor, product)
        }
    };
    if vendor.is_empty() || product.is_empty() {
        return None;
    }
    Some(Product {
        part: 'a',
        vendor,
        product,
        version: version.to_owned(),
        source: "software",
        display: display(name, version),
    })
}

fn display(name: &str, version: &str) -> String {
    if name.is_empty() {
        version.to_owned()
    } else {
        format!("{name} {version}")
    }
}

fn firmware_product(asset: &AssetFacts<'_>) -> Option<Product> {
    let manufacturer = present(asset.manufacturer)?;
    let model = present(asset.model)?;
    let raw_version = present(asset.firmware_version)?;
    let vendor = cpe::normalise_vendor(manufacturer);
    let model_product =
        cpe::normalise_product(without_leading_vendor(model, manufacturer, &vendor));
    let version = firmware_version(raw_version);
    if vendor.is_empty() || model_product.is_empty() || version.is_empty() {
        return None;
    }
    Some(Product {
        part: 'o',
        vendor,
        product: format!("{model_product}_firmware"),
        version,
        source: "firmware",
        display: format!("{manufacturer} {model} firmware {raw_version}"),
    })
}

/// "HP EliteBook 840 G8" → "EliteBook 840 G8" for manufacturer "HP Inc."; a name that is only
/// the vendor ("Wireshark") stays.
fn without_leading_vendor<'a>(model: &'a str, manufacturer: &str, vendor: &str) -> &'a str {
    let Some((first, rest)) = model.split_once(char::is_whitespace) else {
        return model;
    };
    let first = first
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let manufacturer_first = manufacturer
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let rest = rest.trim_start();
    if !rest.is_empty() && (first == vendor || first == manufacturer_first) {
        rest
    } else {
        model
    }
}

/// "T70 Ver. 01.15.00" → "01.15.00"; anything else as given.
fn firmware_version(raw: &str) -> String {
    let tokens: Vec<&str> = raw.split_whitespace().collect();
    let marker = tokens.iter().position(|t| {
        let t = t.trim_end_matches(['.', ':']).to_lowercase();
        t == "ver" || t == "version"
    });
    match marker.and_then(|i| tokens.get(i + 1)) {
        Some(version) => (*version).to_owned(),
        None => raw.trim().to_owned(),
    }
}

/// How much of an OS version NVD uses.
#[derive(Clone, Copy)]
enum Shape {
    Full,
    Components(usize),
}

fn os_product(asset: &AssetFacts<'_>) -> Option<Product> {
    let name = present(asset.os_name)?;
    let lower = name.to_lowercase();
    if lower.contains("windows") {
        return windows_product(name, &lower, present(asset.os_version)?);
    }
    let (vendor, product, shape) = os_table(&lower, asset.manufacturer)?;
    let version = present(asset.os_version)
        .and_then(first_version)
        .or_else(|| first_version(name))?;
    let version = match shape {
        Shape::Full => version,
        Shape::Components(n) => version.split('.').take(n).collect::<Vec<_>>().join("."),
    };
    Some(Product {
        part: 'o',
        vendor: vendor.to_owned(),
        product: product.to_owned(),
        display: format!("{name} {version}"),
        version,
        source: "os",
    })
}

/// The table from the module doc; order matters ("fortios" contains "ios").
fn os_table(
    lower: &str,
    manufacturer: Option<&str>,
) -> Option<(&'static str, &'static str, Shape)> {
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
    let has_word = |w: &str| words.contains(&w);
    let cisco = lower.contains("cisco")
        || present(manufacturer).is_some_and(|m| cpe::normalise_vendor(m) == "cisco");
    let full = Shape::Full;
    let entry = if lower.contains("fortios") {
        ("fortinet", "fortios", full)
    } else if lower.contains("pan-os") || lower.contains("panos") {
        ("paloaltonetworks", "pan-os", full)
    } else if lower.contains("junos") {
        ("juniper", "junos", full)
    } else if lower.contains("ios xe") || lower.contains("ios-xe") {
        ("cisco", "ios_xe", full)
    } else if lower.contains("ios xr") || lower.contains("ios-xr") {
        ("cisco", "ios_xr", full)
    } else if lower.contains("nx-os") || lower.contains("nxos") {
        ("cisco", "nx-os", full)
    } else if has_word("ios") && cisco {
        ("cisco", "ios", full)
    } else if lower.contains("ipados") {
        ("apple", "ipados", full)
    } else if has_word("ios") || lower.contains("iphone os") {
        ("apple", "iphone_os", full)
    } else if lower.contains("macos") || lower.contains("mac os") || lower.contains("os x") {
        ("apple", "macos", full)
    } else if lower.contains("ubuntu") {
        ("canonical", "ubuntu_linux", Shape::Components(2))
    } else if lower.contains("debian") {
        ("debian", "debian_linux", Shape::Components(1))
    } else if lower.contains("esxi") {
        ("vmware", "esxi", full)
    } else if lower.contains("android") {
        ("google", "android", full)
    } else {
        return None;
    };
    Some(entry)
}

/// The first token that starts with a digit (after an optional `v`), cut at a comma.
fn first_version(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| t.strip_prefix(['v', 'V']).unwrap_or(t))
        .map(|t| t.trim_matches(|c: char| matches!(c, '(' | ')' | '.')))
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
}

/// Windows needs `10.0.build.revision` and a known build; see the module doc for why.
fn windows_product(name: &str, lower: &str, version: &str) -> Option<Product> {
    let parts = version
        .split('.')
        .map(|p| {
            let numeric = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if numeric { p.parse::<u64>().ok() } else { None }
        })
        .collect::<Option<Vec<u64>>>()?;
    let &[10, 0, build, revision] = parts.as_slice() else {
        return None;
    };
    let product = if lower.contains("server") {
        match build {
            14393 => "windows_server_2016",
            17763 => "windows_server_2019",
            20348 => "windows_server_2022",
            25398 => "windows_server_2022_23h2",
            26100 => "windows_server_2025",
            _ => return None,
        }
    } else {
        match build {
            14393 => "windows_10_1607",
            17763 => "windows_10_1809",
            19044 => "windows_10_21h2",
            19045 => "windows_10_22h2",
            22000 => "windows_11_21h2",
            22621 => "windows_11_22h2",
            22631 => "windows_11_23h2",
            26100 => "windows_11_24h2",
            _ => return None,
        }
    };
    let version = format!("10.0.{build}.{revision}");
    Some(Product {
        part: 'o',
        vendor: "microsoft".to_owned(),
        product: product.to_owned(),
        display: format!("{name} {version}"),
        version,
        source: "os",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(name: &str, version: Option<&str>) -> Vec<Product> {
        let asset = AssetFacts {
            os_name: Some(name),
            os_version: version,
            ..AssetFacts::default()
        };
        products_of(&asset, &[])
    }

    fn names(products: &[Product]) -> Vec<(String, String, String)> {
        products
            .iter()
            .map(|p| (p.vendor.clone(), p.product.clone(), p.version.clone()))
            .collect()
    }

    fn one(vendor: &str, product: &str, version: &str) -> Vec<(String, String, String)> {
        vec![(vendor.to_owned(), product.to_owned(), version.to_owned())]
    }

    #[test]
    fn windows_without_revision_gives_nothing() {
        assert!(os("Windows 11 Pro", Some("10.0.22631")).is_empty());
        assert!(os("Microsoft Windows 10 Pro", Some("22H2")).is_empty());
        assert!(os("Windows 11 Pro", None).is_empty());
        assert!(os("Windows 11 Pro", Some("10.0.22631.x")).is_empty());
        assert!(os("Windows 11 Pro", Some("10.0.22631.4460.1")).is_empty());
    }

    #[test]
    fn windows_with_revision_gives_the_release() {
        let products = os("Microsoft Windows 11 Pro", Some("10.0.22631.4460"));
        assert_eq!(
            names(&products),
            one("microsoft", "windows_11_23h2", "10.0.22631.4460")
        );
        let p = &products[0];
        assert_eq!((p.part, p.source), ('o', "os"));
        assert_eq!(p.display, "Microsoft Windows 11 Pro 10.0.22631.4460");
        // The build decides 10 vs 11, not the (sometimes wrong) name.
        assert_eq!(
            names(&os("Windows 10 Pro", Some("10.0.22621.3880"))),
            one("microsoft", "windows_11_22h2", "10.0.22621.3880")
        );
        assert_eq!(
            names(&os("Windows 10 Enterprise", Some(" 10.0.19045.4529 "))),
            one("microsoft", "windows_10_22h2", "10.0.19045.4529")
        );
        assert_eq!(
            names(&os("Windows Server 2022 Standard", Some("10.0.20348.2849"))),
            one("microsoft", "windows_server_2022", "10.0.20348.2849")
        );
        assert_eq!(
            names(&os(
                "Windows Server 2025 Datacenter",
                Some("10.0.26100.2314")
            )),
            one("microsoft", "windows_server_2025", "10.0.26100.2314")
        );
        assert_eq!(
            names(&os("Windows 11 Pro", Some("10.0.26100.2314"))),
            one("microsoft", "windows_11_24h2", "10.0.26100.2314")
        );
    }

    #[test]
    fn windows_unknown_build_or_major_gives_nothing() {
        assert!(os("Windows 11 Pro", Some("10.0.99999.1")).is_empty());
        assert!(os("Windows 8.1", Some("6.3.9600.20778")).is_empty());
        assert!(os("Windows Server 2022", Some("10.0.22631.4460")).is_empty());
    }

    #[test]
    fn os_name_table() {
        assert_eq!(
            names(&os("macOS Sonoma", Some("14.5"))),
            one("apple", "macos", "14.5")
        );
        assert_eq!(
            names(&os("Ubuntu 22.04.3 LTS", None)),
            one("canonical", "ubuntu_linux", "22.04")
        );
        assert_eq!(
            names(&os("Ubuntu", Some("24.04.1 LTS"))),
            one("canonical", "ubuntu_linux", "24.04")
        );
        assert_eq!(
            names(&os("Debian GNU/Linux 12 (bookworm)", Some("12.5"))),
            one("debian", "debian_linux", "12")
        );
        assert_eq!(
            names(&os("VMware ESXi", Some("8.0.2"))),
            one("vmware", "esxi", "8.0.2")
        );
        assert_eq!(
            names(&os("FortiOS", Some("v7.2.5,build1517 (GA)"))),
            one("fortinet", "fortios", "7.2.5")
        );
        assert_eq!(
            names(&os("PAN-OS", Some("10.2.7-h3"))),
            one("paloaltonetworks", "pan-os", "10.2.7-h3")
        );
        assert_eq!(
            names(&os("Junos OS", Some("22.4R3"))),
            one("juniper", "junos", "22.4R3")
        );
        assert_eq!(
            names(&os("iOS", Some("17.5.1"))),
            one("apple", "iphone_os", "17.5.1")
        );
        assert_eq!(
            names(&os("iPadOS", Some("17.5.1"))),
            one("apple", "ipados", "17.5.1")
        );
        assert_eq!(
            names(&os("Android", Some("14"))),
            one("google", "android", "14")
        );
        assert_eq!(
            names(&os("Cisco IOS XE", Some("17.9.4a"))),
            one("cisco", "ios_xe", "17.9.4a")
        );
        let cisco = AssetFacts {
            manufacturer: Some("Cisco Systems, Inc."),
            os_name: Some("IOS"),
            os_version: Some("15.2(7)E8"),
            ..AssetFacts::default()
        };
        assert_eq!(
            names(&products_of(&cisco, &[])),
            one("cisco", "ios", "15.2(7)E8")
        );
        // No version, unknown OS: nothing.
        assert!(os("macOS Sonoma", None).is_empty());
        assert!(os("Haiku", Some("1.0")).is_empty());
    }

    #[test]
    fn firmware_from_manufacturer_model_and_version() {
        let asset = AssetFacts {
            manufacturer: Some("Dell Inc."),
            model: Some("OptiPlex 7090"),
            firmware_version: Some("1.22.0"),
            ..AssetFacts::default()
        };
        let products = products_of(&asset, &[]);
        assert_eq!(
            names(&products),
            one("dell", "optiplex_7090_firmware", "1.22.0")
        );
        assert_eq!((products[0].part, products[0].source), ('o', "firmware"));
        assert_eq!(
            products[0].display,
            "Dell Inc. OptiPlex 7090 firmware 1.22.0"
        );

        let hp = AssetFacts {
            manufacturer: Some("HP"),
            model: Some("HP EliteBook 840 G8 Notebook PC"),
            firmware_version: Some("T37 Ver. 01.15.00"),
            ..AssetFacts::default()
        };
        assert_eq!(
            names(&products_of(&hp, &[])),
            one("hp", "elitebook_840_g8_notebook_pc_firmware", "01.15.00")
        );

        let missing = AssetFacts {
            firmware_version: Some(" "),
            ..asset
        };
        assert!(products_of(&missing, &[]).is_empty());
        let no_model = AssetFacts {
            model: None,
            ..asset
        };
        assert!(products_of(&no_model, &[]).is_empty());
    }

    #[test]
    fn software_rules() {
        let software = [
            SoftwareItem {
                name: "Example Widget",
                vendor: Some("Example, Inc."),
                version: Some("4.1"),
                cpe: None,
            },
            SoftwareItem {
                name: "7-Zip 23.01 (x64)",
                vendor: Some("Igor Pavlov"),
                version: Some("23.01"),
                cpe: None,
            },
            SoftwareItem {
                name: "Google Chrome",
                vendor: None,
                version: Some("120.0"),
                cpe: None,
            },
            // No version: cannot be decided.
            SoftwareItem {
                name: "Mozilla Firefox",
                vendor: None,
                version: None,
                cpe: None,
            },
            // No vendor and no alias.
            SoftwareItem {
                name: "Some Tool",
                vendor: None,
                version: Some("1.0"),
                cpe: None,
            },
            // CPE with a version wins over the version field.
            SoftwareItem {
                name: "Notepad++",
                vendor: None,
                version: Some("0"),
                cpe: Some(r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:8.6.2:*:*:*:*:*:*:*"),
            },
            // CPE without a version takes the version field.
            SoftwareItem {
                name: "PAN-OS",
                vendor: None,
                version: Some("10.2.7-h3"),
                cpe: Some("cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*"),
            },
            // Duplicate of the first.
            SoftwareItem {
                name: "Example Widget",
                vendor: Some("Example"),
                version: Some("4.1"),
                cpe: None,
            },
        ];
        let products = products_of(&AssetFacts::default(), &software);
        assert_eq!(
            names(&products),
            vec![
                ("example".into(), "widget".into(), "4.1".into()),
                ("7-zip".into(), "7-zip".into(), "23.01".into()),
                ("google".into(), "chrome".into(), "120.0".into()),
                (
                    "notepad-plus-plus".into(),
                    "notepad++".into(),
                    "8.6.2".into()
                ),
                (
                    "paloaltonetworks".into(),
                    "pan-os".into(),
                    "10.2.7-h3".into()
                ),
            ]
        );
        assert_eq!(products[0].display, "Example Widget 4.1");
        assert_eq!(products[0].source, "software");
        assert_eq!(products[0].part, 'a');
        assert_eq!(products[4].part, 'o');
        assert_eq!(
            products[3].cpe().to_string(),
            r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:8.6.2:*:*:*:*:*:*:*"
        );
    }

    #[test]
    fn order_is_os_firmware_software() {
        let asset = AssetFacts {
            manufacturer: Some("LENOVO"),
            model: Some("ThinkPad X1 Carbon Gen 9"),
            os_name: Some("Windows 11 Pro"),
            os_version: Some("10.0.22631.4460"),
            firmware_version: Some("1.60"),
        };
        let software = [SoftwareItem {
            name: "Google Chrome",
            vendor: None,
            version: Some("1"),
            cpe: None,
        }];
        let sources: Vec<_> = products_of(&asset, &software)
            .iter()
            .map(|p| p.source)
            .collect();
        assert_eq!(sources, vec!["os", "firmware", "software"]);
    }
}
