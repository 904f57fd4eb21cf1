//! Turns events from the bus into delivery rows, in the consumer's inbox transaction.

use clientstor_bus::consumer::HandlerFuture;
use clientstor_bus::{EventHandler, HandlerError};
use clientstor_events::{Envelope, Payload, webhook_data};
use diesel_async::AsyncPgConnection;
use serde_json::json;

use crate::SCHEMA;
use crate::db::{deliveries, endpoints};

/// Organization changes (for names) and the public catalogue; internal events such as
/// `rmm.device.*` never reach the dispatcher's queue.
pub fn bindings() -> Vec<String> {
    std::iter::once("organization.*")
        .chain(
            clientstor_events::types::PUBLIC
                .iter()
                .map(|(name, _)| *name),
        )
        .map(str::to_string)
        .collect()
}

pub struct DispatchHandler;

impl EventHandler for DispatchHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        envelope: &'a Envelope,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if let Some(Payload::OrganizationChanged(_)) = envelope.payload {
                return clientstor_runtime::organizations::apply_event(conn, SCHEMA, envelope)
                    .await;
            }
            if !clientstor_events::types::is_public(&envelope.event_type) {
                return Ok(());
            }
            fan_out(conn, envelope).await
        })
    }
}

/// The seed's payload: `{"event","timestamp","organization":{"id","name"},"data"}`.
pub fn render(envelope: &Envelope, organization_name: &str) -> String {
    let org_id = envelope.organization.as_ref().map_or(0, |o| o.id);
    json!({
        "event": envelope.event_type,
        "timestamp": envelope.occurred_at,
        "organization": { "id": org_id, "name": organization_name },
        "data": webhook_data(envelope),
    })
    .to_string()
}

async fn fan_out(conn: &mut AsyncPgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
    let Some(org) = envelope.organization.as_ref() else {
        return Err(HandlerError::Permanent("event without organization".into()));
    };
    let targets = endpoints::subscribed(conn, org.id, &envelope.event_type).await?;
    if targets.is_empty() {
        return Ok(());
    }
    let name = if org.name.is_empty() {
        clientstor_runtime::organizations::name(conn, SCHEMA, org.id).await?
    } else {
        org.name.clone()
    };
    let body = render(envelope, &name);
    let event_id = uuid::Uuid::parse_str(&envelope.event_id)
        .map_err(|_| HandlerError::Permanent("event_id is not a UUID".into()))?;
    let subject = clientstor_events::subject(envelope);
    let new: Vec<deliveries::NewDelivery> = targets
        .iter()
        .map(|endpoint| deliveries::NewDelivery {
            endpoint_id: endpoint.id,
            organization_id: org.id,
            event_id,
            event_type: envelope.event_type.clone(),
            message_id: format!("msg_{}", event_id.simple()),
            body: body.clone(),
            subject: subject.clone(),
            traceparent: envelope.traceparent.clone(),
        })
        .collect();
    deliveries::insert_many(conn, &new).await?;
    Ok(())
}
