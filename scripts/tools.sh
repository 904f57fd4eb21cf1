#!/usr/bin/env bash
# The tools the browser and API-description tests drive, installed when absent: Debian's
# Chromium, Node.js with playwright-core (tests/browser), and openapi-spec-validator and
# schemathesis in .run/venv. Prints the settings the tests read.
source "$(dirname "$0")/lib.sh"

apt_install() {
  log "installing $*"
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v chromium >/dev/null 2>&1 || apt_install chromium
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm

# playwright-core only drives the Chromium above; it downloads no browser.
browser_dir="$ROOT/tests/browser"
stamp="$browser_dir/node_modules/.lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$browser_dir/package-lock.json" "$stamp"; then
  log "installing the browser test driver (npm ci)"
  (cd "$browser_dir" && npm ci --no-audit --no-fund --silent)
  cp "$browser_dir/package-lock.json" "$stamp"
fi

venv="$RUN_DIR/venv"
if [ ! -x "$venv/bin/openapi-spec-validator" ] || [ ! -x "$venv/bin/schemathesis" ]; then
  log "installing openapi-spec-validator and schemathesis into .run/venv"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator==0.7.1" "schemathesis==4.32.5"
fi

cat > "$RUN_DIR/tools.env" <<EOF
export CLIENTSTOR_TEST_CHROMIUM=$(command -v chromium)
export CLIENTSTOR_TEST_NODE=$(command -v node)
export CLIENTSTOR_TEST_OPENAPI_VALIDATOR=$venv/bin/openapi-spec-validator
EOF
