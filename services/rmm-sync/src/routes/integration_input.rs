//! Reading and checking integration input: provider, address (base URL or region),
//! write-only credentials, schedule, organization mapping and the Automate GPS field.

use std::collections::HashMap;

use clientstor_http::ValidationErrors;
use clientstor_http::reader::Reader;
use clientstor_runtime::openapi::{Field, Kind, Model};
use serde_json::{Map, Value};

use crate::connectors::{Credentials, Provider};
use crate::db::integrations::IntegrationFields;
use crate::mapping::MappingInput;

/// The integration representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "RmmIntegration",
    noun: "integration",
    about: "Connections to RMM platforms (ConnectWise Automate, Datto RMM, NinjaOne, Syncro) whose devices are synced into assets",
    record: true,
    fields: &[
        Field::rw("provider", Kind::Enum(Provider::ALL)).required(),
        Field::rw("name", Kind::String)
            .required()
            .about("Unique within the organization; at most 200 characters"),
        Field::rw("base_url", Kind::Uri).nullable().about(
            "The server as scheme://host[:port] (http or https, no path); required for \
             connectwise_automate and syncro, and for the others unless `region` is set",
        ),
        Field::rw("region", Kind::String)
            .nullable()
            .about(REGIONS_ABOUT),
        Field::wo("credentials", Kind::Model(CREDENTIALS)).about(
            "Required on create and when the provider changes; left out, the stored ones are \
             kept. Sealed on the way in and never returned",
        ),
        Field::ro("has_credentials", Kind::Boolean),
        Field::ro("credential_fields", Kind::Strings)
            .about("The fields `credentials` takes for this provider"),
        Field::rw("sync_interval_minutes", Kind::Integer).about("1 to 10080; 60 if not given"),
        Field::rw("enabled", Kind::Boolean).about("`true` if not given"),
        Field::rw("organization_mapping", Kind::Model(MAPPING))
            .about("Where devices go; `single` if not given or null"),
        Field::rw("gps_extra_data_field", Kind::String)
            .nullable()
            .about(
                "ConnectWise Automate only: the Extra Data Field that holds a device's coordinates",
            ),
        Field::ro("next_run_at", Kind::DateTime),
        Field::ro("consecutive_failures", Kind::Integer)
            .about("Failed runs in a row; each one doubles the wait before the next run"),
        Field::ro("last_run", Kind::Model(LAST_RUN))
            .nullable()
            .about("The latest run, if any"),
        Field::ro("created_by", Kind::Integer).nullable(),
    ],
    search: &["name"],
};

/// Schema names of the integration's parts.
pub const CREDENTIALS: &str = "RmmCredentials";
pub const MAPPING: &str = "RmmOrganizationMapping";
pub const LAST_RUN: &str = "RmmRunSummary";

const REGIONS_ABOUT: &str = "Instead of base_url, the platform's region: datto_rmm pinotage, \
    merlot, concord, vidal, zinfandel or syrah; ninjaone us, us2, eu, ca, oc or fed";

/// The shape of `credentials`: the fields of the chosen provider, all required strings.
pub fn credentials_schema() -> Value {
    let mut properties = Map::new();
    let mut lines = Vec::new();
    for name in Provider::ALL {
        let Some(provider) = Provider::parse(name) else {
            continue;
        };
        let fields = provider.credential_fields();
        for field in fields {
            properties.insert(
                (*field).to_string(),
                serde_json::json!({ "type": "string", "minLength": 1, "maxLength": 4096 }),
            );
        }
        lines.push(format!("{name}: {}", fields.join(", ")));
    }
    serde_json::json!({
        "type": "object",
        "description": format!(
            "Exactly the fields of the provider, each a non-empty string ({})",
            lines.join("; ")
        ),
        "properties": properties,
        "additionalProperties": false,
    })
}

/// The shape of `organization_mapping`.
pub fn mapping_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "description": "`single`: every device into the integration's organization; \
            `by_external_id`: by the platform's client (or site) id in `map`; `by_name`: to the \
            organization named exactly like the client. `map` entries win in both mapped modes; \
            a client that maps nowhere goes to the integration's organization",
        "properties": {
            "mode": { "type": "string", "enum": crate::mapping::MODES, "description": "`single` if not given" },
            "map": {
                "type": "object",
                "additionalProperties": { "type": "integer", "minimum": 1 },
                "description": "The platform's client id → organization id (one the key can configure)",
            },
        },
        "additionalProperties": false,
    })
}

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
