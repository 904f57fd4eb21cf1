//! Syncro customer assets: a static API token in the `Authorization` header (never the
//! `api_key` query parameter, which ends up in logs), 1-based pages up to `meta.total_pages`,
//! agent data under `properties.kabuto_information`, and online derived from the last sync,
//! since assets carry no online flag.

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::Deserialize;
use serde_json::Value;

use super::fields::{self, text};
use super::http::{Login, Session, Token};
use super::{CallError, Config, Http, KnownDevices, Page, read_record};
use crate::device::{Device, valid_coordinates};

/// The agent's inventory of an asset.
const AGENT: &str = "properties.kabuto_information";

pub struct Syncro {
    config: Config,
    session: Session<SyncroLogin>,
    /// The next page to ask for, from 1; `None` once the listing is complete.
    page: Option<u32>,
}

/// The token does not expire; "logging in" only hands it to the session.
struct SyncroLogin {
    credentials: super::Credentials,
}

impl Login for SyncroLogin {
    async fn login(&self, _http: &Http) -> Result<Token, CallError> {
        let key = fields::credential(&self.credentials, "api_key")?;
        Ok(Token::expiring_in(key, 10 * 365 * 86_400))
    }
}

#[derive(Deserialize)]
struct Listing {
    assets: Option<Vec<Value>>,
    meta: Option<Value>,
}

impl Syncro {
    pub fn new(config: Config, http: Http) -> Self {
        let login = SyncroLogin {
            credentials: config.credentials.clone(),
        };
        Self {
            session: Session::new(http, login),
            config,
            page: Some(1),
        }
    }

    pub async fn next_page(&mut self, _known: &KnownDevices) -> Result<Option<Page>, CallError> {
        let Some(page) = self.page else {
            return Ok(None);
        };
        let page_text = page.to_string();
        let url = fields::endpoint(
            &self.config.base_url,
            "/api/v1/customer_assets",
            &[],
            &[("page", &page_text)],
        )?;
        let listing: Listing = self
            .session
            .get_json(|client, token| {
                client
                    .get(url.as_str())
                    .header(AUTHORIZATION, token)
                    .header(ACCEPT, "application/json")
            })
            .await?;
        let assets = listing.assets.unwrap_or_default();
        let total = listing
            .meta
            .as_ref()
            .and_then(|m| m.get("total_pages")?.as_u64());
        self.page = match total {
            Some(total) if u64::from(page) >= total => None,
            _ if assets.is_empty() => None,
            _ => Some(page.saturating_add(1)),
        };
        if assets.is_empty() {
            return Ok(None);
        }
        let (within, now) = (self.config.online_within_minutes, Utc::now());
        let devices = assets
            .iter()
            .map(|record| read_record(record, "id", |record| asset(record, within, now)))
            .collect();
        Ok(Some(Page { devices }))
    }
}

fn agent(path: &str) -> String {
    format!("{AGENT}.{path}")
}

/// Tunnels (VPN, TAP) carry no address worth keeping; virtual switches come after real NICs.
fn adapter_rank(adapter: &Value) -> Result<Option<u8>, String> {
    let label = [text(adapter, "name")?, text(adapter, "description")?]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| label.contains(w));
    if has(&[
        "vpn",
        "tap-",
        "tap adapter",
        "wireguard",
        "tailscale",
        "zerotier",
        "loopback",
    ]) {
        return Ok(None);
    }
    if has(&[
        "virtual",
        "hyper-v",
        "vmware",
        "virtualbox",
        "vethernet",
        "docker",
    ]) {
        return Ok(Some(2));
    }
    Ok(Some(if text(adapter, "gateway")?.is_some() {
        0
    } else {
        1
    }))
}

/// LAN addresses and MACs from the agent's adapters, the adapter with a gateway first.
fn adapters(record: &Value, device: &mut Device) -> Result<(), String> {
    let path = agent("network_adapters");
    let mut ranked = Vec::new();
    for (i, adapter) in fields::list(record, &path)?.iter().enumerate() {
        let read = |field: &str| text(adapter, field).map_err(|e| format!("{path}[{i}]: {e}"));
        let rank = adapter_rank(adapter).map_err(|e| format!("{path}[{i}]: {e}"))?;
        let (ip, mac) = (read("ipv4")?, read("physical_address")?);
        if let Some(rank) = rank {
            ranked.push((rank, ip, mac));
        }
    }
    ranked.sort_by_key(|(rank, ..)| *rank);
    for (_, ip, mac) in ranked {
        if let Some(ip) = ip {
            fields::push_ip(&mut device.ip_addresses, &ip);
        }
        if let Some(mac) = mac {
            fields::push_mac(&mut device.mac_addresses, &mac);
        }
    }
    Ok(())
}

