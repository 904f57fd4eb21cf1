//! Compiles `proto/` with protox (pure Rust), so builds need no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [root.join("clientstor/events/v1/envelope.proto")];
    println!("cargo:rerun-if-changed={}", root.display());
    let descriptors = protox::compile(files, [&root])?;
    prost_build::Config::new()
        // Payload messages render straight into webhook `data`.
        .type_attribute(".clientstor.events.v1", "#[derive(serde::Serialize)]")
        .compile_fds(descriptors)?;
    Ok(())
}
