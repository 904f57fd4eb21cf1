//! Datto RMM API v2: an OAuth password grant with the public client at the host root, 0-based
//! pages that link to the next one, serial/make/model/MACs from a per-device audit fetched only
//! when `lastAuditDate` changed (audits cost read quota shared with the partner's other tools),
//! and open alerts.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::fields::{self, text};
use super::http::{Login, Session, Token};
use super::{CallError, Config, Http, KnownDevices, Page, raw_id, read_record};
use crate::device::{Alert, Device, Malformed};

const DEVICES: &str = "/api/v2/account/devices";
const ALERTS: &str = "/api/v2/account/alerts/open";

pub struct Datto {
    config: Config,
    session: Session<DattoLogin>,
    next: Cursor,
}

/// Where the device listing goes on.
enum Cursor {
    First,
    At(Url),
    Done,
}

struct DattoLogin {
    base: String,
    credentials: super::Credentials,
}

impl Login for DattoLogin {
    async fn login(&self, http: &Http) -> Result<Token, CallError> {
        let key = fields::credential(&self.credentials, "api_key")?;
        let secret = fields::credential(&self.credentials, "api_secret")?;
        let url = fields::endpoint(&self.base, "/auth/oauth/token", &[], &[])?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("username", &key)
            .append_pair("password", &secret)
            .finish();
        fields::oauth_token(http, &url, &form, Some(("public-client", "public"))).await
    }
}

/// A list page: `pageDetails` plus `devices` or `alerts`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    page_details: Option<PageDetails>,
    devices: Option<Vec<Value>>,
    alerts: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageDetails {
    next_page_url: Option<String>,
}

/// The page after `current`. Only its path and query are taken: the token goes to the
/// configured host alone, whatever host the platform writes into the link. The link has been
/// seen to drop parameters; without `max` the next page would be cut at another size and
/// skip devices, so `current`'s `max` is put back.
fn follow(base: &str, current: &Url, next: Option<&str>) -> Result<Option<Url>, CallError> {
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let unreadable = || CallError::Status {
        status: 200,
        detail: "pageDetails.nextPageUrl is not a URL".into(),
    };
    let joined = current.join(next).map_err(|_| unreadable())?;
    let mut pinned = fields::endpoint(base, joined.path(), &[], &[])?;
    pinned.set_query(joined.query());
    let has_max = pinned.query_pairs().any(|(key, _)| key == "max");
    if let Some((_, max)) = current.query_pairs().find(|(key, _)| key == "max")
        && !has_max
    {
        pinned.query_pairs_mut().append_pair("max", &max);
    }
    Ok((pinned != *current).then_some(pinned))
}

impl Datto {
    pub fn new(config: Config, http: Http) -> Self {
        let login = DattoLogin {
            base: config.base_url.clone(),
            credentials: config.credentials.clone(),
        };
        Self {
            session: Session::new(http, login),
            config,
            next: Cursor::First,
        }
    }

    fn first(&self, path: &str) -> Result<Url, CallError> {
        let max = self.config.page_size.clamp(1, 250).to_string();
        fields::endpoint(
            &self.config.base_url,
            path,
            &[],
            &[("page", "0"), ("max", &max)],
        )
    }

    async fn list(&mut self, url: &Url) -> Result<(Listing, Option<Url>), CallError> {
        let listing: Listing = self
            .session
            .get_json(|client, token| client.get(url.as_str()).bearer_auth(token))
            .await?;
        let next = listing
            .page_details
            .as_ref()
            .and_then(|p| p.next_page_url.as_deref());
        let next = follow(&self.config.base_url, url, next)?;
        Ok((listing, next))
    }