/// One customer asset; `now` and `within_minutes` decide whether the agent counts as online.
pub(crate) fn asset(
    record: &Value,
    within_minutes: i64,
    now: DateTime<Utc>,
) -> Result<Device, String> {
    let last_seen = fields::iso(record, &agent("last_synced_at"))?;
    let asset_type = match text(record, &agent("general.form_factor"))? {
        Some(form) => Some(form),
        None => text(record, "asset_type")?.filter(|t| !t.eq_ignore_ascii_case("Syncro Device")),
    };
    let mut device = Device {
        external_id: fields::required_id(record, "id")?,
        hostname: text(record, "name")?,
        serial: fields::serial(record, "asset_serial")?
            .or(fields::serial(record, &agent("general.serial_number"))?),
        manufacturer: text(record, &agent("general.manufacturer"))?,
        model: text(record, &agent("general.model"))?,
        os_name: text(record, &agent("os.name"))?,
        os_version: text(record, &agent("os.build"))?,
        online: last_seen.map(|seen| now - seen <= Duration::minutes(within_minutes)),
        last_seen,
        client_id: fields::id(record, "customer_id")?.or(fields::id(record, "customer.id")?),
        client_name: text(record, "customer.business_name")?.or(text(record, "customer.fullname")?),
        asset_type: asset_type.as_deref().and_then(fields::asset_class),
        ..Device::default()
    };
    adapters(record, &mut device)?;
    if let Some(public) = text(record, &agent("general.ip"))? {
        fields::push_ip(&mut device.ip_addresses, &public);
    }
    let lat = fields::number(record, "address.latitude")?;
    let long = fields::number(record, "address.longitude")?;
    if let (Some(lat), Some(long)) = (lat, long)
        && valid_coordinates(lat, long)
    {
        (device.latitude, device.longitude) = (Some(lat), Some(long));
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// §4.7 of the API reference.
    fn record() -> Value {
        json!({
          "id": 7731204, "name": "FRONTDESK-02", "customer_id": 2210455, "contact_id": null,
          "created_at": "2023-03-14T09:12:44.512-05:00", "updated_at": "2024-11-18T07:40:02.118-06:00",
          "asset_type": "Syncro Device", "asset_serial": "MXL1234ABC", "external_rmm_link": null,
          "rmm_links": [], "has_live_chat": true, "snmp_enabled": false, "address": null,
          "properties": {
            "kabuto_live_uuid": "e4b1c2d3-0a9f-4e8d-b7c6-5a4b3c2d1e0f",
            "kabuto_information": {
              "general": {"manufacturer": "HP", "model": "HP EliteDesk 800 G6",
                          "serial_number": "MXL1234ABC", "form_factor": "Desktop",
                          "domain": "WORKGROUP", "ip": "203.0.113.77"},
              "os": {"name": "Microsoft Windows 10 Pro", "build": "19045",
                     "windows_release_version": "22H2", "os_architecture": "64-bit",
                     "last_boot_time": "2024-11-17T06:01:13-06:00", "pending_reboot": false},
              "network_adapters": [{
                "name": "Ethernet", "description": "Intel(R) Ethernet Connection (11) I219-LM",
                "type": "ethernet", "ipv4": "192.168.10.42", "ipv6": "fe80::a1b2:c3d4:e5f6:0718%7",
                "subnet": "255.255.255.0", "gateway": "192.168.10.1", "dns1": "192.168.10.1",
                "dns2": "", "dhcp_server": "192.168.10.1", "dhcp_enabled": true,
                "physical_address": "9C-7B-EF-12-34-56"}],
              "last_synced_at": "2024-11-18T07:39:55-06:00",
              "last_user": "FRONTDESK-02\\reception",
              "install_dates": {"os_install": "2023-03-14", "bios_release": "2023-08-02"}
            },
            "Service Tag": "MXL1234ABC"
          },
          "customer": {"id": 2210455, "business_name": "Maple Dental", "firstname": "Dana",
                       "lastname": "Ortiz", "fullname": "Dana Ortiz", "latitude": 39.7990,
                       "longitude": -89.6440},
          "rmm_store": {"id": 99102, "asset_id": 7731204,
                        "triggers": {"agent_offline_triggered": false}}
        })
    }

    fn synced() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-11-18T13:39:55Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn the_documented_asset_normalises() {
        let pc = asset(&record(), 15, synced() + Duration::minutes(5)).unwrap();
        assert_eq!(pc.external_id, "7731204");
        assert_eq!(pc.hostname.as_deref(), Some("FRONTDESK-02"));
        assert_eq!(pc.serial.as_deref(), Some("MXL1234ABC"));
        assert_eq!(pc.manufacturer.as_deref(), Some("HP"));
        assert_eq!(pc.model.as_deref(), Some("HP EliteDesk 800 G6"));
        assert_eq!(pc.os_name.as_deref(), Some("Microsoft Windows 10 Pro"));
        assert_eq!(pc.os_version.as_deref(), Some("19045"));
        assert_eq!(pc.ip_addresses, vec!["192.168.10.42", "203.0.113.77"]);
        assert_eq!(pc.mac_addresses, vec!["9c:7b:ef:12:34:56"]);
        assert_eq!(pc.last_seen, Some(synced()));
        assert_eq!(pc.online, Some(true));
        assert_eq!(pc.client_id.as_deref(), Some("2210455"));
        assert_eq!(pc.client_name.as_deref(), Some("Maple Dental"));
        assert_eq!(pc.asset_type.as_deref(), Some("desktop"));
        // Coordinates come from the asset's address, not the customer's.
        assert_eq!((pc.latitude, pc.longitude), (None, None));

        let stale = asset(&record(), 15, synced() + Duration::minutes(16)).unwrap();
        assert_eq!(stale.online, Some(false));
    }

    #[test]
    fn manual_assets_addresses_and_serial_fallback() {
        let manual = json!({
          "id": 88, "name": "Lobby printer", "customer_id": 5, "asset_type": "Printer",
          "asset_serial": "", "properties": {"Notes": "by the door"},
          "customer": {"business_name": "", "fullname": "Dana Ortiz"},
          "address": {"id": 3, "name": "Main office", "latitude": "39.799", "longitude": -89.644}
        });
        let printer = asset(&manual, 15, Utc::now()).unwrap();
        assert_eq!((printer.online, printer.serial), (None, None));
        assert_eq!(printer.asset_type.as_deref(), Some("printer"));
        assert_eq!(printer.client_name.as_deref(), Some("Dana Ortiz"));
        // An address is no site: its ids would be mistaken for customer ids in a mapping.
        assert_eq!((printer.site_id, printer.site_name), (None, None));
        assert_eq!(
            (printer.latitude, printer.longitude),
            (Some(39.799), Some(-89.644))
        );

        let mut far = manual.clone();
        far["address"]["latitude"] = json!(123.0);
        assert_eq!(asset(&far, 15, Utc::now()).unwrap().latitude, None);

        let mut agent_serial = record();
        agent_serial["asset_serial"] = json!(null);
        agent_serial["properties"]["kabuto_information"]["general"]["serial_number"] =
            json!("KAB-1");
        assert_eq!(
            asset(&agent_serial, 15, Utc::now())
                .unwrap()
                .serial
                .as_deref(),
            Some("KAB-1")
        );
    }

    #[test]
    fn vpn_adapters_are_skipped_and_the_gateway_adapter_comes_first() {
        let mut multi = record();
        multi["properties"]["kabuto_information"]["network_adapters"] = json!([
            {"name": "OpenVPN TAP-Windows6", "ipv4": "10.8.0.6", "physical_address": "00-FF-11-22-33-44"},
            {"name": "Wi-Fi", "ipv4": "169.254.10.2", "physical_address": "AA-BB-CC-00-11-22"},
            {"name": "Ethernet 2", "ipv4": "192.168.10.43", "gateway": "192.168.10.1"}
        ]);
        let pc = asset(&multi, 15, Utc::now()).unwrap();
        assert_eq!(pc.ip_addresses, vec!["192.168.10.43", "203.0.113.77"]);
        assert_eq!(pc.mac_addresses, vec!["aa:bb:cc:00:11:22"]);
    }

    #[test]
    fn a_malformed_record_is_reported_with_its_id() {
        let mut bad = record();
        bad["name"] = json!({"first": "FRONTDESK"});
        let bad = read_record(&bad, "id", |r| asset(r, 15, Utc::now())).unwrap_err();
        assert_eq!(bad.external_id.as_deref(), Some("7731204"));
        assert!(bad.reason.contains("`name`"), "{}", bad.reason);
        let mut bad = record();
        bad["properties"]["kabuto_information"]["network_adapters"][0]["ipv4"] = json!(["x"]);
        assert!(
            asset(&bad, 15, Utc::now())
                .unwrap_err()
                .contains("network_adapters[0]")
        );
    }
}
