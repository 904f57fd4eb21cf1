#!/usr/bin/env bash
# Formatting and clippy with warnings denied.
source "$(dirname "$0")/lib.sh"
cargo_env
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
