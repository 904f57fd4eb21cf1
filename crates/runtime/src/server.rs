use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use clientstor_bus::{ConsumerSpec, EventHandler};
use clientstor_config::{Service, Settings};
use clientstor_db::EmbeddedMigrations;
use clientstor_http::health::{Readiness, ReadinessCheck};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::context::{Context, StartError};

/// Routing keys and the handler of a consuming service.
pub type Consumes = fn(&Context) -> (Vec<String>, Arc<dyn EventHandler>);
/// Extra long-running tasks of a service.
pub type Background = fn(&Context, CancellationToken) -> Vec<JoinHandle<()>>;

/// How a service describes itself to the runtime.
pub struct ServiceDef {
    /// Also names the Postgres schema and the migrations directory (`Service::section`).
    pub service: Service,
    pub migrations: &'static EmbeddedMigrations,
    /// Whether the service writes to `<schema>.outbox` (starts the relay).
    pub publishes: bool,
    /// Routing keys and handler, if the service consumes events.
    pub consumes: Option<Consumes>,
    pub routes: fn(&mut web::ServiceConfig),
    /// Extra long-running tasks (for example the webhook delivery worker).
    pub background: Option<Background>,
    /// Describes the service's resources for its OpenAPI document.
    pub openapi: fn(&mut crate::openapi::Spec),
}

impl ServiceDef {
    /// The service's OpenAPI document, served at `/openapi.json` for the gateway to merge.
    pub fn openapi_document(&self) -> serde_json::Value {
        let mut spec = crate::openapi::Spec::new();
        (self.openapi)(&mut spec);
        spec.document(&format!("ClientSt0r {}", self.service.binary()))
    }
}

impl ServiceDef {
    /// A service that so far only keeps the organization directory and answers the
    /// operational endpoints.
    pub fn directory_only(service: Service, migrations: &'static EmbeddedMigrations) -> Self {
        ServiceDef {
            service,
            migrations,
            publishes: true,
            consumes: Some(|context| {
                let handler = crate::organizations::OrganizationsHandler {
                    schema: context.service.section(),
                };
                (crate::organizations::bindings(), Arc::new(handler))
            }),
            routes: |_| {},
            background: None,
            openapi: |_| {},
        }
    }
}

/// A started service: its bound address and the means to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub context: Context,
    shutdown: CancellationToken,
    server: actix_web::dev::ServerHandle,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, then stops the bus tasks and waits for them.
    pub async fn stop(self) {
        self.server.stop(true).await;
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

/// Readiness: the database answers, the migrations are applied, and the broker tasks are connected.
pub fn standard_readiness(
    context: &Context,
    schema: &'static str,
    migrations: &'static EmbeddedMigrations,
) -> Readiness {
    let pool = context.pool.clone();
    let database = ReadinessCheck::new("database", move || {
        let pool = pool.clone();
        async move { clientstor_db::ping(&pool, Duration::from_secs(2)).await }
    });
    let pool = context.pool.clone();
    let applied = Arc::new(AtomicBool::new(false));
    let migrations_check = ReadinessCheck::new("migrations", move || {
        let pool = pool.clone();
        let applied = applied.clone();
        async move {
            if applied.load(Ordering::Relaxed) {
                return Ok(());
            }
            let check = async {
                let mut conn = pool
                    .get()
                    .await
                    .map_err(|e| format!("no connection: {e}"))?;
                clientstor_db::migrations_applied(&mut conn, schema, migrations).await
            };
            match tokio::time::timeout(Duration::from_secs(2), check).await {
                Ok(Ok(true)) => {
                    applied.store(true, Ordering::Relaxed);
                    Ok(())
                }
                Ok(Ok(false)) => Err("pending migrations: run `migrate`".into()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err("timed out".into()),
            }
        }
    });
    let bus = context.bus.clone();
    let amqp = ReadinessCheck::new("amqp", move || {
        let bus = bus.clone();
        async move { bus.check() }
    });
    Readiness(vec![database, migrations_check, amqp])
}

fn consumer_metrics(context: &Context) -> Result<clientstor_bus::ConsumerMetrics, StartError> {
    let metrics = clientstor_bus::ConsumerMetrics::new(context.service.binary())
        .map_err(|e| StartError(format!("metrics: {e}")))?;
    metrics
        .register(context.metrics.registry())
        .map_err(|e| StartError(format!("metrics: {e}")))?;
    Ok(metrics)
}

/// Starts the bus tasks and the HTTP server of a service. Binds `listen` from the settings
/// (`127.0.0.1:0` in tests gives an ephemeral port).
pub async fn start(def: &ServiceDef, settings: Settings) -> Result<Running, StartError> {
    let context = Context::new(def.service, settings)?;
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    if def.publishes {
        tasks.push(tokio::spawn(clientstor_bus::run_relay(
            context.pool.clone(),
            def.service.section(),
            context.bus_settings(),
            context.outbox.clone(),
            context.bus.clone(),
            shutdown.child_token(),
        )));
    }
    if let Some(consumes) = def.consumes {
        let (bindings, handler) = consumes(&context);
        let spec = ConsumerSpec {
            service: def.service.section(),
            schema: def.service.section(),
            bindings,
            handler,
            after_commit: Some(context.work.clone()),
            metrics: consumer_metrics(&context)?,
        };
        tasks.push(tokio::spawn(clientstor_bus::run_consumer(
            context.pool.clone(),
            context.bus_settings(),
            spec,
            context.bus.clone(),
            shutdown.child_token(),
        )));
    }
    if let Some(background) = def.background {
        tasks.extend(background(&context, shutdown.child_token()));
    }
    let readiness = web::Data::new(standard_readiness(
        &context,
        def.service.section(),
        def.migrations,
    ));
    tasks.push(tokio::spawn(crate::gauges::run(
        context.clone(),
        def.publishes,
        shutdown.child_token(),
    )));
    let metrics = web::Data::new(context.metrics.clone());
    let data = web::Data::new(context.clone());
    let key = web::Data::new(context.principal_key.clone());
    let routes = def.routes;
    let document = web::Data::new(def.openapi_document());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(key.clone())
            .app_data(readiness.clone())
            .app_data(metrics.clone())
            .app_data(clientstor_http::json_config(10 * 1024 * 1024))
            .app_data(clientstor_http::query_config())
            .wrap(from_fn(clientstor_http::request_context))
            .configure(clientstor_http::health::configure)
            .app_data(document.clone())
            .route("/openapi.json", web::get().to(openapi))
            .configure(routes)
            .default_service(web::to(clientstor_http::not_found_handler))
    })
    .disable_signals()
    .shutdown_timeout(10)
    // Longer than the gateway keeps an idle connection to a service (30 s).
    .keep_alive(Duration::from_secs(75))
    .bind(context.settings.listen(def.service))
    .map_err(|e| {
        StartError(format!(
            "cannot listen on {}: {e}",
            context.settings.listen(def.service)
        ))
    })?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| StartError("no listen address".into()))?;
    let server = server.run();
    let handle = server.handle();
    tasks.push(tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, "HTTP server failed");
        }
    }));
    tracing::info!(%addr, service = %def.service, "listening");
    Ok(Running {
        addr,
        context,
        shutdown,
        server: handle,
        tasks,
    })
}

/// The service's part of the API description, for the gateway.
async fn openapi(document: web::Data<serde_json::Value>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(document.get_ref())
}
