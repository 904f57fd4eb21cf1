use std::sync::Arc;

use clientstor_events::{Envelope, encode};
use diesel::sql_types::{Bytea, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use tokio::sync::Notify;

/// Writes an event into `<schema>.outbox`. Call it inside the transaction that makes the change,
/// so the event exists exactly when the change does.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    schema: &'static str,
    envelope: &Envelope,
) -> diesel::QueryResult<()> {
    let schema = clientstor_db::checked_schema(schema);
    let event_id = uuid::Uuid::parse_str(&envelope.event_id)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::sql_query(format!(
        "INSERT INTO {schema}.outbox (event_id, event_type, payload) VALUES ($1, $2, $3)"
    ))
    .bind::<SqlUuid, _>(event_id)
    .bind::<Text, _>(&envelope.event_type)
    .bind::<Bytea, _>(encode(envelope))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Wakes the relay right after a commit, so events leave without waiting for the next poll.
#[derive(Clone, Default)]
pub struct OutboxNotifier(Arc<Notify>);

impl OutboxNotifier {
    pub fn notify(&self) {
        self.0.notify_one();
    }

    pub(crate) async fn notified(&self) {
        self.0.notified().await;
    }
}
