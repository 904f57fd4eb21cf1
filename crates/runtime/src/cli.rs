//! The commands every binary has: `serve`, `migrate`, `openapi`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clientstor_config::Service;

use crate::server::{ServiceDef, start};

#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service until SIGTERM or SIGINT.
    Serve,
    /// Apply pending migrations of this service's schema, then exit.
    Migrate,
    /// Print this service's OpenAPI document.
    Openapi,
}

/// Process-wide set-up shared by every binary: the TLS provider (ring, the only one built in).
pub fn init_process() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the Tokio runtime. Start-up only.
pub fn runtime() -> Result<tokio::runtime::Runtime, std::io::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Loads and validates the settings, or explains which setting is wrong.
pub fn load_settings(service: Service) -> Result<clientstor_config::Settings, ExitCode> {
    clientstor_config::load(service).map_err(|error| {
        eprintln!("{service}: {error}");
        ExitCode::from(2)
    })
}

pub async fn serve(def: &ServiceDef, settings: clientstor_config::Settings) -> ExitCode {
    let _guard = match clientstor_telemetry::init(def.service.binary(), &settings.telemetry) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("{}: {error}", def.service);
            return ExitCode::from(2);
        }
    };
    let running = match start(def, settings).await {
        Ok(running) => running,
        Err(error) => {
            tracing::error!(%error, "start failed");
            return ExitCode::FAILURE;
        }
    };
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    ExitCode::SUCCESS
}

pub async fn migrate(def: &ServiceDef, settings: &clientstor_config::Settings) -> ExitCode {
    let url = settings.database_url(def.service).expose().to_string();
    match clientstor_db::run_migrations(&url, def.service.section(), def.migrations).await {
        Ok(applied) => {
            eprintln!(
                "{}: {} migration(s) applied to schema {}",
                def.service,
                applied.len(),
                def.service.section()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}: {error}", def.service);
            ExitCode::FAILURE
        }
    }
}

pub fn openapi(def: &ServiceDef) -> ExitCode {
    let document = def.openapi_document();
    match serde_json::to_string_pretty(&document) {
        Ok(text) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}: {error}", def.service);
            ExitCode::FAILURE
        }
    }
}

/// The whole `main` of a service binary.
pub fn main(def: ServiceDef) -> ExitCode {
    init_process();
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        return openapi(&def);
    }
    let settings = match load_settings(def.service) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{}: cannot start the async runtime: {error}", def.service);
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Serve => serve(&def, settings).await,
            Command::Migrate => migrate(&def, &settings).await,
            Command::Openapi => openapi(&def),
        }
    })
}
