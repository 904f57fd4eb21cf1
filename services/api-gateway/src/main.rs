use std::process::ExitCode;

use api_gateway::admin::{self, AdminCommand};
use clap::{Parser, Subcommand};
use clientstor_config::Service;
use clientstor_runtime::cli;

#[derive(Debug, Parser)]
#[command(version, about = "ClientSt0r API gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway until SIGTERM or SIGINT.
    Serve,
    /// Apply pending migrations of the gateway schema.
    Migrate,
    /// Print the OpenAPI document of the gateway's own endpoints.
    Openapi,
    /// Manage organizations, users, memberships and keys.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[allow(clippy::print_stdout)]
fn main() -> ExitCode {
    cli::init_process();
    let parsed = Cli::parse();
    if let Command::Openapi = parsed.command {
        let document = {
            let mut spec = clientstor_runtime::openapi::Spec::new();
            api_gateway::routes::openapi(&mut spec);
            spec.document("ClientSt0r API gateway")
        };
        println!("{document:#}");
        return ExitCode::SUCCESS;
    }
    let settings = match cli::load_settings(Service::Gateway) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match cli::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("api-gateway: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match parsed.command {
            Command::Serve => api_gateway::serve(settings).await,
            Command::Migrate => {
                let url = settings.database_url(Service::Gateway).expose().to_string();
                match clientstor_db::run_migrations(
                    &url,
                    api_gateway::SCHEMA,
                    &api_gateway::MIGRATIONS,
                )
                .await
                {
                    Ok(applied) => {
                        eprintln!(
                            "api-gateway: {} migration(s) applied to schema gateway",
                            applied.len()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(error) => {
                        eprintln!("api-gateway: {error}");
                        ExitCode::FAILURE
                    }
                }
            }
            Command::Admin(command) => {
                let context = match clientstor_runtime::Context::new(Service::Gateway, settings) {
                    Ok(context) => context,
                    Err(error) => {
                        eprintln!("api-gateway: {error}");
                        return ExitCode::FAILURE;
                    }
                };
                let gateway = match api_gateway::Gateway::new(context) {
                    Ok(gateway) => gateway,
                    Err(error) => {
                        eprintln!("api-gateway: {error}");
                        return ExitCode::from(2);
                    }
                };
                match admin::run(&gateway, command).await {
                    Ok(lines) => {
                        for line in lines {
                            println!("{line}");
                        }
                        ExitCode::SUCCESS
                    }
                    Err(error) => {
                        eprintln!("api-gateway admin: {error}");
                        ExitCode::FAILURE
                    }
                }
            }
            Command::Openapi => ExitCode::SUCCESS,
        }
    })
}
