fn main() -> std::process::ExitCode {
    clientstor_runtime::cli::main(rmm_sync::definition())
}