    pub async fn next_page(&mut self, known: &KnownDevices) -> Result<Option<Page>, CallError> {
        let url = match &self.next {
            Cursor::Done => return Ok(None),
            Cursor::First => self.first(DEVICES)?,
            Cursor::At(url) => url.clone(),
        };
        let (listing, next) = self.list(&url).await?;
        let records = listing.devices.unwrap_or_default();
        self.next = match next {
            Some(next) if !records.is_empty() => Cursor::At(next),
            _ => Cursor::Done,
        };
        if records.is_empty() {
            return Ok(None);
        }
        let mut devices = Vec::with_capacity(records.len());
        for record in records
            .iter()
            .filter(|r| r.get("deleted") != Some(&Value::Bool(true)))
        {
            match read_record(record, "uid", device) {
                Ok(device) => devices.push(self.with_audit(device, known).await?),
                Err(malformed) => devices.push(Err(malformed)),
            }
        }
        Ok(Some(Page { devices }))
    }

    /// Fills the audit fields, from the previous run when the audit has not changed. A failed
    /// audit marks only this device, unless it means the whole listing would fail too.
    async fn with_audit(
        &mut self,
        mut device: Device,
        known: &KnownDevices,
    ) -> Result<Result<Device, Malformed>, CallError> {
        if let Some(known) = known.get(&device.external_id)
            && known.audit_stamp == device.audit_stamp
        {
            device.serial.clone_from(&known.serial);
            device.manufacturer.clone_from(&known.manufacturer);
            device.model.clone_from(&known.model);
            device.mac_addresses.clone_from(&known.mac_addresses);
            device.firmware_version.clone_from(&known.firmware_version);
            return Ok(Ok(device));
        }
        let id = device.external_id.clone();
        let url = fields::endpoint(&self.config.base_url, "/api/v2/audit/device", &[&id], &[])?;
        let audit = self
            .session
            .get_json::<Value>(|client, token| client.get(url.as_str()).bearer_auth(token))
            .await;
        let reason = match audit {
            Ok(audit) => match apply_audit(&mut device, &audit) {
                Ok(()) => return Ok(Ok(device)),
                Err(reason) => format!("the audit could not be read: {reason}"),
            },
            Err(
                e @ (CallError::RateLimited | CallError::Unauthorized(_) | CallError::Transport(_)),
            ) => {
                return Err(e);
            }
            Err(e) => format!("the audit could not be fetched: {e}"),
        };
        Ok(Err(Malformed {
            external_id: Some(id),
            reason,
        }))
    }

    /// Open alerts, every page.
    pub async fn alerts(&mut self) -> Result<Vec<Alert>, CallError> {
        let mut url = self.first(ALERTS)?;
        let mut alerts = Vec::new();
        loop {
            let (listing, next) = self.list(&url).await?;
            let records = listing.alerts.unwrap_or_default();
            for record in &records {
                match alert(record) {
                    Ok(alert) => alerts.push(alert),
                    Err(reason) => tracing::warn!(
                        alert = raw_id(record, "alertUid"),
                        %reason,
                        "skipped a Datto alert that could not be read"
                    ),
                }
            }
            match next {
                Some(next) if !records.is_empty() => url = next,
                _ => return Ok(alerts),
            }
        }
    }
}

/// `lastAuditDate` as text, to compare with the stamp stored by the previous run.
fn audit_stamp(record: &Value) -> Result<Option<String>, String> {
    match fields::at(record, "lastAuditDate")? {
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        _ => text(record, "lastAuditDate"),
    }
}

/// The trailing version of `operatingSystem` (`… 10.0.22631`), when it ends with one.
fn os_version(os: &str) -> Option<String> {
    let last = os.rsplit(' ').next()?;
    let dotted = last.contains('.') && last.chars().all(|c| c.is_ascii_digit() || c == '.');
    dotted.then(|| last.to_string())
}

fn asset_type(record: &Value) -> Result<Option<String>, String> {
    let class = text(record, "deviceClass")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let category = text(record, "deviceType.category")?;
    Ok(match class.as_str() {
        "printer" => Some("printer".into()),
        "esxihost" => Some("server".into()),
        _ => category
            .as_deref()
            .and_then(fields::asset_class)
            .or_else(|| (class == "rmmnetworkdevice").then(|| "other".into())),
    })
}

