//! Events inventory consumes (organization names, RMM devices) and produces (asset changes).

use clientstor_bus::EventHandler;
use clientstor_bus::consumer::HandlerFuture;
use clientstor_events::v1::AssetChanged;
use clientstor_events::{Envelope, Organization, Payload, new_envelope};
use diesel_async::AsyncPgConnection;

use crate::SCHEMA;
use crate::db::assets::AssetRow;
use crate::db::device_links;
use clientstor_events::types::RMM_DEVICE_REMOVED;

pub fn bindings() -> Vec<String> {
    vec!["organization.*".to_string(), "rmm.device.*".to_string()]
}

pub struct InventoryHandler;

impl EventHandler for InventoryHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        envelope: &'a Envelope,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            match &envelope.payload {
                Some(Payload::RmmDevice(device)) => {
                    if envelope.event_type == RMM_DEVICE_REMOVED {
                        device_links::remove(conn, device).await?;
                    } else {
                        device_links::upsert(conn, envelope, device).await?;
                    }
                    Ok(())
                }
                _ => clientstor_runtime::organizations::apply_event(conn, SCHEMA, envelope).await,
            }
        })
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The event for an asset change: the asset as the API returns it (`representation`) and, for
/// updates, what changed.
pub fn asset_event(
    event_type: &str,
    asset: &AssetRow,
    organization_name: &str,
    representation: Option<serde_json::Value>,
    changes: Option<serde_json::Value>,
) -> Envelope {
    new_envelope(
        event_type,
        "inventory",
        Organization {
            id: asset.organization_id,
            name: organization_name.to_string(),
        },
        Payload::AssetChanged(AssetChanged {
            id: asset.id,
            name: asset.name.clone(),
            asset_type: asset.asset_type.clone(),
            serial_number: asset.serial_number.clone(),
            created_at: rfc3339(asset.created_at),
            updated_at: rfc3339(asset.updated_at),
            representation: representation.map(|v| v.to_string()).unwrap_or_default(),
            changes: changes.map(|v| v.to_string()).unwrap_or_default(),
        }),
    )
}
