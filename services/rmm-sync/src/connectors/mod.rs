//! One connector per platform, each following its platform's documented authentication and
//! paging. A run asks for pages until there are none; each page holds the devices read and the
//! records that could not be read.

pub mod automate;
pub mod datto;
mod fields;
pub mod http;
pub mod ninjaone;
pub mod syncro;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::device::{Alert, Device, Malformed};
pub use http::{CallError, Http};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    ConnectwiseAutomate,
    DattoRmm,
    Ninjaone,
    Syncro,
}

impl Provider {
    pub const ALL: &[&str] = &["connectwise_automate", "datto_rmm", "ninjaone", "syncro"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "connectwise_automate" => Some(Self::ConnectwiseAutomate),
            "datto_rmm" => Some(Self::DattoRmm),
            "ninjaone" => Some(Self::Ninjaone),
            "syncro" => Some(Self::Syncro),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectwiseAutomate => "connectwise_automate",
            Self::DattoRmm => "datto_rmm",
            Self::Ninjaone => "ninjaone",
            Self::Syncro => "syncro",
        }
    }

    /// The credential fields the platform needs, all required.
    pub fn credential_fields(self) -> &'static [&'static str] {
        match self {
            Self::ConnectwiseAutomate => &["username", "password", "client_id"],
            Self::DattoRmm => &["api_key", "api_secret"],
            Self::Ninjaone => &["client_id", "client_secret"],
            Self::Syncro => &["api_key"],
        }
    }

    /// Region names and their hosts; platforms without regions need a base URL.
    pub fn regions(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::DattoRmm => &[
                ("pinotage", "https://pinotage-api.centrastage.net"),
                ("merlot", "https://merlot-api.centrastage.net"),
                ("concord", "https://concord-api.centrastage.net"),
                ("vidal", "https://vidal-api.centrastage.net"),
                ("zinfandel", "https://zinfandel-api.centrastage.net"),
                ("syrah", "https://syrah-api.centrastage.net"),
            ],
            Self::Ninjaone => &[
                ("us", "https://app.ninjarmm.com"),
                ("us2", "https://us2.ninjarmm.com"),
                ("eu", "https://eu.ninjarmm.com"),
                ("ca", "https://ca.ninjarmm.com"),
                ("oc", "https://oc.ninjarmm.com"),
                ("fed", "https://fed.ninjarmm.com"),
            ],
            Self::ConnectwiseAutomate | Self::Syncro => &[],
        }
    }
}

/// Credential fields by name, opened only for the length of a run or a test. Never logged.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct Credentials(pub HashMap<String, String>);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(…)")
    }
}

impl Credentials {
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or_default()
    }
}

/// What a connector needs to know about its integration.
#[derive(Debug, Clone)]
pub struct Config {
    pub provider: Provider,
    /// `scheme://host[:port]`, without the platform's path prefix.
    pub base_url: String,
    pub credentials: Credentials,
    /// Automate: the Extra Data Field holding `lat,long`.
    pub gps_extra_data_field: Option<String>,
    /// Devices asked for per page where the platform lets the client choose.
    pub page_size: u32,
    /// Syncro: a device whose agent synced within this many minutes is online.
    pub online_within_minutes: i64,
}

/// What the previous run stored about a device, so per-device detail (Datto's audit) is
/// fetched only for new devices or when the platform says it changed.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub audit_stamp: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub mac_addresses: Vec<String>,
    pub firmware_version: Option<String>,
}

pub type KnownDevices = HashMap<String, Known>;

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    pub devices: Vec<Result<Device, Malformed>>,
}

/// What a connection test reached.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub authenticated: bool,
    /// Devices on the first page.
    pub devices_on_first_page: usize,
    /// Customers (clients, sites, organizations) seen on the first page, by id and name.
    pub clients: Vec<(String, String)>,
}

pub enum Connector {
    Automate(automate::Automate),
    Datto(datto::Datto),
    Ninjaone(ninjaone::NinjaOne),
    Syncro(syncro::Syncro),
}

impl Connector {
    pub fn new(config: Config, http: Http) -> Self {
        match config.provider {
            Provider::ConnectwiseAutomate => Self::Automate(automate::Automate::new(config, http)),
            Provider::DattoRmm => Self::Datto(datto::Datto::new(config, http)),
            Provider::Ninjaone => Self::Ninjaone(ninjaone::NinjaOne::new(config, http)),
            Provider::Syncro => Self::Syncro(syncro::Syncro::new(config, http)),
        }
    }

    /// The next page of devices, or `None` when the listing is complete. An error means the
    /// page could not be fetched even after retries: the listing is incomplete.
    pub async fn next_page(&mut self, known: &KnownDevices) -> Result<Option<Page>, CallError> {
        match self {
            Self::Automate(c) => c.next_page(known).await,
            Self::Datto(c) => c.next_page(known).await,
            Self::Ninjaone(c) => c.next_page(known).await,
            Self::Syncro(c) => c.next_page(known).await,
        }
    }

    /// Open alerts where the platform's alerts are synced (Datto); empty otherwise.
    pub async fn alerts(&mut self) -> Result<Vec<Alert>, CallError> {
        match self {
            Self::Datto(c) => c.alerts().await,
            _ => Ok(Vec::new()),
        }
    }

    /// Logs in and reads the first page.
    pub async fn test(&mut self) -> Result<TestReport, CallError> {
        let page = self
            .next_page(&KnownDevices::new())
            .await?
            .unwrap_or_default();
        let mut clients: Vec<(String, String)> = page
            .devices
            .iter()
            .filter_map(|d| d.as_ref().ok())
            .filter_map(|d| {
                Some((
                    d.client_id.clone()?,
                    d.client_name.clone().unwrap_or_default(),
                ))
            })
            .collect();
        clients.sort();
        clients.dedup();
        Ok(TestReport {
            authenticated: true,
            devices_on_first_page: page.devices.len(),
            clients,
        })
    }
}

/// The external id of a raw record, for the error list when the rest cannot be read.
pub fn raw_id(record: &serde_json::Value, field: &str) -> Option<String> {
    match record.get(field)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads one raw record with `parse`; a failure becomes a `Malformed` naming the record's id.
pub fn read_record(
    record: &serde_json::Value,
    id_field: &str,
    parse: impl FnOnce(&serde_json::Value) -> Result<Device, String>,
) -> Result<Device, Malformed> {
    parse(record).map_err(|reason| Malformed {
        external_id: raw_id(record, id_field),
        reason,
    })
}
