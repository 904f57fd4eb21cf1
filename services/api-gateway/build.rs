fn main() {
    // New migration directories must trigger a rebuild of the embedded set.
    println!("cargo:rerun-if-changed=../../migrations/gateway");
}
