fn main() -> std::process::ExitCode {
    clientstor_runtime::cli::main(inventory::definition())
}
