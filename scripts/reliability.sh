#!/usr/bin/env bash
# The reliability suite's full profile: bad input (with more generated cases than `make test`
# runs), tenant isolation, outbound abuse, a webhook receiver down for a minute, broker, database
# and service crashes held for 20 s each, and five minutes of mixed load. Output (with each
# test's summary line) goes to .run/reliability.log; docs/RELIABILITY.md records the figures and
# the commands.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/infra.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/env"
"$ROOT/scripts/tools.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/tools.env"
cargo_env
cd "$ROOT"
# The outage and load tests start the services' own binaries as processes.
cargo build --bins --locked
cargo build --bins --locked --release
export RELIABILITY_EXAMPLES="${RELIABILITY_EXAMPLES:-50}"
export RELIABILITY_OUTAGE_SECONDS="${RELIABILITY_OUTAGE_SECONDS:-60}"
export RELIABILITY_FAULT_SECONDS="${RELIABILITY_FAULT_SECONDS:-20}"
export RELIABILITY_LOAD_SECONDS="${RELIABILITY_LOAD_SECONDS:-300}"
cargo nextest run -p clientstor-e2e -p clientstor-outbound --locked --profile reliability --no-capture \
  --test bad_input --test tenant_matrix --test outbound --test netns --test faults --test outages "$@" \
  2>&1 | tee "$RUN_DIR/reliability.log"
# The load run comes alone and from a release build: its rate and latency are the system's,
# not those of a debug build sharing two cores with other tests.
cargo nextest run -p clientstor-e2e --locked --cargo-profile release --profile reliability --no-capture \
  --test load "$@" 2>&1 | tee -a "$RUN_DIR/reliability.log"
