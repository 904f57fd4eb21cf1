#!/usr/bin/env bash
# Finds or installs and starts PostgreSQL, RabbitMQ and Redis (Debian packages, no systemd),
# creates the database role and database, and generates secrets once into .run/secrets.env.
# Services already running are used as they are and never stopped by this project.
source "$(dirname "$0")/lib.sh"

SECRETS="$RUN_DIR/secrets.env"
STARTED="$RUN_DIR/started-services"

install_missing() {
  local missing=()
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v mold >/dev/null 2>&1 || missing+=(mold)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # Renders deploy/k8s for the manifest tests (`kubectl kustomize`).
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (Debian packages)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

secrets() {
  if [ ! -f "$SECRETS" ]; then
    log "generating secrets into .run/secrets.env"
    umask 077
    {
      echo "CLIENTSTOR_DB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
      echo "CLIENTSTOR_GATEWAY__INTERNAL_SECRET=$(head -c 32 /dev/urandom | base64)"
      echo "CLIENTSTOR_GATEWAY__KEY_PEPPER=$(head -c 32 /dev/urandom | base64)"
      echo "CLIENTSTOR_VAULT__MASTER_KEY=$(head -c 32 /dev/urandom | base64)"
    } > "$SECRETS"
    chmod 600 "$SECRETS"
  fi
  # Keys added after a machine's secrets were first generated.
  if ! grep -q '^CLIENTSTOR_RMM__MASTER_KEY=' "$SECRETS"; then
    echo "CLIENTSTOR_RMM__MASTER_KEY=$(head -c 32 /dev/urandom | base64)" >> "$SECRETS"
  fi
  # shellcheck disable=SC1090
  source "$SECRETS"
}

start_postgres() {
  if port_open 5432; then return; fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  # A package installed next to another server may have put its cluster on another port.
  as_root pg_conftool "$version" main set port 5432
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  echo "postgres $version" >> "$STARTED"
  wait_for 60 PostgreSQL port_open 5432
}

database() {
  local psql=(runuser -u postgres -- psql -p 5432 -v ON_ERROR_STOP=1 -qtA)
  [ "$(id -u)" -eq 0 ] || psql=(sudo -u postgres psql -p 5432 -v ON_ERROR_STOP=1 -qtA)
  local role
  role=$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'clientstor'") || die "cannot reach PostgreSQL on port 5432 as user postgres"
  if [ "$role" != 1 ]; then
    log "creating database role clientstor"
    "${psql[@]}" -c "CREATE ROLE clientstor LOGIN CREATEDB PASSWORD '$CLIENTSTOR_DB_PASSWORD'"
  fi
  # The tests make per-service roles (deploy/sql/service-roles.sql) to prove their isolation.
  "${psql[@]}" -c "ALTER ROLE clientstor CREATEROLE"
  local db
  db=$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'clientstor'") || die "cannot query PostgreSQL"
  if [ "$db" != 1 ]; then
    log "creating database clientstor"
    "${psql[@]}" -c "CREATE DATABASE clientstor OWNER clientstor"
  fi
}

start_rabbitmq() {
  if port_open 5672; then return; fi
  log "starting RabbitMQ"
  as_root rabbitmq-server -detached
  echo "rabbitmq" >> "$STARTED"
  wait_for 120 RabbitMQ port_open 5672
  wait_for 120 RabbitMQ rabbitmq-diagnostics -q check_port_connectivity
}

start_redis() {
  if port_open 6379; then return; fi
  log "starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  echo "redis" >> "$STARTED"
  wait_for 30 Redis port_open 6379
}

install_missing
secrets
start_postgres
database
start_rabbitmq
start_redis

# The environment every service and test reads; exported variables of the caller win.
ENV_FILE="$RUN_DIR/env"
{
  echo "export CLIENTSTOR_DATABASE__URL=\${CLIENTSTOR_DATABASE__URL:-postgres://clientstor:$CLIENTSTOR_DB_PASSWORD@127.0.0.1:5432/clientstor}"
  echo "export CLIENTSTOR_AMQP__URL=\${CLIENTSTOR_AMQP__URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
  echo "export CLIENTSTOR_REDIS__URL=\${CLIENTSTOR_REDIS__URL:-redis://127.0.0.1:6379}"
  echo "export CLIENTSTOR_GATEWAY__INTERNAL_SECRET=\${CLIENTSTOR_GATEWAY__INTERNAL_SECRET:-$CLIENTSTOR_GATEWAY__INTERNAL_SECRET}"
  echo "export CLIENTSTOR_GATEWAY__KEY_PEPPER=\${CLIENTSTOR_GATEWAY__KEY_PEPPER:-$CLIENTSTOR_GATEWAY__KEY_PEPPER}"
  echo "export CLIENTSTOR_VAULT__MASTER_KEY=\${CLIENTSTOR_VAULT__MASTER_KEY:-$CLIENTSTOR_VAULT__MASTER_KEY}"
  echo "export CLIENTSTOR_RMM__MASTER_KEY=\${CLIENTSTOR_RMM__MASTER_KEY:-$CLIENTSTOR_RMM__MASTER_KEY}"
} > "$ENV_FILE"
chmod 600 "$ENV_FILE"
log "PostgreSQL, RabbitMQ and Redis are up"
