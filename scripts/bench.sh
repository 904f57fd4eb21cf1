#!/usr/bin/env bash
# make bench: the benchmark programs, release build, results into docs/BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/infra.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/env"
cargo_env
cd "$ROOT"
# The monitor benchmark runs the worker binary as its own process.
cargo build --release --locked -q -p monitor-worker
cargo run --release --locked -q -p clientstor-bench
