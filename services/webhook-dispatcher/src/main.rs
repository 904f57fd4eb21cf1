fn main() -> std::process::ExitCode {
    clientstor_runtime::cli::main(webhook_dispatcher::definition())
}
