fn main() -> std::process::ExitCode {
    clientstor_runtime::cli::main(monitor_worker::definition())
}
