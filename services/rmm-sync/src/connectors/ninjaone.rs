//! NinjaOne API v2: an OAuth client-credentials token (scope `monitoring`), keyset pages of
//! `/v2/devices-detailed` (`after` = the last id), and organization and location names joined
//! from their own lists, read once per run, since device records carry only the ids.

use std::collections::HashMap;

use serde_json::Value;

use super::fields::{self, text};
use super::http::{Login, Session, Token};
use super::{CallError, Config, Http, KnownDevices, Page, raw_id, read_record};
use crate::device::Device;

pub struct NinjaOne {
    config: Config,
    session: Session<NinjaLogin>,
    /// Organization and location names by id, once read.
    names: Option<Names>,
    next: Cursor,
}

enum Cursor {
    First,
    After(String),
    Done,
}

#[derive(Default)]
struct Names {
    organizations: HashMap<String, String>,
    locations: HashMap<String, String>,
}

struct NinjaLogin {
    base: String,
    credentials: super::Credentials,
}

impl Login for NinjaLogin {
    async fn login(&self, http: &Http) -> Result<Token, CallError> {
        let client_id = fields::credential(&self.credentials, "client_id")?;
        let secret = fields::credential(&self.credentials, "client_secret")?;
        let url = fields::endpoint(&self.base, "/ws/oauth/token", &[], &[])?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &client_id)
            .append_pair("client_secret", &secret)
            .append_pair("scope", "monitoring")
            .finish();
        fields::oauth_token(http, &url, &form, None).await
    }
}

impl NinjaOne {
    pub fn new(config: Config, http: Http) -> Self {
        let login = NinjaLogin {
            base: config.base_url.clone(),
            credentials: config.credentials.clone(),
        };
        Self {
            session: Session::new(http, login),
            config,
            names: None,
            next: Cursor::First,
        }
    }

    fn page_size(&self) -> u32 {
        self.config.page_size.clamp(1, 1000)
    }

    /// One keyset page of `path`, and the `after` of the page that follows (`None` at the end:
    /// an empty or short page, or one whose last id did not move on).
    async fn keyset(
        &mut self,
        path: &str,
        after: Option<&str>,
    ) -> Result<(Vec<Value>, Option<String>), CallError> {
        let size = self.page_size();
        let size_text = size.to_string();
        let mut query = vec![("pageSize", size_text.as_str())];
        query.extend(after.map(|after| ("after", after)));
        let url = fields::endpoint(&self.config.base_url, path, &[], &query)?;
        let records: Vec<Value> = self
            .session
            .get_json(|client, token| client.get(url.as_str()).bearer_auth(token))
            .await?;
        let last = records.iter().rev().find_map(|r| raw_id(r, "id"));
        let next =
            last.filter(|last| records.len() >= size as usize && Some(last.as_str()) != after);
        Ok((records, next))
    }

    /// Every page of `/v2/organizations` or `/v2/locations`, as names by id.
    async fn names(&mut self, path: &str) -> Result<HashMap<String, String>, CallError> {
        let mut names = HashMap::new();
        let mut after = None;
        loop {
            let (records, next) = self.keyset(path, after.as_deref()).await?;
            for record in &records {
                if let (Ok(Some(id)), Ok(Some(name))) =
                    (fields::id(record, "id"), text(record, "name"))
                {
                    names.insert(id, name);
                }
            }
            match next {
                Some(next) => after = Some(next),
                None => return Ok(names),
            }
        }
    }

    pub async fn next_page(&mut self, _known: &KnownDevices) -> Result<Option<Page>, CallError> {
        let after = match &self.next {
            Cursor::Done => return Ok(None),
            Cursor::First => None,
            Cursor::After(after) => Some(after.clone()),
        };
        if self.names.is_none() {
            let organizations = self.names("/v2/organizations").await?;
            let locations = self.names("/v2/locations").await?;
            self.names = Some(Names {
                organizations,
                locations,
            });
        }
        let (records, next) = self
            .keyset("/v2/devices-detailed", after.as_deref())
            .await?;
        self.next = next.map_or(Cursor::Done, Cursor::After);
        if records.is_empty() {
            return Ok(None);
        }
        let names = self.names.as_ref();
        let devices = records
            .iter()
            .map(|record| {
                read_record(record, "id", |record| {
                    let mut device = device(record)?;
                    if let Some(names) = names {
                        device.client_name = lookup(&names.organizations, &device.client_id);
                        device.site_name = lookup(&names.locations, &device.site_id);
                    }
                    Ok(device)
                })
            })
            .collect();
        Ok(Some(Page { devices }))
    }
}