/// One device of an `account/devices` page, without its audit.
pub(crate) fn device(record: &Value) -> Result<Device, String> {
    let os = text(record, "operatingSystem")?;
    let mut device = Device {
        external_id: fields::required_id(record, "uid")?,
        hostname: text(record, "hostname")?,
        os_version: os.as_deref().and_then(os_version),
        os_name: os,
        online: fields::flag(record, "online")?,
        last_seen: fields::epoch_ms(record, "lastSeen")?,
        client_id: fields::id(record, "siteUid")?,
        client_name: text(record, "siteName")?,
        asset_type: asset_type(record)?,
        audit_stamp: audit_stamp(record)?,
        ..Device::default()
    };
    for path in ["intIpAddress", "extIpAddress"] {
        if let Some(ip) = text(record, path)? {
            fields::push_ip(&mut device.ip_addresses, &ip);
        }
    }
    Ok(device)
}

/// Serial, make, model, firmware and MACs from `audit/device/{uid}`.
pub(crate) fn apply_audit(device: &mut Device, audit: &Value) -> Result<(), String> {
    device.manufacturer = text(audit, "systemInfo.manufacturer")?;
    device.model = text(audit, "systemInfo.model")?;
    device.serial = fields::serial(audit, "bios.serialNumber")?;
    device.firmware_version = text(audit, "bios.instance")?;
    device.mac_addresses.clear();
    for (i, nic) in fields::list(audit, "nics")?.iter().enumerate() {
        let mac = text(nic, "macAddress").map_err(|e| format!("nics[{i}]: {e}"))?;
        if let Some(mac) = mac {
            fields::push_mac(&mut device.mac_addresses, &mac);
        }
    }
    Ok(())
}

