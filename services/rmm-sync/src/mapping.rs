//! Which of our organizations a device goes to: everything into the integration's own
//! organization (`single`), or the platform's client (or site) mapped by external id
//! (`by_external_id`) or by exact organization name (`by_name`). Explicit `map` entries win in
//! both mapped modes; a client that maps nowhere goes to the integration's organization. Targets
//! are confined to `mapping_scope`, the organizations the configuring key could configure.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};

use crate::SCHEMA;
use crate::db::integrations::IntegrationRow;
use crate::device::Device;

pub const MODES: &[&str] = &["single", "by_external_id", "by_name"];

/// A mapping as written by a client, checked for shape.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingInput {
    pub mode: String,
    pub map: HashMap<String, i64>,
}

impl MappingInput {
    /// Everything into the integration's organization.
    pub fn single() -> Self {
        Self {
            mode: "single".into(),
            map: HashMap::new(),
        }
    }

    pub fn parse(value: &Value) -> Result<Self, String> {
        if value.is_null() {
            return Ok(Self::single());
        }
        let object = value
            .as_object()
            .ok_or("Must be an object with mode and map.")?;
        if let Some(key) = object
            .keys()
            .find(|k| !matches!(k.as_str(), "mode" | "map"))
        {
            return Err(format!("Unknown key {key:?}; expected mode and map."));
        }
        let mode = match object.get("mode") {
            None | Some(Value::Null) => "single",
            Some(Value::String(m)) if MODES.contains(&m.as_str()) => m.as_str(),
            Some(_) => return Err(format!("mode must be one of {}.", MODES.join(", "))),
        };
        let mut map = HashMap::new();
        match object.get("map") {
            None | Some(Value::Null) => {}
            Some(Value::Object(entries)) => {
                for (client, org) in entries {
                    let org = org
                        .as_i64()
                        .filter(|o| *o > 0)
                        .ok_or_else(|| format!("map[{client:?}] must be an organization id."))?;
                    if client.trim().is_empty() || client.len() > 255 {
                        return Err("map keys must be the platform's client ids.".into());
                    }
                    map.insert(client.clone(), org);
                }
            }
            Some(_) => return Err("map must be an object of client id → organization id.".into()),
        }
        Ok(Self {
            mode: mode.to_string(),
            map,
        })
    }

    pub fn to_json(&self) -> Value {
        let mut map: Vec<(&String, &i64)> = self.map.iter().collect();
        map.sort();
        let map: serde_json::Map<String, Value> = map
            .into_iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({ "mode": self.mode, "map": map })
    }
}

/// A mapping ready to place devices.
#[derive(Debug, Clone)]
pub struct Mapping {
    home: i64,
    mode: String,
    map: HashMap<String, i64>,
    /// Exact organization name → id, within the scope (by_name only).
    names: HashMap<String, i64>,
    scope: Vec<i64>,
}

impl Mapping {
    pub async fn load(
        conn: &mut AsyncPgConnection,
        integration: &IntegrationRow,
    ) -> diesel::QueryResult<Self> {
        let input = MappingInput::parse(&integration.organization_mapping)
            .unwrap_or_else(|_| MappingInput::single());
        let names = if input.mode == "by_name" {
            clientstor_runtime::organizations::names(conn, SCHEMA, &integration.mapping_scope)
                .await?
                .into_iter()
                .map(|(id, name)| (name, id))
                .collect()
        } else {
            HashMap::new()
        };
        Ok(Self {
            home: integration.organization_id,
            mode: input.mode,
            map: input.map,
            names,
            scope: integration.mapping_scope.clone(),
        })
    }

    /// The organization the device belongs in.
    pub fn target(&self, device: &Device) -> i64 {
        if self.mode == "single" {
            return self.home;
        }
        let explicit = [&device.client_id, &device.site_id]
            .into_iter()
            .flatten()
            .find_map(|id| self.map.get(id).copied());
        let by_name = || {
            (self.mode == "by_name")
                .then_some(device.client_name.as_ref())
                .flatten()
                .and_then(|name| self.names.get(name.trim()).copied())
        };
        explicit
            .or_else(by_name)
            .filter(|org| *org == self.home || self.scope.contains(org))
            .unwrap_or(self.home)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(mode: &str, map: &[(&str, i64)], names: &[(&str, i64)]) -> Mapping {
        Mapping {
            home: 1,
            mode: mode.into(),
            map: map.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            names: names.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            scope: vec![1, 2, 3],
        }
    }

    fn device(client: &str, name: &str) -> Device {
        Device {
            client_id: Some(client.into()),
            client_name: Some(name.into()),
            ..Device::default()
        }
    }

    #[test]
    fn devices_go_where_the_mapping_says_and_never_out_of_scope() {
        let single = mapping("single", &[("12", 2)], &[]);
        assert_eq!(single.target(&device("12", "Acme")), 1);
        let by_id = mapping("by_external_id", &[("12", 2), ("13", 99)], &[]);
        assert_eq!(by_id.target(&device("12", "Acme")), 2);
        assert_eq!(
            by_id.target(&device("13", "Other")),
            1,
            "99 is out of scope"
        );
        assert_eq!(by_id.target(&device("14", "Unmapped")), 1);
        let by_name = mapping("by_name", &[], &[("Acme Manufacturing", 3)]);
        assert_eq!(by_name.target(&device("12", "Acme Manufacturing")), 3);
        assert_eq!(
            by_name.target(&device("12", "acme manufacturing")),
            1,
            "exact names only"
        );
    }

    #[test]
    fn mapping_input_is_checked() {
        let ok = MappingInput::parse(&json!({"mode": "by_external_id", "map": {"12": 5}})).unwrap();
        assert_eq!(ok.map.get("12"), Some(&5));
        assert!(MappingInput::parse(&json!({"mode": "guess"})).is_err());
        assert!(MappingInput::parse(&json!({"mode": "single", "map": {"12": "x"}})).is_err());
        assert!(MappingInput::parse(&json!({"extra": 1})).is_err());
        assert_eq!(MappingInput::parse(&Value::Null).unwrap().mode, "single");
    }
}
