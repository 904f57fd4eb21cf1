//! Reading and checking asset input. Every bad field is reported at once; nothing is written
//! unless all of them are good.

use std::net::IpAddr;

use clientstor_http::ValidationErrors;
use clientstor_runtime::openapi::{Field, Kind, Model};
use serde_json::{Map, Value};

use crate::db::assets::AssetFields;
use clientstor_http::reader::Reader;

/// The documented asset types; anything else is a 400.
pub const ASSET_TYPES: &[&str] = &[
    "server",
    "workstation",
    "laptop",
    "desktop",
    "switch",
    "router",
    "firewall",
    "wireless_ap",
    "patch_panel",
    "nas",
    "san",
    "ups",
    "pdu",
    "printer",
    "phone",
    "security_camera",
    "nvr",
    "iot_device",
    "rack",
    "virtual_machine",
    "mobile",
    "other",
];
pub const STATUSES: &[&str] = &["active", "inactive", "in_repair", "retired"];

/// The asset representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "Asset",
    noun: "asset",
    about: "Hardware and virtual machines: servers, network gear, workstations, phones",
    record: true,
    fields: &[
        Field::rw("name", Kind::String).required(),
        Field::rw("asset_type", Kind::Enum(ASSET_TYPES)).about("`other` if not given"),
        Field::rw("asset_tag", Kind::String).nullable(),
        Field::rw("serial_number", Kind::String).nullable(),
        Field::rw("manufacturer", Kind::String).nullable(),
        Field::rw("model", Kind::String).nullable(),
        Field::rw("hostname", Kind::String).nullable(),
        Field::rw("ip_address", Kind::String)
            .nullable()
            .about("IPv4 or IPv6"),
        Field::rw("mac_address", Kind::String)
            .nullable()
            .about("Any usual spelling; answered as aa:bb:cc:dd:ee:ff"),
        Field::rw("os_name", Kind::String).nullable(),
        Field::rw("os_version", Kind::String).nullable(),
        Field::rw("firmware_version", Kind::String).nullable(),
        Field::rw("cpu", Kind::String).nullable(),
        Field::rw("ram_gb", Kind::Integer).nullable(),
        Field::rw("storage", Kind::String).nullable(),
        Field::rw("status", Kind::Enum(STATUSES)).about("`active` if not given"),
        Field::rw("purchase_date", Kind::Date).nullable(),
        Field::rw("warranty_expiry", Kind::Date).nullable(),
        Field::rw("location", Kind::String).nullable(),
        Field::rw("latitude", Kind::Number).nullable(),
        Field::rw("longitude", Kind::Number).nullable(),
        Field::rw("notes", Kind::String),
        Field::rw("tags", Kind::Strings),
        Field::rw("custom_fields", Kind::Object),
        Field::rw("needs_reorder", Kind::Boolean),
        Field::ro("source", Kind::Object)
            .nullable()
            .about("The RMM device the asset is synced from"),
        Field::ro("created_by", Kind::Integer).nullable(),
    ],
    search: &[
        "name",
        "serial_number",
        "asset_tag",
        "model",
        "manufacturer",
        "hostname",
        "ip_address",
        "mac_address",
    ],
};

/// `aa:bb:cc:dd:ee:ff` from any of the usual spellings (colons, dashes, dots, none).
pub fn normalise_mac(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(
        (0..6)
            .map(|i| &hex[i * 2..i * 2 + 2])
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Reads a complete asset from a JSON object (create and `PUT`; `PATCH` merges first).
pub fn parse(map: &Map<String, Value>) -> Result<AssetFields, ValidationErrors> {
    let mut r = Reader {
        map,
        errors: ValidationErrors::new(),
    };
    let name = r.text("name", 255);
    if name.is_none() && !r.errors.contains_key("name") {
        r.fail("name", "This field is required.");
    }
    let ip_address = r
        .text("ip_address", 64)
        .and_then(|ip| match ip.parse::<IpAddr>() {
            Ok(addr) => Some(addr.to_string()),
            Err(_) => {
                r.fail("ip_address", "Enter a valid IPv4 or IPv6 address.");
                None
            }
        });
    let mac_address = r
        .text("mac_address", 32)
        .and_then(|mac| match normalise_mac(&mac) {
            Some(mac) => Some(mac),
            None => {
                r.fail(
                    "mac_address",
                    "Enter a valid MAC address, e.g. aa:bb:cc:dd:ee:ff.",
                );
                None
            }
        });
    let ram_gb = r.number("ram_gb", 0.0, 1_048_576.0).map(|v| v as i32);
    if r.map
        .get("ram_gb")
        .and_then(Value::as_f64)
        .is_some_and(|v| v.fract() != 0.0)
    {
        r.fail("ram_gb", "A whole number is required.");
    }
    let tags = r.tags("tags");
    let custom_fields = r.object("custom_fields");
    let fields = AssetFields {
        name: name.unwrap_or_default(),
        asset_type: r.choice("asset_type", ASSET_TYPES, "other"),
        asset_tag: r.text("asset_tag", 100),
        serial_number: r.text("serial_number", 255),
        manufacturer: r.text("manufacturer", 255),
        model: r.text("model", 255),
        hostname: r.text("hostname", 255),
        ip_address,
        mac_address,
        os_name: r.text("os_name", 100),
        os_version: r.text("os_version", 100),
        firmware_version: r.text("firmware_version", 100),
        cpu: r.text("cpu", 200),
        ram_gb,
        storage: r.text("storage", 200),
        status: r.choice("status", STATUSES, "active"),
        purchase_date: r.date("purchase_date"),
        warranty_expiry: r.date("warranty_expiry"),
        location: r.text("location", 255),
        latitude: r.number("latitude", -90.0, 90.0),
        longitude: r.number("longitude", -180.0, 180.0),
        notes: r.text("notes", 100_000).unwrap_or_default(),
        tags,
        custom_fields,
        needs_reorder: r.boolean("needs_reorder"),
    };
    if r.errors.is_empty() {
        Ok(fields)
    } else {
        Err(r.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn normalises_and_validates() {
        let fields = parse(&map(serde_json::json!({
            "name": " core-sw ", "asset_type": "switch", "mac_address": "AA-BB-CC-DD-EE-0F",
            "ip_address": "2001:db8::1", "tags": ["core", "core", "dc1"], "purchase_date": "2024-02-29"
        })))
        .unwrap();
        assert_eq!(fields.name, "core-sw");
        assert_eq!(fields.mac_address.as_deref(), Some("aa:bb:cc:dd:ee:0f"));
        assert_eq!(fields.tags, vec!["core", "dc1"]);
        assert_eq!(fields.status, "active");
        let errors = parse(&map(serde_json::json!({
            "asset_type": "toaster", "ip_address": "300.1.1.1", "mac_address": "zz", "latitude": 91,
            "purchase_date": "2024-13-01", "tags": "x", "custom_fields": [], "ram_gb": 1.5
        })))
        .unwrap_err();
        for field in [
            "name",
            "asset_type",
            "ip_address",
            "mac_address",
            "latitude",
            "purchase_date",
            "tags",
            "custom_fields",
            "ram_gb",
        ] {
            assert!(
                errors.contains_key(field),
                "{field} not reported: {errors:?}"
            );
        }
    }
}
