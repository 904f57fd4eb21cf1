//! Per-service database roles (deploy/sql/service-roles.sql): each service migrates its own
//! schema with its own role and is refused another service's schema by Postgres itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clientstor_testkit::{admin_url, with_database};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The admin URL with another user and password.
fn as_role(url: &str, role: &str, password: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_username(role).unwrap();
    url.set_password(Some(password)).unwrap();
    url.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_role_cannot_read_another_services_schema() {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let database = format!("cstest_roles_{tag}");
    let prefix = format!("cstest_{tag}_");
    let admin = admin_url();
    let mut server = AsyncPgConnection::establish(&admin).await.unwrap();
    diesel::sql_query(format!("CREATE DATABASE {database}"))
        .execute(&mut server)
        .await
        .unwrap();
    let url = with_database(&admin, &database);
    let script = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/sql/service-roles.sql"),
    )
    .unwrap()
    .replace("'clientstor_'", &format!("'{prefix}'"));
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute(&script).await.unwrap();
    let password = uuid::Uuid::new_v4().simple().to_string();
    for service in ["inventory", "vault"] {
        conn.batch_execute(&format!(
            "ALTER ROLE {prefix}{service} PASSWORD '{password}'"
        ))
        .await
        .unwrap();
    }
    let inventory_url = as_role(&url, &format!("{prefix}inventory"), &password);
    let vault_url = as_role(&url, &format!("{prefix}vault"), &password);
    // Each role migrates its own schema: its privileges are enough.
    clientstor_db::run_migrations(&inventory_url, "inventory", &inventory::MIGRATIONS)
        .await
        .unwrap();
    clientstor_db::run_migrations(&vault_url, "vault", &vault::MIGRATIONS)
        .await
        .unwrap();

    let mut as_inventory = AsyncPgConnection::establish(&inventory_url).await.unwrap();
    as_inventory
        .batch_execute("INSERT INTO inventory.assets (organization_id, name, asset_type) VALUES (1, 'mine', 'server')")
        .await
        .unwrap();
    let refused = as_inventory
        .batch_execute("SELECT * FROM vault.passwords")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("permission denied for schema vault"),
        "{refused}"
    );
    let mut as_vault = AsyncPgConnection::establish(&vault_url).await.unwrap();
    for statement in [
        "SELECT * FROM inventory.assets",
        "DELETE FROM inventory.assets",
        "CREATE TABLE inventory.intruder (id int)",
        "CREATE TABLE public.intruder (id int)",
    ] {
        let refused = as_vault
            .batch_execute(statement)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("permission denied"),
            "{statement}: {refused}"
        );
    }

    drop((as_inventory, as_vault, conn));
    diesel::sql_query(format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut server)
        .await
        .unwrap();
    for service in [
        "gateway",
        "inventory",
        "vault",
        "monitor",
        "webhooks",
        "rmm",
    ] {
        diesel::sql_query(format!("DROP ROLE {prefix}{service}"))
            .execute(&mut server)
            .await
            .unwrap();
    }
}
