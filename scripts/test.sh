#!/usr/bin/env bash
# The whole suite against real PostgreSQL, RabbitMQ and Redis (started when absent).
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/infra.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/env"
"$ROOT/scripts/tools.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/tools.env"
cargo_env
cd "$ROOT"
# Test databases left behind by an interrupted run.
runuser -u postgres -- psql -qtA -c "SELECT datname FROM pg_database WHERE datname LIKE 'cstest_%'" 2>/dev/null \
  | while read -r db; do [ -n "$db" ] && runuser -u postgres -- psql -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
# Roles of the database-role isolation test, left behind the same way.
runuser -u postgres -- psql -qtA -c "SELECT rolname FROM pg_roles WHERE rolname LIKE 'cstest\_%'" 2>/dev/null \
  | while read -r role; do [ -n "$role" ] && runuser -u postgres -- psql -q -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true; done
# The outage and load tests start the services' own binaries as processes.
cargo build --bins --locked
cargo nextest run --workspace --locked --profile ci "$@"
