//! `clientstor-service <binary-name>`: runs one of the six services as its own process, the way
//! its own binary's `serve` does, configured from the environment. The fault and load tests start
//! it so that a service can be killed with SIGKILL and its memory read from `/proc`; it is built
//! with the tests, so they need no separate build of the six binaries.

use std::process::ExitCode;

use clientstor_config::Service;
use clientstor_runtime::cli;

fn main() -> ExitCode {
    cli::init_process();
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(service) = Service::ALL.into_iter().find(|s| s.binary() == name) else {
        eprintln!(
            "usage: clientstor-service <api-gateway|inventory|vault|monitor-worker|webhook-dispatcher|rmm-sync>"
        );
        return ExitCode::from(2);
    };
    let settings = match cli::load_settings(service) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match cli::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let def = match service {
            Service::Gateway => return api_gateway::serve(settings).await,
            Service::Inventory => inventory::definition(),
            Service::Vault => vault::definition(),
            Service::Monitor => monitor_worker::definition(),
            Service::Webhooks => webhook_dispatcher::definition(),
            Service::Rmm => rmm_sync::definition(),
        };
        cli::serve(&def, settings).await
    })
}
