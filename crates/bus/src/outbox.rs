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
    enqueue_many(conn, schema, std::slice::from_ref(envelope)).await
}

/// Writes several events in one statement (a bulk change writes all its events at once).
pub async fn enqueue_many(
    conn: &mut AsyncPgConnection,
    schema: &'static str,
    envelopes: &[Envelope],
) -> diesel::QueryResult<()> {
    use diesel::sql_types::Array;
    if envelopes.is_empty() {
        return Ok(());
    }
    let schema = clientstor_db::checked_schema(schema);
    let mut ids = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        ids.push(
            uuid::Uuid::parse_str(&envelope.event_id)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
        );
    }
    let types: Vec<&str> = envelopes.iter().map(|e| e.event_type.as_str()).collect();
    let payloads: Vec<Vec<u8>> = envelopes.iter().map(encode).collect();
    // unnest keeps the input order, so outbox ids follow the order of the changes.
    diesel::sql_query(format!(
        "INSERT INTO {schema}.outbox (event_id, event_type, payload) \
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])"
    ))
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&types)
    .bind::<Array<Bytea>, _>(&payloads)
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
