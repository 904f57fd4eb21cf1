//! Each service keeps a local copy of organization names, fed by `organization.created/updated`,
//! for `organization_name` fields and event payloads. The table is `<schema>.organizations`.

use std::collections::HashMap;

use clientstor_bus::HandlerError;
use clientstor_events::{Envelope, Payload};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Applies an organization event; other events are not this function's business.
pub async fn apply_event(
    conn: &mut AsyncPgConnection,
    schema: &'static str,
    envelope: &Envelope,
) -> Result<(), HandlerError> {
    let Some(Payload::OrganizationChanged(org)) = &envelope.payload else {
        return Err(HandlerError::Permanent(format!(
            "{} without an organization payload",
            envelope.event_type
        )));
    };
    let schema = clientstor_db::checked_schema(schema);
    diesel::sql_query(format!(
        "INSERT INTO {schema}.organizations (id, name, updated_at) VALUES ($1, $2, now()) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()"
    ))
    .bind::<BigInt, _>(org.id)
    .bind::<Text, _>(&org.name)
    .execute(conn)
    .await?;
    Ok(())
}

/// Names of the given organizations; unknown ids are absent.
pub async fn names(
    conn: &mut AsyncPgConnection,
    schema: &'static str,
    ids: &[i64],
) -> diesel::QueryResult<HashMap<i64, String>> {
    let schema = clientstor_db::checked_schema(schema);
    let rows: Vec<Named> = diesel::sql_query(format!(
        "SELECT id, name FROM {schema}.organizations WHERE id = ANY($1)"
    ))
    .bind::<Array<BigInt>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// One organization's name, or an empty string while its event has not arrived yet.
pub async fn name(
    conn: &mut AsyncPgConnection,
    schema: &'static str,
    id: i64,
) -> diesel::QueryResult<String> {
    Ok(names(conn, schema, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// A consumer handler for services that only need organization names.
pub struct OrganizationsHandler {
    pub schema: &'static str,
}

impl clientstor_bus::EventHandler for OrganizationsHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        envelope: &'a Envelope,
    ) -> clientstor_bus::consumer::HandlerFuture<'a> {
        Box::pin(apply_event(conn, self.schema, envelope))
    }
}

/// The routing keys of organization events.
pub fn bindings() -> Vec<String> {
    vec!["organization.*".to_string()]
}
