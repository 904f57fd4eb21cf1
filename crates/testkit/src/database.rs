use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

use clientstor_config::Service;
use clientstor_db::EmbeddedMigrations;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A database of its own for one test, cloned from a template that has the requested schemas
/// migrated. Dropped (with `FORCE`) when the value is dropped.
pub struct TestDb {
    pub url: String,
    name: String,
    admin_url: String,
}

/// The server every test uses: `CLIENTSTOR_DATABASE__URL`, as `make test` exports it.
pub fn admin_url() -> String {
    std::env::var("CLIENTSTOR_DATABASE__URL")
        .unwrap_or_else(|_| "postgres://clientstor@127.0.0.1:5432/clientstor".to_string())
}

pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Hash of the migration files of the given schemas: a changed migration gets a new template.
fn fingerprint(schemas: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut hasher = DefaultHasher::new();
    for schema in schemas {
        schema.hash(&mut hasher);
        let mut entries: Vec<_> = std::fs::read_dir(root.join(schema))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for dir in entries {
            dir.file_name().hash(&mut hasher);
            std::fs::read(dir.join("up.sql"))
                .unwrap_or_default()
                .hash(&mut hasher);
        }
    }
    format!("{:016x}", hasher.finish())
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

impl TestDb {
    /// A fresh database with the schemas of `services` migrated.
    pub async fn new(services: &[(Service, &'static EmbeddedMigrations)]) -> TestDb {
        let admin_url = admin_url();
        let schemas: Vec<&str> = services.iter().map(|(s, _)| s.section()).collect();
        let template = format!("cstpl_{}", fingerprint(&schemas));
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .expect("connect to the test Postgres");
        // One process builds the template; the others wait for it.
        diesel::sql_query("SELECT pg_advisory_lock(7303205)")
            .execute(&mut admin)
            .await
            .unwrap();
        let exists: Vec<Exists> = diesel::sql_query(
            "SELECT datname::text AS datname FROM pg_database WHERE datname = $1",
        )
        .bind::<Text, _>(&template)
        .load(&mut admin)
        .await
        .unwrap();
        if exists.is_empty() {
            let building = format!("{template}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let url = with_database(&admin_url, &building);
            for (service, migrations) in services {
                clientstor_db::run_migrations(&url, service.section(), migrations)
                    .await
                    .unwrap();
            }
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(7303205)")
            .execute(&mut admin)
            .await
            .unwrap();
        let name = format!("cstest_{}", uuid::Uuid::new_v4().simple());
        let mut tries = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut admin)
                .await
            {
                Ok(_) => break,
                // Another test may be cloning the same template at this instant.
                Err(e) if tries < 50 && e.to_string().contains("being accessed by other users") => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        TestDb {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context; use a small runtime on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = AsyncPgConnection::establish(&admin_url).await {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            });
        })
        .join();
    }
}
