//! Reading and checking integration input: provider, address (base URL or region),
//! write-only credentials, schedule, organization mapping and the Automate GPS field.

use std::collections::HashMap;

use clientstor_http::ValidationErrors;
use clientstor_http::reader::Reader;
use serde_json::{Map, Value};

use crate::connectors::{Credentials, Provider};
use crate::db::integrations::IntegrationFields;
use crate::mapping::MappingInput;

/// A checked integration; `credentials` is `None` when the body left them out.
pub struct Input {
    pub fields: IntegrationFields,
    pub provider: Provider,
    pub credentials: Option<Credentials>,
    pub mapping: MappingInput,
}

/// `scheme://host[:port]` of an http(s) URL without credentials, path, query or fragment.
pub fn normalise_base_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || !matches!(url.path(), "" | "/")
    {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// The address the client talks to: the base URL when set, else the region's host.
pub fn effective_base(
    provider: Provider,
    base_url: Option<&str>,
    region: Option<&str>,
) -> Option<String> {
    base_url.map(str::to_string).or_else(|| {
        let region = region?;
        provider
            .regions()
            .iter()
            .find(|(name, _)| *name == region)
            .map(|(_, host)| host.to_string())
    })
}

fn credentials(r: &mut Reader<'_>, provider: Provider) -> Option<Credentials> {
    let value = r.map.get("credentials")?;
    if value.is_null() {
        return None;
    }
    let fields = provider.credential_fields();
    let Some(object) = value.as_object() else {
        r.fail(
            "credentials",
            format!("Must be an object with {}.", fields.join(", ")),
        );
        return None;
    };
    let mut found = HashMap::new();
    for key in object.keys() {
        if !fields.contains(&key.as_str()) {
            r.fail(
                "credentials",
                format!(
                    "Unknown field {key:?}; {} takes {}.",
                    provider.as_str(),
                    fields.join(", ")
                ),
            );
        }
    }
    for field in fields {
        match object.get(*field) {
            Some(Value::String(v)) if !v.trim().is_empty() && v.len() <= 4096 => {
                found.insert((*field).to_string(), v.trim().to_string());
            }
            _ => r.fail(
                "credentials",
                format!("{field} is required (a non-empty string)."),
            ),
        }
    }
    (found.len() == fields.len()).then_some(Credentials(found))
}

/// Reads a complete integration (create and `PUT`; `PATCH` merges first).
pub fn parse(map: &Map<String, Value>) -> Result<Input, ValidationErrors> {
    let mut r = Reader::new(map);
    let name = r.text("name", 200);
    if name.is_none() && !r.errors.contains_key("name") {
        r.fail("name", "This field is required.");
    }
    let provider_name = r.text("provider", 50);
    let provider = provider_name.as_deref().and_then(Provider::parse);
    if provider.is_none() {
        match provider_name {
            Some(p) => r.fail(
                "provider",
                format!(
                    "\"{p}\" is not a valid choice ({}).",
                    Provider::ALL.join(", ")
                ),
            ),
            None => r.fail("provider", "This field is required."),
        }
    }
    let base_url = r.text("base_url", 500);
    let base_url = match base_url {
        Some(text) => match normalise_base_url(&text) {
            Some(url) => Some(url),
            None => {
                r.fail(
                    "base_url",
                    "Enter the server address as scheme://host[:port] (http or https, no path).",
                );
                None
            }
        },
        None => None,
    };
    let region = r.text("region", 50);
    let interval = r
        .number("sync_interval_minutes", 1.0, 10_080.0)
        .map_or(60, |v| v as i32);
    if map
        .get("sync_interval_minutes")
        .and_then(Value::as_f64)
        .is_some_and(|v| v.fract() != 0.0)
    {
        r.fail("sync_interval_minutes", "A valid integer is required.");
    }
    let enabled = match map.get("enabled") {
        None | Some(Value::Null) => true,
        Some(_) => r.boolean("enabled"),
    };
    let gps = r.text("gps_extra_data_field", 100);
    let mapping = match MappingInput::parse(map.get("organization_mapping").unwrap_or(&Value::Null))
    {
        Ok(mapping) => mapping,
        Err(message) => {
            r.fail("organization_mapping", message);
            MappingInput::single()
        }
    };
    let mut creds = None;
    if let Some(provider) = provider {
        let regions = provider.regions();
        if let Some(region) = &region {
            if regions.is_empty() {
                r.fail(
                    "region",
                    format!("{} has no regions; set base_url.", provider.as_str()),
                );
            } else if !regions.iter().any(|(name, _)| name == region) {
                let names: Vec<&str> = regions.iter().map(|(name, _)| *name).collect();
                r.fail(
                    "region",
                    format!("\"{region}\" is not a valid choice ({}).", names.join(", ")),
                );
            }
        }
        let needs_url = regions.is_empty() || region.is_none();
        if base_url.is_none() && needs_url && !r.errors.contains_key("base_url") {
            let message = if regions.is_empty() {
                "This field is required for this provider."
            } else {
                "Set base_url or region."
            };
            r.fail("base_url", message);
        }
        if gps.is_some() && provider != Provider::ConnectwiseAutomate {
            r.fail(
                "gps_extra_data_field",
                "Only ConnectWise Automate integrations read GPS from an Extra Data Field.",
            );
        }
        creds = credentials(&mut r, provider);
    }
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let (Some(name), Some(provider)) = (name, provider) else {
        return Err(r.errors);
    };
    Ok(Input {
        fields: IntegrationFields {
            provider: provider.as_str().to_string(),
            name,
            base_url,
            region,
            sync_interval_minutes: interval,
            enabled,
            organization_mapping: mapping.to_json(),
            mapping_scope: Vec::new(),
            gps_extra_data_field: gps,
        },
        provider,
        credentials: creds,
        mapping,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(value: Value) -> Result<Input, ValidationErrors> {
        parse(value.as_object().unwrap())
    }

    #[test]
    fn base_urls_are_reduced_to_scheme_host_port() {
        assert_eq!(
            normalise_base_url("https://acme.hostedrmm.com/").as_deref(),
            Some("https://acme.hostedrmm.com")
        );
        assert_eq!(
            normalise_base_url("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(normalise_base_url("https://x.example/cwa/api/v1"), None);
        assert_eq!(normalise_base_url("ftp://x.example"), None);
        assert_eq!(normalise_base_url("https://user:pw@x.example"), None);
    }

    #[test]
    fn each_provider_needs_its_credentials_and_address() {
        let ok = parse_json(json!({
            "name": "Datto", "provider": "datto_rmm", "region": "merlot",
            "credentials": {"api_key": "k", "api_secret": "s"}
        }))
        .unwrap();
        assert_eq!(ok.fields.sync_interval_minutes, 60);
        assert!(ok.fields.enabled);
        assert_eq!(
            effective_base(ok.provider, None, ok.fields.region.as_deref()).as_deref(),
            Some("https://merlot-api.centrastage.net")
        );
        let errors = parse_json(json!({
            "name": "Automate", "provider": "connectwise_automate", "region": "merlot",
            "credentials": {"username": "u"}, "gps_extra_data_field": "GPS"
        }))
        .err()
        .unwrap();
        assert!(errors.contains_key("region"));
        assert!(errors.contains_key("base_url"));
        assert!(errors.contains_key("credentials"));
        let errors = parse_json(json!({
            "name": "n", "provider": "syncro", "base_url": "https://acme.syncromsp.com",
            "gps_extra_data_field": "GPS", "organization_mapping": {"mode": "guess"}
        }))
        .err()
        .unwrap();
        assert!(errors.contains_key("gps_extra_data_field"));
        assert!(errors.contains_key("organization_mapping"));
        assert!(parse_json(json!({"name": "n", "provider": "atera"})).is_err());
    }
}
