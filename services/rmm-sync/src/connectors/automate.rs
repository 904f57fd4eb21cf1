//! ConnectWise Automate: a token from `/apitoken`, the partner's `ClientId` header on every
//! call (the server rejects calls without it even with a valid token), bare-array pages of
//! `/Computers` numbered from 1, and coordinates from an Extra Data Field when one is named.

use chrono::Utc;
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};

use super::fields::{self, id, text};
use super::http::{Login, Session, Token};
use super::{CallError, Config, Http, KnownDevices, Page, read_record};
use crate::device::{Device, parse_lat_long};

const PREFIX: &str = "/cwa/api/v1";

pub struct Automate {
    config: Config,
    session: Session<AutomateLogin>,
    client_id: String,
    /// The next page to ask for, from 1; `None` once a short or empty page ended the listing.
    page: Option<u32>,
}

struct AutomateLogin {
    base: String,
    credentials: super::Credentials,
}

impl Login for AutomateLogin {
    async fn login(&self, http: &Http) -> Result<Token, CallError> {
        let username = fields::credential(&self.credentials, "username")?;
        let password = fields::credential(&self.credentials, "password")?;
        let client_id = fields::credential(&self.credentials, "client_id")?;
        let url = fields::endpoint(&self.base, &format!("{PREFIX}/apitoken"), &[], &[])?;
        let body = json!({ "UserName": username, "Password": password });
        let answer = http
            .send(|client| {
                client
                    .post(url.as_str())
                    .header("ClientId", &client_id)
                    .json(&body)
            })
            .await
            .map_err(fields::refused_login)?;
        token(&answer.json()?)
    }
}

/// The token in a `TokenResult`. A 2FA account gets a 200 without a token: that is a refusal.
fn token(body: &Value) -> Result<Token, CallError> {
    if body.get("IsTwoFactorRequired").and_then(Value::as_bool) == Some(true) {
        return Err(CallError::Unauthorized(
            "the account requires two-factor authentication; use an integrator account".into(),
        ));
    }
    let value = body
        .get("AccessToken")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if value.is_empty() {
        return Err(CallError::Unauthorized(
            "the token answer held no AccessToken".into(),
        ));
    }
    let seconds = body
        .get("ExpirationDate")
        .and_then(Value::as_str)
        .and_then(fields::parse_iso)
        .map(|at| (at - Utc::now()).num_seconds())
        .unwrap_or(3600);
    Ok(Token::expiring_in(
        value.to_string(),
        u64::try_from(seconds)
            .unwrap_or(0)
            .clamp(60, fields::LONGEST_TOKEN),
    ))
}

fn authed(request: RequestBuilder, token: &str, client_id: &str) -> RequestBuilder {
    request.bearer_auth(token).header("ClientId", client_id)
}

impl Automate {
    pub fn new(config: Config, http: Http) -> Self {
        let login = AutomateLogin {
            base: config.base_url.clone(),
            credentials: config.credentials.clone(),
        };
        Self {
            client_id: config.credentials.get("client_id").trim().to_string(),
            session: Session::new(http, login),
            config,
            page: Some(1),
        }
    }

    pub async fn next_page(&mut self, _known: &KnownDevices) -> Result<Option<Page>, CallError> {
        let Some(page) = self.page else {
            return Ok(None);
        };
        let size = self.config.page_size.clamp(1, 1000);
        let (size_text, page_text) = (size.to_string(), page.to_string());
        let query = [
            ("pageSize", size_text.as_str()),
            ("page", page_text.as_str()),
        ];
        let url = fields::endpoint(
            &self.config.base_url,
            &format!("{PREFIX}/Computers"),
            &[],
            &query,
        )?;
        let client_id = &self.client_id;
        let records: Vec<Value> = self
            .session
            .get_json(|client: &Client, token| authed(client.get(url.as_str()), token, client_id))
            .await?;
        self.page = (records.len() >= size as usize).then(|| page.saturating_add(1));
        if records.is_empty() {
            return Ok(None);
        }
        let gps_field = self
            .config
            .gps_extra_data_field
            .clone()
            .filter(|f| !f.trim().is_empty());
        let mut devices = Vec::with_capacity(records.len());
        for record in &records {
            let mut result = read_record(record, "Id", computer);
            if let (Some(title), Ok(device)) = (&gps_field, result.as_mut())
                && let Some((lat, long)) = self.coordinates(&device.external_id, title).await?
            {
                device.latitude = Some(lat);
                device.longitude = Some(long);
            }
            devices.push(result);
        }
        Ok(Some(Page { devices }))
    }

