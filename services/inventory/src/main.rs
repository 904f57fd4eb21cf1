use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clientstor_config::Service;
use clientstor_runtime::cli;

#[derive(Debug, Parser)]
#[command(version, about = "ClientSt0r inventory")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service until SIGTERM or SIGINT.
    Serve,
    /// Apply pending migrations of the inventory schema, then exit.
    Migrate,
    /// Print the inventory's OpenAPI document.
    Openapi,
    /// Import CVE records from files (NVD CVE API 2.0 JSON), for installations without access
    /// to the NVD.
    ImportCves {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    cli::init_process();
    let def = inventory::definition();
    let parsed = Cli::parse();
    if let Command::Openapi = parsed.command {
        return cli::openapi(&def);
    }
    let settings = match cli::load_settings(Service::Inventory) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match cli::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("inventory: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match parsed.command {
            Command::Serve => cli::serve(&def, settings).await,
            Command::Migrate => cli::migrate(&def, &settings).await,
            Command::Openapi => ExitCode::SUCCESS,
            Command::ImportCves { files } => inventory::cli::import_cves(settings, &files).await,
        }
    })
}