fn lookup(names: &HashMap<String, String>, id: &Option<String>) -> Option<String> {
    names.get(id.as_deref()?).cloned()
}

/// Inventory's asset type for a `nodeClass`.
fn node_class(class: &str) -> &'static str {
    match class.to_ascii_uppercase().as_str() {
        "VMWARE_VM_GUEST" | "HYPERV_VMM_GUEST" | "NMS_VIRTUAL_MACHINE" => "virtual_machine",
        "VMWARE_VM_HOST" | "HYPERV_VMM_HOST" | "NMS_VM_HOST" | "NMS_HYPERVISOR" => "server",
        "MAC" => "workstation",
        "ANDROID" | "APPLE_IOS" | "APPLE_IPADOS" => "mobile",
        "NMS_SWITCH" => "switch",
        "NMS_ROUTER" => "router",
        "NMS_FIREWALL" => "firewall",
        "NMS_PRINTER" => "printer",
        class if class.ends_with("_SERVER") => "server",
        class if class.ends_with("_WORKSTATION") => "workstation",
        _ => "other",
    }
}

/// One device of a `/v2/devices-detailed` page; names are joined by the caller. Agentless
/// devices have no `os` or `system` block.
pub(crate) fn device(record: &Value) -> Result<Device, String> {
    let hostnames = [
        text(record, "systemName")?,
        text(record, "dnsName")?,
        text(record, "displayName")?,
    ];
    // `system.serialNumber` is junk on VMs and white boxes; the others stand in for it.
    let mut serial = None;
    for path in [
        "system.serialNumber",
        "system.biosSerialNumber",
        "system.assetSerialNumber",
    ] {
        let value = fields::serial(record, path)?;
        serial = serial.or(value);
    }
    let mut device = Device {
        external_id: fields::required_id(record, "id")?,
        hostname: hostnames.into_iter().flatten().next(),
        serial,
        manufacturer: text(record, "system.manufacturer")?,
        model: text(record, "system.model")?,
        os_name: text(record, "os.name")?,
        os_version: text(record, "os.buildNumber")?,
        online: fields::flag(record, "offline")?.map(|offline| !offline),
        last_seen: fields::epoch_secs(record, "lastContact")?,
        client_id: fields::id(record, "organizationId")?,
        site_id: fields::id(record, "locationId")?,
        asset_type: text(record, "nodeClass")?.map(|class| node_class(&class).to_string()),
        ..Device::default()
    };
    for ip in fields::texts(record, "ipAddresses")?
        .into_iter()
        .chain(text(record, "publicIP")?)
    {
        fields::push_ip(&mut device.ip_addresses, &ip);
    }
    for mac in fields::texts(record, "macAddresses")? {
        fields::push_mac(&mut device.mac_addresses, &mac);
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use serde_json::json;

    /// §3.7 of the API reference.
    fn record() -> Value {
        json!({
          "id": 1047, "uid": "6b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "organizationId": 18,
          "locationId": 44, "nodeClass": "WINDOWS_WORKSTATION", "nodeRoleId": 3, "rolePolicyId": 21,
          "approvalStatus": "APPROVED", "offline": false, "displayName": "Reception PC",
          "systemName": "MAPLE-RCP-01", "dnsName": "maple-rcp-01.maple.local",
          "netbiosName": "MAPLE-RCP-01", "created": 1698312000.0, "lastContact": 1731938607.214,
          "lastUpdate": 1731938550.901, "tags": [],
          "ipAddresses": ["192.168.20.31", "fe80::5d1c:22aa:4b10:9e3f"],
          "macAddresses": ["9C:7B:EF:12:34:56"], "publicIP": "203.0.113.58",
          "os": {"manufacturer": "Microsoft Corporation", "name": "Windows 11 Pro Edition",
                 "architecture": "64-bit", "lastBootTime": 1731830000.0, "buildNumber": "22631",
                 "releaseId": "23H2", "servicePackMajorVersion": 0, "needsReboot": false},
          "system": {"name": "MAPLE-RCP-01", "manufacturer": "HP",
                     "model": "HP EliteDesk 800 G6 Desktop Mini PC", "biosSerialNumber": "MXL1234ABC",
                     "serialNumber": "MXL1234ABC", "domain": "maple.local", "virtualMachine": false,
                     "chassisType": "DESKTOP"},
          "lastLoggedInUser": "MAPLE\\frontdesk"
        })
    }

    #[test]
    fn the_documented_device_normalises() {
        let pc = device(&record()).unwrap();
        assert_eq!(pc.external_id, "1047");
        assert_eq!(pc.hostname.as_deref(), Some("MAPLE-RCP-01"));
        assert_eq!(pc.serial.as_deref(), Some("MXL1234ABC"));
        assert_eq!(pc.manufacturer.as_deref(), Some("HP"));
        assert_eq!(
            pc.model.as_deref(),
            Some("HP EliteDesk 800 G6 Desktop Mini PC")
        );
        assert_eq!(pc.os_name.as_deref(), Some("Windows 11 Pro Edition"));
        assert_eq!(pc.os_version.as_deref(), Some("22631"));
        assert_eq!(pc.ip_addresses, vec!["192.168.20.31", "203.0.113.58"]);
        assert_eq!(pc.mac_addresses, vec!["9c:7b:ef:12:34:56"]);
        assert_eq!(pc.online, Some(true));
        assert_eq!(pc.last_seen.unwrap().timestamp_millis(), 1731938607214);
        assert_eq!(pc.client_id.as_deref(), Some("18"));
        assert_eq!(pc.site_id.as_deref(), Some("44"));
        assert_eq!(pc.asset_type.as_deref(), Some("workstation"));

        let names = HashMap::from([("18".to_string(), "Maple Dental".to_string())]);
        assert_eq!(
            lookup(&names, &pc.client_id).as_deref(),
            Some("Maple Dental")
        );
        assert_eq!(lookup(&names, &pc.site_id), None);
    }

    #[test]
    fn placeholder_serials_fall_back_and_agentless_devices_read() {
        let mut vm = record();
        vm["system"]["serialNumber"] = json!("To be filled by O.E.M.");
        vm["system"]["biosSerialNumber"] = json!("0");
        vm["system"]["assetSerialNumber"] = json!("VMW-42");
        vm["nodeClass"] = json!("VMWARE_VM_GUEST");
        vm["offline"] = json!(true);
        let vm = device(&vm).unwrap();
        assert_eq!(vm.serial.as_deref(), Some("VMW-42"));
        assert_eq!(vm.asset_type.as_deref(), Some("virtual_machine"));
        assert_eq!(vm.online, Some(false));

        let switch = json!({"id": 9, "nodeClass": "NMS_SWITCH", "displayName": "core-sw",
                            "lastContact": 1731938607});
        let switch = device(&switch).unwrap();
        assert_eq!(switch.hostname.as_deref(), Some("core-sw"));
        assert_eq!((switch.serial, switch.os_name), (None, None));
        assert_eq!(switch.asset_type.as_deref(), Some("switch"));
        assert_eq!(switch.last_seen, DateTime::from_timestamp(1731938607, 0));
    }

    #[test]
    fn node_classes_map() {
        for (class, kind) in [
            ("WINDOWS_SERVER", "server"),
            ("LINUX_SERVER", "server"),
            ("MAC", "workstation"),
            ("LINUX_WORKSTATION", "workstation"),
            ("HYPERV_VMM_GUEST", "virtual_machine"),
            ("APPLE_IPADOS", "mobile"),
            ("NMS_FIREWALL", "firewall"),
            ("CLOUD_MONITOR_TARGET", "other"),
        ] {
            assert_eq!(node_class(class), kind, "{class}");
        }
    }

    #[test]
    fn a_malformed_record_is_reported_with_its_id() {
        let mut bad = record();
        bad["systemName"] = json!({"name": "MAPLE-RCP-01"});
        let bad = read_record(&bad, "id", device).unwrap_err();
        assert_eq!(bad.external_id.as_deref(), Some("1047"));
        assert!(bad.reason.contains("systemName"), "{}", bad.reason);
        let mut bad = record();
        bad["ipAddresses"] = json!([{"ip": "10.0.0.1"}]);
        assert!(device(&bad).unwrap_err().contains("ipAddresses[0]"));
        assert!(device(&json!({"id": "abc", "offline": "no"})).is_err());
    }
}
