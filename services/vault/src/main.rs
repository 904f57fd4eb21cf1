use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clientstor_config::Service;
use clientstor_runtime::cli;

#[derive(Debug, Parser)]
#[command(version, about = "ClientSt0r vault")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service until SIGTERM or SIGINT.
    Serve,
    /// Apply pending migrations of the vault schema, then exit.
    Migrate,
    /// Print the vault's OpenAPI document.
    Openapi,
    /// New data-key version per organization, entries re-sealed under it online; data keys
    /// wrapped by CLIENTSTOR_VAULT__PREVIOUS_MASTER_KEY are re-wrapped by the current master key.
    RotateKeys,
}

fn main() -> ExitCode {
    cli::init_process();
    let def = vault::definition();
    let parsed = Cli::parse();
    if let Command::Openapi = parsed.command {
        return cli::openapi(&def);
    }
    let settings = match cli::load_settings(Service::Vault) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match cli::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vault: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match parsed.command {
            Command::Serve => cli::serve(&def, settings).await,
            Command::Migrate => cli::migrate(&def, &settings).await,
            Command::Openapi => ExitCode::SUCCESS,
            Command::RotateKeys => rotate(settings).await,
        }
    })
}

async fn rotate(settings: clientstor_config::Settings) -> ExitCode {
    let keyring = match vault::keyring::from_settings(&settings) {
        Ok(keyring) => keyring,
        Err(error) => {
            eprintln!("vault: {error}");
            return ExitCode::from(2);
        }
    };
    let context = match clientstor_runtime::Context::new(Service::Vault, settings) {
        Ok(context) => context,
        Err(error) => {
            eprintln!("vault: {error}");
            return ExitCode::FAILURE;
        }
    };
    match vault::rotate::rotate_keys(&context.pool, &keyring).await {
        Ok(rotation) => {
            eprintln!(
                "vault: {} data key(s) re-wrapped, {} organization(s) given a new key version, \
                 {} entr(ies) re-sealed",
                rotation.keys_rewrapped, rotation.organizations, rotation.entries_resealed
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("vault: rotate-keys: {error}");
            ExitCode::FAILURE
        }
    }
}
