//! Reading and checking vehicle input.

use clientstor_http::ValidationErrors;
use clientstor_runtime::openapi::{Field, Kind, Model};
use serde_json::{Map, Value};

use crate::db::vehicles::VehicleFields;
use clientstor_http::reader::Reader;

pub const VEHICLE_TYPES: &[&str] = &[
    "sedan",
    "suv",
    "truck",
    "van",
    "cargo_van",
    "pickup",
    "other",
];
pub const STATUSES: &[&str] = &["active", "inactive", "maintenance", "retired"];
pub const CONDITIONS: &[&str] = &["excellent", "good", "fair", "poor", "needs_repair"];

/// The vehicle representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "Vehicle",
    noun: "vehicle",
    about: "Fleet vehicles, with insurance and registration dates, service history and fuel logs",
    record: true,
    fields: &[
        Field::rw("name", Kind::String).required(),
        Field::rw("vehicle_type", Kind::Enum(VEHICLE_TYPES)).about("`other` if not given"),
        Field::rw("make", Kind::String).nullable(),
        Field::rw("model", Kind::String).nullable(),
        Field::rw("year", Kind::Integer)
            .nullable()
            .about("1900 to 2100"),
        Field::rw("color", Kind::String).nullable(),
        Field::rw("vin", Kind::String)
            .nullable()
            .about("17 characters of [A-HJ-NPR-Z0-9], stored upper-case; unique in the organization"),
        Field::rw("license_plate", Kind::String).nullable(),
        Field::rw("status", Kind::Enum(STATUSES)).about("`active` if not given"),
        Field::rw("condition", Kind::Enum(CONDITIONS)).about("`good` if not given"),
        Field::rw("current_mileage", Kind::Integer)
            .about("0 if not given; saving a fuel log raises it"),
        Field::rw("insurance_provider", Kind::String).nullable(),
        Field::rw("insurance_policy_number", Kind::String).nullable(),
        Field::rw("insurance_expires_at", Kind::Date).nullable(),
        Field::rw("registration_expires_at", Kind::Date).nullable(),
        Field::rw("latitude", Kind::Number).nullable(),
        Field::rw("longitude", Kind::Number).nullable(),
        Field::ro("last_location_update", Kind::DateTime)
            .nullable()
            .about("When the RMM device last moved the vehicle"),
        Field::rw("assigned_to", Kind::Integer)
            .nullable()
            .about("A user id"),
        Field::rw("purchase_date", Kind::Date).nullable(),
        Field::rw("purchase_price", Kind::String)
            .nullable()
            .about("A decimal string with 2 places (a number is accepted)"),
        Field::rw("notes", Kind::String),
        Field::rw("rmm_device", Kind::Object).nullable().about(
            "`{\"integration\": <RMM integration id>, \"external_id\": \"<device id>\"}`: the device whose GPS readings move the vehicle",
        ),
    ],
    search: &["name", "make", "model", "vin", "license_plate"],
};

/// 17 characters of `[A-HJ-NPR-Z0-9]` (no I, O or Q); the check digit is not required.
pub fn valid_vin(vin: &str) -> bool {
    vin.len() == 17
        && vin.bytes().all(|b| {
            (b.is_ascii_uppercase() && !matches!(b, b'I' | b'O' | b'Q')) || b.is_ascii_digit()
        })
}

/// `{"integration": <id>, "external_id": "…"}`: the RMM device whose GPS readings move the
/// vehicle.
fn rmm_device(r: &mut Reader<'_>) -> Option<Value> {
    let value = r.map.get("rmm_device")?;
    if value.is_null() {
        return None;
    }
    let integration = value
        .get("integration")
        .and_then(Value::as_i64)
        .filter(|i| *i > 0);
    let external_id = value
        .get("external_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty() && e.len() <= 255);
    let keys_ok = value
        .as_object()
        .is_some_and(|o| o.keys().all(|k| k == "integration" || k == "external_id"));
    match (integration, external_id) {
        (Some(integration), Some(external_id)) if keys_ok => Some(serde_json::json!({
            "integration": integration,
            "external_id": external_id,
        })),
        _ => {
            r.fail(
                "rmm_device",
                "Expected {\"integration\": <integration id>, \"external_id\": \"<device id>\"}.",
            );
            None
        }
    }
}

/// Reads a complete vehicle from a JSON object (create and `PUT`; `PATCH` merges first).
pub fn parse(map: &Map<String, Value>) -> Result<VehicleFields, ValidationErrors> {
    let mut r = Reader::new(map);
    let name = r.text("name", 200);
    if name.is_none() && !r.errors.contains_key("name") {
        r.fail("name", "This field is required.");
    }
    let vin = r.text("vin", 17).map(|v| v.to_ascii_uppercase());
    if vin.as_deref().is_some_and(|v| !valid_vin(v)) {
        r.fail("vin", "A VIN is 17 letters and digits, without I, O or Q.");
    }
    let year = r.number("year", 1900.0, 2100.0).map(|y| y as i32);
    let current_mileage = r
        .number("current_mileage", 0.0, 10_000_000.0)
        .map_or(0, |m| m as i32);
    let assigned_to = r.number("assigned_to", 1.0, 9.0e15).map(|v| v as i64);
    let purchase_price_cents = r.fixed("purchase_price", 2);
    let rmm_device = rmm_device(&mut r);
    let fields = VehicleFields {
        name: name.unwrap_or_default(),
        vehicle_type: r.choice("vehicle_type", VEHICLE_TYPES, "other"),
        make: r.text("make", 100),
        model: r.text("model", 100),
        year,
        color: r.text("color", 50),
        vin,
        license_plate: r.text("license_plate", 20),
        status: r.choice("status", STATUSES, "active"),
        condition: r.choice("condition", CONDITIONS, "good"),
        current_mileage,
        insurance_provider: r.text("insurance_provider", 200),
        insurance_policy_number: r.text("insurance_policy_number", 100),
        insurance_expires_at: r.date("insurance_expires_at"),
        registration_expires_at: r.date("registration_expires_at"),
        latitude: r.number("latitude", -90.0, 90.0),
        longitude: r.number("longitude", -180.0, 180.0),
        assigned_to,
        purchase_date: r.date("purchase_date"),
        purchase_price_cents,
        notes: r.text("notes", 100_000).unwrap_or_default(),
        rmm_device,
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

    #[test]
    fn vins() {
        assert!(valid_vin("1HGCM82633A004352"));
        assert!(!valid_vin("1HGCM82633A00435"), "16 characters");
        assert!(!valid_vin("1HGCM82633A00435O"), "no O");
    }
}
