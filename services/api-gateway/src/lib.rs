//! The API gateway: authenticates API keys, resolves the organizations a key reaches, signs
//! the principal and forwards requests to the owning services. It owns organizations, users,
//! memberships and keys, and publishes `organization.created/updated`.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use clientstor_config::{Service, Settings};
use clientstor_runtime::Context;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub mod admin;
mod auth;
pub mod browse;
mod db;
mod edge;
mod error;
pub mod keys;
mod limits;
mod proxy;
mod roles;
pub mod routes;
mod state;

pub use state::Gateway;

pub const SCHEMA: &str = "gateway";
pub static MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/gateway");

/// A started gateway: the public and the admin address.
pub struct RunningGateway {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub context: Context,
    shutdown: CancellationToken,
    servers: Vec<actix_web::dev::ServerHandle>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningGateway {
    pub async fn stop(self) {
        for server in &self.servers {
            server.stop(true).await;
        }
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

fn bind_error(address: &str, error: std::io::Error) -> String {
    format!("cannot listen on {address}: {error}")
}

pub async fn start(settings: Settings) -> Result<RunningGateway, String> {
    let context = Context::new(Service::Gateway, settings).map_err(|e| e.to_string())?;
    let gateway = web::Data::new(Gateway::new(context.clone())?);
    let shutdown = CancellationToken::new();
    let mut tasks = vec![tokio::spawn(clientstor_bus::run_relay(
        context.pool.clone(),
        SCHEMA,
        context.bus_settings(),
        context.outbox.clone(),
        context.bus.clone(),
        shutdown.child_token(),
    ))];
    let metrics = web::Data::new(context.metrics.clone());
    let readiness = web::Data::new(clientstor_runtime::standard_readiness(
        &context,
        SCHEMA,
        &MIGRATIONS,
    ));

    let public_metrics = metrics.clone();
    let limit = context.settings.gateway.max_body_bytes;
    let public = HttpServer::new(move || {
        App::new()
            .app_data(gateway.clone())
            .app_data(public_metrics.clone())
            .app_data(web::PayloadConfig::new(limit))
            .app_data(clientstor_http::json_config(limit))
            .app_data(clientstor_http::query_config())
            // Outermost first: request id and metrics, then authentication and limits.
            .wrap(from_fn(edge::edge))
            .wrap(from_fn(clientstor_http::request_context))
            .configure(browse::configure)
            .configure(routes::configure)
            .route("/api/{tail:.*}", web::to(proxy::forward))
            .default_service(web::to(clientstor_http::not_found_handler))
    })
    .disable_signals()
    .shutdown_timeout(10)
    // Longer than the idle timeouts of common HTTP clients (90 s in reqwest and Go), so that a
    // client closes an idle connection before the gateway does: otherwise a request sent on a
    // connection the gateway is closing at that moment is lost to the client.
    .keep_alive(Duration::from_secs(120))
    .bind(&context.settings.gateway.listen)
    .map_err(|e| bind_error(&context.settings.gateway.listen, e))?;
    let admin = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(readiness.clone())
            .wrap(from_fn(clientstor_http::request_context))
            .configure(clientstor_http::health::configure)
            .default_service(web::to(clientstor_http::not_found_handler))
    })
    .workers(1)
    .disable_signals()
    .bind(&context.settings.gateway.admin_listen)
    .map_err(|e| bind_error(&context.settings.gateway.admin_listen, e))?;
    let addr = public.addrs().first().copied().ok_or("no public address")?;
    let admin_addr = admin.addrs().first().copied().ok_or("no admin address")?;
    let mut servers = Vec::new();
    for server in [public.run(), admin.run()] {
        servers.push(server.handle());
        tasks.push(tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::error!(%error, "HTTP server failed");
            }
        }));
    }
    tracing::info!(%addr, %admin_addr, "gateway listening");
    Ok(RunningGateway {
        addr,
        admin_addr,
        context,
        shutdown,
        servers,
        tasks,
    })
}

/// `api-gateway serve`: telemetry, the gateway, and a graceful stop on SIGTERM or SIGINT.
pub async fn serve(settings: Settings) -> std::process::ExitCode {
    use std::process::ExitCode;
    let _guard = match clientstor_telemetry::init("api-gateway", &settings.telemetry) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("api-gateway: {error}");
            return ExitCode::from(2);
        }
    };
    let running = match start(settings).await {
        Ok(running) => running,
        Err(error) => {
            tracing::error!(%error, "start failed");
            return ExitCode::FAILURE;
        }
    };
    clientstor_runtime::cli::shutdown_signal().await;
    running.stop().await;
    ExitCode::SUCCESS
}
