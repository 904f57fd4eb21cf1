#!/usr/bin/env bash
# make down: stops the services `make up` started and the infrastructure it started itself.
# Servers that were already running before `make up` are left alone.
source "$(dirname "$0")/lib.sh"
for pidfile in "$RUN_DIR"/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
[ "${1:-}" = "services-only" ] && exit 0
STARTED="$RUN_DIR/started-services"
if [ -f "$STARTED" ]; then
  while read -r name version; do
    case "$name" in
      postgres) as_root pg_ctlcluster --skip-systemctl-redirect "$version" main stop || true ;;
      rabbitmq) as_root rabbitmqctl stop >/dev/null 2>&1 || true; as_root epmd -kill >/dev/null 2>&1 || true ;;
      redis) redis-cli -p 6379 shutdown nosave >/dev/null 2>&1 || true ;;
    esac
  done < "$STARTED"
  rm -f "$STARTED"
fi
log "stopped"
