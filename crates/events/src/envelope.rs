use chrono::{SecondsFormat, Utc};
use prost::Message as _;

use crate::v1::{Envelope, Organization, envelope::Payload};

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a valid envelope: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("envelope has no {0}")]
    Missing(&'static str),
}

/// A new envelope with a fresh UUID v7 id and the current time.
pub fn new_envelope(
    event_type: &str,
    source: &str,
    organization: Organization,
    payload: Payload,
) -> Envelope {
    Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        event_type: event_type.to_string(),
        occurred_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        organization: Some(organization),
        source: source.to_string(),
        traceparent: crate::trace::current()
            .map(|t| t.child().header())
            .unwrap_or_default(),
        payload: Some(payload),
    }
}

pub fn encode(envelope: &Envelope) -> Vec<u8> {
    envelope.encode_to_vec()
}

/// Decodes and checks the fields every consumer relies on.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    let envelope = Envelope::decode(bytes)?;
    if envelope.event_id.is_empty() {
        return Err(DecodeError::Missing("event_id"));
    }
    if envelope.event_type.is_empty() {
        return Err(DecodeError::Missing("event_type"));
    }
    if envelope.payload.is_none() {
        return Err(DecodeError::Missing("payload"));
    }
    Ok(envelope)
}

/// What the event is about (`asset:7`), for per-subject ordering; empty when it has no subject.
pub fn subject(envelope: &Envelope) -> String {
    match &envelope.payload {
        Some(Payload::AssetChanged(p)) => format!("asset:{}", p.id),
        Some(Payload::OrganizationChanged(p)) => format!("organization:{}", p.id),
        Some(Payload::VaultBreach(p)) => format!("password:{}", p.password_id),
        Some(Payload::MonitorChanged(p)) => format!("monitor:{}", p.monitor_id),
        Some(Payload::RmmDevice(p)) => format!("rmm-device:{}:{}", p.integration_id, p.external_id),
        Some(Payload::VulnerabilityFound(p)) => format!("asset:{}", p.asset_id),
        None => String::new(),
    }
}

/// The webhook `data` object for an event: the payload's fields, as the public contract names them.
pub fn webhook_data(envelope: &Envelope) -> serde_json::Value {
    match &envelope.payload {
        Some(Payload::OrganizationChanged(p)) => serde_json::to_value(p).unwrap_or_default(),
        Some(Payload::AssetChanged(p)) => asset_data(p),
        Some(Payload::VaultBreach(p)) => serde_json::to_value(p).unwrap_or_default(),
        Some(Payload::MonitorChanged(p)) => serde_json::to_value(p).unwrap_or_default(),
        Some(Payload::RmmDevice(p)) => serde_json::to_value(p).unwrap_or_default(),
        Some(Payload::VulnerabilityFound(p)) => serde_json::json!({
            "cve_id": p.cve_id,
            "summary": p.summary,
            "severity": p.severity,
            "cvss_score": p.cvss_score,
            "known_exploited": p.known_exploited,
            "published_at": p.published_at,
            "asset_id": p.asset_id,
            "asset_name": p.asset_name,
            "matched": {
                "product": p.matched_product,
                "version": p.matched_version,
                "source": p.matched_source,
            },
        }),
        None => serde_json::Value::Null,
    }
}

/// `asset.created`: the asset as the API returns it; `asset.updated`: that plus `changes`;
/// `asset.deleted`: id, name, asset_type, serial_number.
fn asset_data(p: &crate::v1::AssetChanged) -> serde_json::Value {
    let parsed = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v.is_object())
    };
    let Some(mut data) = parsed(&p.representation) else {
        return serde_json::json!({
            "id": p.id, "name": p.name, "asset_type": p.asset_type, "serial_number": p.serial_number,
        });
    };
    if let (Some(changes), Some(object)) = (parsed(&p.changes), data.as_object_mut()) {
        object.insert("changes".into(), changes);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::AssetChanged;

    #[test]
    fn round_trips_and_renders_webhook_data() {
        let envelope = new_envelope(
            crate::types::ASSET_CREATED,
            "inventory",
            Organization {
                id: 42,
                name: "Acme Corp".into(),
            },
            Payload::AssetChanged(AssetChanged {
                id: 7,
                name: "fw-01".into(),
                asset_type: "firewall".into(),
                serial_number: Some("SN1".into()),
                created_at: "2026-01-01T00:00:00Z".into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
                ..Default::default()
            }),
        );
        let decoded = decode(&encode(&envelope)).unwrap();
        assert_eq!(decoded, envelope);
        assert_eq!(
            uuid::Uuid::parse_str(&decoded.event_id)
                .unwrap()
                .get_version_num(),
            7
        );
        let data = webhook_data(&decoded);
        assert_eq!(data["id"], 7);
        assert_eq!(data["name"], "fw-01");
        assert_eq!(data["serial_number"], "SN1");
    }

    #[test]
    fn rejects_garbage_and_incomplete_envelopes() {
        assert!(decode(b"\xff\xff\xff").is_err());
        let empty = Envelope::default();
        assert!(matches!(
            decode(&encode(&empty)),
            Err(DecodeError::Missing("event_id"))
        ));
    }
}
