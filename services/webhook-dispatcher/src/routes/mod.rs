//! HTTP routes of the dispatcher.

mod actions;
mod deliveries;
mod input;
mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The catalogue and the actions come first: `/webhooks/events/` is not an endpoint id.
    actions::configure(cfg);
    deliveries::configure(cfg);
    webhooks::configure(cfg);
}

/// The API description of the dispatcher, and the payloads it POSTs (`webhooks`).
pub fn openapi(spec: &mut clientstor_runtime::openapi::Spec) {
    webhooks::openapi(spec);
    actions::openapi(spec);
    deliveries::openapi(spec);
    crate::catalogue::openapi(spec);
}

#[cfg(test)]
mod tests {
    use clientstor_runtime::openapi::{Spec, operations};
    use serde_json::Value;

    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(target)) => out.push(target.clone()),
                        _ => refs(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_description_covers_every_route_and_event() {
        let mut spec = Spec::new();
        super::openapi(&mut spec);
        let document = spec.document("webhook-dispatcher");
        let expected: Vec<(String, String)> = [
            ("DELETE", "/api/v1/webhooks/{id}/"),
            ("GET", "/api/v1/webhooks/"),
            ("GET", "/api/v1/webhooks/events/"),
            ("GET", "/api/v1/webhooks/{id}/"),
            ("GET", "/api/v1/webhooks/{id}/deliveries/"),
            ("GET", "/api/v1/webhooks/{id}/deliveries/{record_id}/"),
            ("PATCH", "/api/v1/webhooks/{id}/"),
            ("POST", "/api/v1/webhooks/"),
            (
                "POST",
                "/api/v1/webhooks/{id}/deliveries/{record_id}/retry/",
            ),
            ("POST", "/api/v1/webhooks/{id}/recover/"),
            ("POST", "/api/v1/webhooks/{id}/rotate-secret/"),
            ("POST", "/api/v1/webhooks/{id}/test/"),
            ("PUT", "/api/v1/webhooks/{id}/"),
        ]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
        assert_eq!(operations(&document), expected);
        let mut targets = Vec::new();
        refs(&document, &mut targets);
        for target in targets {
            assert!(
                document.pointer(target.trim_start_matches('#')).is_some(),
                "{target}"
            );
        }
        let webhooks = document["webhooks"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (event, _) in clientstor_events::types::PUBLIC {
            let payload =
                &webhooks[*event]["post"]["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(payload["properties"]["event"]["const"], *event);
            assert_eq!(
                payload["properties"]["data"],
                crate::catalogue::data_schema(event)
            );
        }
        assert!(webhooks.contains_key(crate::catalogue::TEST_EVENT));
        assert_eq!(webhooks.len(), clientstor_events::types::PUBLIC.len() + 1);
    }

    /// The catalogue's schemas describe what `webhook_data` really renders.
    #[test]
    fn data_schemas_require_what_the_payloads_carry() {
        use clientstor_events::v1::{
            AssetChanged, MonitorChanged, VaultBreach, VulnerabilityFound,
        };
        use clientstor_events::{Organization, Payload, new_envelope, webhook_data};
        let cases = [
            (
                "asset.deleted",
                Payload::AssetChanged(AssetChanged::default()),
            ),
            ("vault.breach", Payload::VaultBreach(VaultBreach::default())),
            (
                "monitor.down",
                Payload::MonitorChanged(MonitorChanged::default()),
            ),
            (
                "vulnerability.found",
                Payload::VulnerabilityFound(VulnerabilityFound::default()),
            ),
        ];
        for (event, payload) in cases {
            let envelope = new_envelope(event, "test", Organization::default(), payload);
            let data = webhook_data(&envelope);
            let schema = crate::catalogue::data_schema(event);
            let keys: std::collections::BTreeSet<&str> = data
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect();
            let required: std::collections::BTreeSet<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(keys, required, "{event}");
        }
    }

    /// Every documented operation reaches a handler (no 404 or 405 from the router: without a
    /// principal the handlers refuse before doing anything), and no other method of a
    /// documented path does.
    #[actix_web::test]
    async fn the_router_serves_exactly_the_documented_methods() {
        let mut spec = Spec::new();
        super::openapi(&mut spec);
        clientstor_testkit::routes::assert_router_matches(
            super::configure,
            &spec.document("webhook-dispatcher"),
        )
        .await;
    }
}
