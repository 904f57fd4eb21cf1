//! The normalised device and alert every connector produces, whatever the platform's format.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One device as the platform reported it, in our terms. Empty strings are `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The platform's stable id (Automate `Id`, Datto `uid`, NinjaOne `id`, Syncro `id`).
    pub external_id: String,
    pub hostname: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    /// BIOS or firmware version where the platform reports one.
    pub firmware_version: Option<String>,
    /// LAN addresses first, then the public one.
    pub ip_addresses: Vec<String>,
    /// Normalised `aa:bb:cc:dd:ee:ff`.
    pub mac_addresses: Vec<String>,
    pub online: Option<bool>,
    pub last_seen: Option<DateTime<Utc>>,
    /// The platform's customer: Automate client, Datto site, NinjaOne organization, Syncro
    /// customer.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// Automate location, NinjaOne location.
    pub site_id: Option<String>,
    pub site_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// One of inventory's asset types (`server`, `workstation`, `laptop`, …) when the platform's
    /// class maps to one.
    pub asset_type: Option<String>,
    /// When the platform last refreshed the hardware data (Datto `lastAuditDate`), so detail
    /// fetched per device is fetched again only when it changed.
    pub audit_stamp: Option<String>,
}

/// A device record that could not be read; the run lists it as an error and goes on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Malformed {
    pub external_id: Option<String>,
    pub reason: String,
}

/// An alert as the platform reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub external_id: String,
    pub device_external_id: Option<String>,
    pub device_name: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    /// `critical`, `high`, `moderate`, `low`, `information` or `unknown`.
    pub severity: String,
    pub message: String,
    /// The alert's type as the platform names it (Datto `alertContext.@class`).
    pub alert_type: Option<String>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// `aa:bb:cc:dd:ee:ff` from the usual spellings; anything else (or all zeros) is dropped.
pub fn normalise_mac(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
        || hex.bytes().all(|b| b == b'0')
    {
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

/// A trimmed string, `None` when empty.
pub fn clean(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Coordinates from `"lat,long"` in decimal degrees; anything out of range is `None`.
pub fn parse_lat_long(text: &str) -> Option<(f64, f64)> {
    let (lat, long) = text.split_once(',')?;
    let lat: f64 = lat.trim().parse().ok()?;
    let long: f64 = long.trim().parse().ok()?;
    valid_coordinates(lat, long).then_some((lat, long))
}

pub fn valid_coordinates(lat: f64, long: f64) -> bool {
    lat.is_finite()
        && long.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&long)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_normalise_and_junk_is_dropped() {
        assert_eq!(
            normalise_mac("94-40-C9-3A-55-10").as_deref(),
            Some("94:40:c9:3a:55:10")
        );
        assert_eq!(
            normalise_mac("9C:7B:EF:12:34:56").as_deref(),
            Some("9c:7b:ef:12:34:56")
        );
        assert_eq!(normalise_mac("00-00-00-00-00-00"), None);
        assert_eq!(normalise_mac("nonsense"), None);
    }

    #[test]
    fn coordinates_parse_only_in_range() {
        assert_eq!(parse_lat_long(" 39.799, -89.644 "), Some((39.799, -89.644)));
        assert_eq!(parse_lat_long("91,0"), None);
        assert_eq!(parse_lat_long("abc"), None);
        assert_eq!(parse_lat_long(""), None);
    }
}