/// One open alert. Unknown `alertContext` classes are kept by name.
pub(crate) fn alert(record: &Value) -> Result<Alert, String> {
    let class = text(record, "alertContext.@class")?;
    let resolved = fields::flag(record, "resolved")?.unwrap_or(false);
    let priority = text(record, "priority")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let severity = match priority.as_str() {
        "critical" | "high" | "moderate" | "low" | "information" => priority,
        _ => "unknown".into(),
    };
    Ok(Alert {
        external_id: fields::required_id(record, "alertUid")?,
        device_external_id: fields::id(record, "alertSourceInfo.deviceUid")?,
        device_name: text(record, "alertSourceInfo.deviceName")?,
        status: if resolved { "resolved" } else { "open" }.into(),
        severity,
        message: text(record, "diagnostics")?
            .or_else(|| class.clone())
            .unwrap_or_default(),
        alert_type: class,
        triggered_at: fields::epoch_ms(record, "timestamp")?,
        resolved_at: fields::epoch_ms(record, "resolvedOn")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use serde_json::json;

    /// §2.8 of the API reference (device, audit and alert page).
    fn page() -> Value {
        json!({
          "pageDetails": {"count": 1, "totalCount": 413, "prevPageUrl": null,
            "nextPageUrl": "https://merlot-api.centrastage.net/api/v2/account/devices?max=1&page=1"},
          "devices": [{
            "id": 9182736, "uid": "3f1c2a9e-5b7d-4e21-9c0a-6d2f8e4b1a77", "siteId": 40411,
            "siteUid": "b7d0c3e2-1a44-4f6e-8b9d-0e5c2a7f3d18", "siteName": "Northwind - HQ",
            "deviceType": {"category": "Laptop", "type": "Laptop"}, "hostname": "NW-LT-0142",
            "intIpAddress": "10.12.0.57", "extIpAddress": "198.51.100.23",
            "operatingSystem": "Microsoft Windows 11 Pro 10.0.22631", "online": true,
            "suspended": false, "deleted": false, "lastSeen": 1731938607000i64,
            "lastReboot": 1731830000000i64, "lastAuditDate": 1731920000000i64,
            "udf": {"udf1": "Finance", "udf2": null}, "deviceClass": "device",
            "warrantyDate": "2026-05-31",
            "antivirus": {"antivirusProduct": "Windows Defender", "antivirusStatus": "RunningAndUpToDate"}
          }]
        })
    }

    fn audit() -> Value {
        json!({
          "systemInfo": {"manufacturer": "LENOVO", "model": "20XW004QUS", "totalCpuCores": 8},
          "bios": {"instance": "N32ET86W (1.62 )", "releaseDate": 1706745600000i64,
                   "serialNumber": "PF3ABCDE", "smBiosVersion": "3.2"},
          "nics": [{"instance": "Intel(R) Wi-Fi 6 AX201 160MHz", "ipv4": "10.12.0.57",
                    "ipv6": "fe80::1c2d:3e4f:5a6b:7c8d", "macAddress": "3C:9C:0F:11:22:33",
                    "type": "Wireless"}]
        })
    }

    #[test]
    fn the_documented_device_and_audit_normalise() {
        let listing: Listing = serde_json::from_value(page()).unwrap();
        let record = &listing.devices.unwrap()[0];
        let mut laptop = device(record).unwrap();
        assert_eq!(laptop.external_id, "3f1c2a9e-5b7d-4e21-9c0a-6d2f8e4b1a77");
        assert_eq!(laptop.hostname.as_deref(), Some("NW-LT-0142"));
        assert_eq!(
            laptop.os_name.as_deref(),
            Some("Microsoft Windows 11 Pro 10.0.22631")
        );
        assert_eq!(laptop.os_version.as_deref(), Some("10.0.22631"));
        assert_eq!(laptop.ip_addresses, vec!["10.12.0.57", "198.51.100.23"]);
        assert_eq!(laptop.online, Some(true));
        assert_eq!(laptop.last_seen, DateTime::from_timestamp(1731938607, 0));
        assert_eq!(
            laptop.client_id.as_deref(),
            Some("b7d0c3e2-1a44-4f6e-8b9d-0e5c2a7f3d18")
        );
        assert_eq!(laptop.client_name.as_deref(), Some("Northwind - HQ"));
        assert_eq!(laptop.site_id, None);
        assert_eq!(laptop.asset_type.as_deref(), Some("laptop"));
        assert_eq!(laptop.audit_stamp.as_deref(), Some("1731920000000"));
        assert_eq!(laptop.serial, None);

        apply_audit(&mut laptop, &audit()).unwrap();
        assert_eq!(laptop.manufacturer.as_deref(), Some("LENOVO"));
        assert_eq!(laptop.model.as_deref(), Some("20XW004QUS"));
        assert_eq!(laptop.serial.as_deref(), Some("PF3ABCDE"));
        assert_eq!(laptop.firmware_version.as_deref(), Some("N32ET86W (1.62 )"));
        assert_eq!(laptop.mac_addresses, vec!["3c:9c:0f:11:22:33"]);

        let mut bad_audit = audit();
        bad_audit["nics"][0]["macAddress"] = json!({"mac": 1});
        assert!(
            apply_audit(&mut laptop, &bad_audit)
                .unwrap_err()
                .starts_with("nics[0]")
        );
    }

    #[test]
    fn malformed_devices_classes_and_date_strings() {
        let mut record = page()["devices"][0].clone();
        record["hostname"] = json!({"name": "NW-LT-0142"});
        let bad = read_record(&record, "uid", device).unwrap_err();
        assert_eq!(
            bad.external_id.as_deref(),
            Some("3f1c2a9e-5b7d-4e21-9c0a-6d2f8e4b1a77")
        );
        assert!(bad.reason.contains("hostname"), "{}", bad.reason);

        let mut record = page()["devices"][0].clone();
        record["lastSeen"] = json!("2024-11-18T14:03:27Z");
        record["lastAuditDate"] = json!("2024-11-18T09:00:00Z");
        record["deviceClass"] = json!("esxihost");
        let host = device(&record).unwrap();
        assert_eq!(host.last_seen, DateTime::from_timestamp(1731938607, 0));
        assert_eq!(host.audit_stamp.as_deref(), Some("2024-11-18T09:00:00Z"));
        assert_eq!(host.asset_type.as_deref(), Some("server"));
        record["deviceClass"] = json!("printer");
        assert_eq!(
            device(&record).unwrap().asset_type.as_deref(),
            Some("printer")
        );
        record["uid"] = json!(["x"]);
        assert!(device(&record).is_err());
    }

    #[test]
    fn next_page_links_stay_on_the_configured_host() {
        let base = "http://127.0.0.1:9000";
        let current =
            Url::parse("http://127.0.0.1:9000/api/v2/account/devices?page=0&max=1").unwrap();
        let next = "https://merlot-api.centrastage.net/api/v2/account/devices?max=1&page=1";
        let followed = follow(base, &current, Some(next)).unwrap().unwrap();
        assert_eq!(
            followed.as_str(),
            "http://127.0.0.1:9000/api/v2/account/devices?max=1&page=1"
        );
        let dropped = follow(base, &current, Some("/api/v2/account/devices?page=1")).unwrap();
        assert_eq!(dropped.unwrap().query(), Some("page=1&max=1"));
        assert_eq!(follow(base, &current, None).unwrap(), None);
        assert_eq!(
            follow(base, &current, Some(current.as_str())).unwrap(),
            None
        );
    }

    #[test]
    fn alerts_map_and_unknown_classes_do_not_fail() {
        let record = json!({
          "alertUid": "8c0f3a1d-2b4e-4c6f-9a8b-7d6e5f4a3b2c", "priority": "High",
          "diagnostics": "Device has been offline for 15 minutes", "resolved": false,
          "resolvedBy": null, "resolvedOn": null, "muted": false, "ticketNumber": null,
          "timestamp": 1731936000000i64,
          "alertContext": {"@class": "online_offline_status_ctx", "status": "OFFLINE"},
          "alertSourceInfo": {"deviceUid": "3f1c2a9e-5b7d-4e21-9c0a-6d2f8e4b1a77",
            "deviceName": "NW-LT-0142", "siteUid": "b7d0c3e2", "siteName": "Northwind - HQ"},
          "responseActions": [], "autoresolveMins": 0
        });
        let open = alert(&record).unwrap();
        assert_eq!(open.external_id, "8c0f3a1d-2b4e-4c6f-9a8b-7d6e5f4a3b2c");
        assert_eq!(
            open.device_external_id.as_deref(),
            Some("3f1c2a9e-5b7d-4e21-9c0a-6d2f8e4b1a77")
        );
        assert_eq!(open.device_name.as_deref(), Some("NW-LT-0142"));
        assert_eq!(
            (open.status.as_str(), open.severity.as_str()),
            ("open", "high")
        );
        assert_eq!(open.message, "Device has been offline for 15 minutes");
        assert_eq!(
            open.alert_type.as_deref(),
            Some("online_offline_status_ctx")
        );
        assert_eq!(open.triggered_at, DateTime::from_timestamp(1731936000, 0));
        assert_eq!(open.resolved_at, None);

        let mut other = record.clone();
        other["alertContext"] = json!({"@class": "brand_new_monitor_ctx", "anything": [1, 2]});
        other["diagnostics"] = json!("");
        other["priority"] = json!("Urgent");
        other["resolved"] = json!(true);
        other["resolvedOn"] = json!(1731937000000i64);
        let other = alert(&other).unwrap();
        assert_eq!(other.message, "brand_new_monitor_ctx");
        assert_eq!(
            (other.status.as_str(), other.severity.as_str()),
            ("resolved", "unknown")
        );
        assert_eq!(other.resolved_at, DateTime::from_timestamp(1731937000, 0));

        assert!(alert(&json!({"alertUid": {"x": 1}})).is_err());
        assert!(alert(&json!({"priority": "Low"})).is_err());
    }
}
