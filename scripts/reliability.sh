#!/usr/bin/env bash
# The reliability suite's full profile: bad input (with more generated cases than `make test`
# runs), tenant isolation, outbound abuse and a webhook receiver down for a minute. Output (with each test's summary line) goes to
# .run/reliability.log; docs/RELIABILITY.md records the figures and the commands.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/infra.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/env"
"$ROOT/scripts/tools.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/tools.env"
cargo_env
cd "$ROOT"
export RELIABILITY_EXAMPLES="${RELIABILITY_EXAMPLES:-50}"
export RELIABILITY_OUTAGE_SECONDS="${RELIABILITY_OUTAGE_SECONDS:-60}"
cargo nextest run -p clientstor-e2e -p clientstor-outbound --locked --profile ci --no-capture \
  --test bad_input --test tenant_matrix --test outbound --test netns --test faults "$@" 2>&1 | tee "$RUN_DIR/reliability.log"
