#!/usr/bin/env bash
# Client-library checks: runs each client script against a Redis-compatible server on
# 127.0.0.1:PORT and prints one pass/fail line per script; exits non-zero on any failure.
#
#   redis-compat-tests/clients/run.sh --port P [--verbose]
#
# Installs what is missing first (non-interactive, CI-safe): a venv in .venv (redis-py 5.x
# + hiredis), node/node_modules from node/package-lock.json (ioredis, node-redis v4), and
# the Rust checker built from rust/Cargo.lock. The scripts never flush the server: each
# uses its own key prefix and deletes its keys.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port=""
verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:-}"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    -v|--verbose) verbose=1; shift ;;
    *) echo "usage: $0 --port P [--verbose]" >&2; exit 2 ;;
  esac
done
case "$port" in
  ''|*[!0-9]*) echo "usage: $0 --port P [--verbose]" >&2; exit 2 ;;
esac

log="$here/.install.log"
: > "$log"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 npm_config_audit=false npm_config_fund=false \
  npm_config_update_notifier=false

install_step() { # name command...
  local name="$1"; shift
  if ! "$@" >>"$log" 2>&1; then
    echo "clients: installing $name failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 2
  fi
}

py_install() {
  if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv" || return 1
  fi
  "$here/.venv/bin/python" -m pip install -q -r "$here/python/requirements.txt"
}
if ! "$here/.venv/bin/python" -c 'import redis, hiredis; assert redis.__version__.startswith("5.")' >/dev/null 2>&1; then
  install_step "redis-py (pip)" py_install
fi

# npm ci only when the installed tree no longer matches the lock file.
if ! cmp -s "$here/node/package-lock.json" "$here/node/node_modules/.package-lock.json.installed" 2>/dev/null; then
  node_install() {
    (cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error) &&
      cp "$here/node/package-lock.json" "$here/node/node_modules/.package-lock.json.installed"
  }
  install_step "ioredis/node-redis (npm ci)" node_install
fi

install_step "redis crate checker (cargo build)" \
  cargo build --quiet --locked --manifest-path "$here/rust/Cargo.toml"

# Fail fast and clearly if nothing listens on the port.
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "clients: nothing accepts connections on 127.0.0.1:$port" >&2
  exit 2
fi

passed=0
failed=0
failed_names=()
run_check() { # name command...
  local name="$1"; shift
  local out start end rc
  start=$(date +%s.%N)
  out="$(timeout 120 "$@" 2>&1)"
  rc=$?
  end=$(date +%s.%N)
  local secs
  secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    printf 'PASS %-28s (%ss)\n' "$name" "$secs"
    [ $verbose -eq 1 ] && printf '%s\n' "$out" | sed 's/^/     /'
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    [ $rc -eq 124 ] && out="$out"$'\n'"(timed out after 120s)"
    printf 'FAIL %-28s (%ss, exit %s)\n' "$name" "$secs" "$rc"
    printf '%s\n' "$out" | sed 's/^/     /'
  fi
}

py="$here/.venv/bin/python"
run_check "redis-py + hiredis"      "$py" "$here/python/check.py" --port "$port" --parser hiredis
run_check "redis-py (pure Python)"  "$py" "$here/python/check.py" --port "$port" --parser python
run_check "redis crate (Rust, sync)" "$here/rust/target/debug/check" --port "$port"
run_check "ioredis"                 node "$here/node/ioredis.js" --port "$port"
run_check "node-redis v4"           node "$here/node/node-redis.js" --port "$port"

echo "clients: $passed passed, $failed failed"
if [ $failed -gt 0 ]; then
  echo "clients: failed: ${failed_names[*]}" >&2
  exit 1
fi