    /// Coordinates from the computer's Extra Data Field `title`; a computer without the
    /// route (404) or the field has none.
    async fn coordinates(
        &mut self,
        id: &str,
        title: &str,
    ) -> Result<Option<(f64, f64)>, CallError> {
        let path = format!("{PREFIX}/Computers");
        let url = fields::endpoint(&self.config.base_url, &path, &[id, "ExtraDataFields"], &[])?;
        let client_id = &self.client_id;
        let answer = self
            .session
            .get_json::<Value>(|client: &Client, token| {
                authed(client.get(url.as_str()), token, client_id)
            })
            .await;
        match answer {
            Ok(fields) => Ok(extra_data_coordinates(&fields, title)),
            Err(CallError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// `lat,long` from the entry titled `title` (case-insensitive) of an `ExtraDataFields` answer.
pub(crate) fn extra_data_coordinates(fields: &Value, title: &str) -> Option<(f64, f64)> {
    fields.as_array()?.iter().find_map(|field| {
        let named = field
            .get("Title")?
            .as_str()?
            .trim()
            .eq_ignore_ascii_case(title.trim());
        named
            .then(|| field.get("Value")?.as_str().and_then(parse_lat_long))
            .flatten()
    })
}

/// One computer of a `/Computers` page.
pub(crate) fn computer(record: &Value) -> Result<Device, String> {
    let mut device = Device {
        external_id: fields::required_id(record, "Id")?,
        hostname: text(record, "ComputerName")?,
        serial: fields::serial(record, "SerialNumber")?,
        manufacturer: text(record, "BiosManufacturer")?,
        os_name: text(record, "OperatingSystemName")?,
        os_version: text(record, "OperatingSystemVersion")?,
        firmware_version: text(record, "BiosFlash")?,
        online: text(record, "Status")?.map(|s| s.eq_ignore_ascii_case("online")),
        last_seen: fields::iso(record, "RemoteAgentLastContact")?,
        client_id: id(record, "Client.Id")?,
        client_name: text(record, "Client.Name")?,
        site_id: id(record, "Location.Id")?,
        site_name: text(record, "Location.Name")?,
        asset_type: text(record, "Type")?
            .as_deref()
            .and_then(fields::asset_class),
        ..Device::default()
    };
    if let Some(ip) = text(record, "LocalIPAddress")? {
        fields::push_ip(&mut device.ip_addresses, &ip);
    }
    if let Some(mac) = text(record, "MACAddress")? {
        fields::push_mac(&mut device.mac_addresses, &mac);
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    /// §1.7 of the API reference.
    const PAGE: &str = r#"[
      {"Id": 1842, "ComputerName": "ACME-FS01",
       "Client": {"Id": 12, "Name": "Acme Manufacturing"}, "Location": {"Id": 31, "Name": "Plant 2"},
       "Type": "Server", "Status": "Online",
       "OperatingSystemName": "Microsoft Windows Server 2019 Standard x64",
       "OperatingSystemVersion": "10.0.17763", "SerialNumber": "CZJ94102QX",
       "BiosManufacturer": "HPE", "BiosFlash": "U32 v2.72", "LocalIPAddress": "10.40.2.15",
       "GatewayIPAddress": "10.40.2.1", "MACAddress": "94-40-C9-3A-55-10", "DomainName": "ACME",
       "LastUserName": "ACME\\svc-backup", "RemoteAgentLastContact": "2024-11-18T14:03:27Z",
       "LastHeartbeat": "2024-11-18T14:03:01Z", "DateAdded": "2021-02-09T16:22:10Z",
       "RemoteAgentVersion": "2024.3.112.0", "IsVirtualMachine": false, "IsRebootNeeded": false},
      {"Id": 1877, "ComputerName": "ACME-LT-07",
       "Client": {"Id": 12, "Name": "Acme Manufacturing"}, "Location": {"Id": 30, "Name": "Head Office"},
       "Type": "Workstation", "Status": "Offline",
       "OperatingSystemName": "Microsoft Windows 11 Pro x64", "OperatingSystemVersion": "10.0.22631",
       "SerialNumber": "PF4XK2M1", "BiosManufacturer": "LENOVO", "LocalIPAddress": "10.40.1.88",
       "MACAddress": "3C-9C-0F-44-21-7A", "RemoteAgentLastContact": "2024-11-15T09:41:02"}
    ]"#;

    fn records() -> Vec<Value> {
        serde_json::from_str(PAGE).unwrap()
    }

    #[test]
    fn the_documented_page_normalises() {
        let server = computer(&records()[0]).unwrap();
        assert_eq!(server.external_id, "1842");
        assert_eq!(server.hostname.as_deref(), Some("ACME-FS01"));
        assert_eq!(server.serial.as_deref(), Some("CZJ94102QX"));
        assert_eq!(server.manufacturer.as_deref(), Some("HPE"));
        assert_eq!(server.model, None);
        assert_eq!(
            server.os_name.as_deref(),
            Some("Microsoft Windows Server 2019 Standard x64")
        );
        assert_eq!(server.os_version.as_deref(), Some("10.0.17763"));
        assert_eq!(server.firmware_version.as_deref(), Some("U32 v2.72"));
        assert_eq!(server.ip_addresses, vec!["10.40.2.15"]);
        assert_eq!(server.mac_addresses, vec!["94:40:c9:3a:55:10"]);
        assert_eq!(server.online, Some(true));
        assert_eq!(server.last_seen, DateTime::from_timestamp(1731938607, 0));
        assert_eq!(server.client_id.as_deref(), Some("12"));
        assert_eq!(server.client_name.as_deref(), Some("Acme Manufacturing"));
        assert_eq!(server.site_id.as_deref(), Some("31"));
        assert_eq!(server.site_name.as_deref(), Some("Plant 2"));
        assert_eq!(server.asset_type.as_deref(), Some("server"));
        assert_eq!((server.latitude, server.audit_stamp), (None, None));

        let laptop = computer(&records()[1]).unwrap();
        assert_eq!(laptop.online, Some(false));
        assert_eq!(laptop.asset_type.as_deref(), Some("workstation"));
        assert_eq!(laptop.firmware_version, None);
        // No offset: UTC.
        assert_eq!(laptop.last_seen, DateTime::from_timestamp(1731663662, 0));
    }

    #[test]
    fn a_string_id_is_accepted_and_a_malformed_record_is_reported_alone() {
        let mut records = records();
        records[1]["Id"] = json!("1877");
        records[0]["ComputerName"] = json!({"first": "ACME"});
        let read: Vec<_> = records
            .iter()
            .map(|r| read_record(r, "Id", computer))
            .collect();
        let bad = read[0].as_ref().unwrap_err();
        assert_eq!(bad.external_id.as_deref(), Some("1842"));
        assert!(bad.reason.contains("ComputerName"), "{}", bad.reason);
        assert_eq!(read[1].as_ref().unwrap().external_id, "1877");

        let no_id = read_record(&json!({"Id": true, "ComputerName": "X"}), "Id", computer);
        assert_eq!(no_id.unwrap_err().external_id, None);
    }

    #[test]
    fn coordinates_come_from_the_named_extra_data_field() {
        let fields = json!([
            {"Id": 1, "Title": "Asset Tag", "Value": "A-1"},
            {"Id": 2, "Title": "gps", "Value": "39.799, -89.644"}
        ]);
        assert_eq!(
            extra_data_coordinates(&fields, "GPS"),
            Some((39.799, -89.644))
        );
        assert_eq!(extra_data_coordinates(&fields, "Location"), None);
        assert_eq!(
            extra_data_coordinates(&json!([{"Title": "GPS", "Value": ""}]), "GPS"),
            None
        );
        assert_eq!(
            extra_data_coordinates(&json!([{"Title": "GPS", "Value": "n/a"}]), "GPS"),
            None
        );
        assert_eq!(
            extra_data_coordinates(&json!({"Title": "GPS"}), "GPS"),
            None
        );
    }

    #[test]
    fn token_answers() {
        let future = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        assert!(token(&json!({"AccessToken": "abc", "ExpirationDate": future})).is_ok());
        let far = json!({"AccessToken": "abc", "ExpirationDate": "9999-12-31T00:00:00Z"});
        assert!(token(&far).is_ok());
        let two_factor = token(&json!({"AccessToken": null, "IsTwoFactorRequired": true}));
        assert!(matches!(two_factor, Err(CallError::Unauthorized(m)) if m.contains("two-factor")));
        assert!(matches!(
            token(&json!({"AccessToken": ""})),
            Err(CallError::Unauthorized(_))
        ));
    }
}
