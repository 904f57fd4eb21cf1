//! Postgres access shared by the services: a diesel-async pool, migrations per schema (each
//! with its own tracking table, under a per-schema advisory lock), and a migration check for
//! readiness.

mod migrate;
mod pool;

pub use diesel_async::AsyncPgConnection;
pub use diesel_migrations::EmbeddedMigrations;
pub use migrate::{MigrateError, migrations_applied, run_migrations};
pub use pool::{Pool, PoolError, PoolOptions, build_pool, ping};

/// A schema name safe to splice into SQL: lowercase letters, digits and underscores.
pub fn checked_schema(schema: &str) -> &str {
    assert!(
        !schema.is_empty()
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "schema names are compile-time constants of [a-z0-9_]"
    );
    schema
}

/// The next value of a sequence (`schema.table_id_seq`), for records whose id must be known
/// before they are written (secrets are sealed bound to their record's id).
pub async fn next_id(
    conn: &mut AsyncPgConnection,
    sequence: &'static str,
) -> diesel::QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    use diesel_async::RunQueryDsl as _;
    let next: Next = diesel::sql_query("SELECT nextval($1::regclass) AS id")
        .bind::<diesel::sql_types::Text, _>(sequence)
        .get_result(conn)
        .await?;
    Ok(next.id)
}

/// `%word%` for `ILIKE`, with the pattern characters of `word` escaped.
pub fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Applies a list ordering (`(field, descending)` pairs, already checked against the allowed
/// names) to a boxed diesel query, mapping each allowed name to its column. Unknown names are
/// skipped. Callers add a unique tie-breaker after it so that pages never overlap.
#[macro_export]
macro_rules! apply_ordering {
    ($query:expr, $ordering:expr, { $($name:literal => $column:expr),* $(,)? }) => {{
        use diesel::{ExpressionMethods as _, QueryDsl as _};
        let mut query = $query;
        for (field, descending) in $ordering {
            query = match (field.as_str(), *descending) {
                $(
                    ($name, false) => query.then_order_by($column.asc()),
                    ($name, true) => query.then_order_by($column.desc()),
                )*
                _ => query,
            };
        }
        query
    }};
}
