#!/usr/bin/env bash
# make up: infrastructure, release build, migrations, the six services, a demo key.
# Ends with the two lines URL=… and KEY=… on every run.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/infra.sh"
# shellcheck disable=SC1091
source "$RUN_DIR/env"
cargo_env
cd "$ROOT"
log "building release binaries"
cargo build --release --locked --bins -q
BIN="$ROOT/target/release"
SERVICES="api-gateway inventory vault monitor-worker webhook-dispatcher rmm-sync"

log "applying migrations"
for service in $SERVICES; do "$BIN/$service" migrate; done
[ "${1:-}" = "migrate-only" ] && exit 0

"$ROOT/scripts/down.sh" services-only
declare -A READY=([api-gateway]=9080 [inventory]=8081 [vault]=8082 [monitor-worker]=8083 [webhook-dispatcher]=8084 [rmm-sync]=8085)
for service in $SERVICES; do
  nohup "$BIN/$service" serve >>"$RUN_DIR/$service.log" 2>&1 &
  echo $! > "$RUN_DIR/$service.pid"
done
for service in $SERVICES; do
  wait_for 60 "$service (see .run/$service.log)" curl -fsS "http://127.0.0.1:${READY[$service]}/readyz"
done
log "all six services are ready"

if [ ! -s "$RUN_DIR/demo-key" ]; then
  log "creating the demo organization, owner and API key"
  admin() { "$BIN/api-gateway" admin "$@"; }
  admin org create --name "Demo MSP" --slug demo >/dev/null
  admin user create --email admin@demo.local --name "Demo admin" --platform-admin >/dev/null
  admin membership create --user admin@demo.local --org demo --role owner >/dev/null
  umask 077
  admin key create --user admin@demo.local --org demo --name demo --role owner --scope all | tail -n 1 > "$RUN_DIR/demo-key"
  chmod 600 "$RUN_DIR/demo-key"
fi
log "browse the API: open http://127.0.0.1:8080/api/ and paste the KEY below into its key form"
echo "URL=http://127.0.0.1:8080"
echo "KEY=$(cat "$RUN_DIR/demo-key")"
