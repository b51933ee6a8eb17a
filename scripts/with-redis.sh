#!/usr/bin/env bash
# Runs a command with a Redis for the Redis store's tests, and exports its REDIS_URL (scripts/test.mjs,
# `npm test`, runs itself under it). The tests fail rather than skip in CI when none answers, and
# outside CI skip saying why (server/test/redisForTests.ts):
# - REDIS_URL set: that one, as it is (the tests say so if it does not answer);
# - else the one at 127.0.0.1:6379 if it answers PING;
# - else Debian's redis-server (installed with apt-get when missing, as root, as scripts/test.mjs does
#   Chromium), started on a free port, keeping nothing on disk, for this command alone, and stopped
#   after it.
# REDIS_PORT_PROBE: the port probed instead of 6379 (an unused one tries the last branch on a machine
# that has a Redis).
set -euo pipefail

log() { echo "==> $*"; }

# 0 when the Redis at $1:$2 answers PING within 2 s (bash's /dev/tcp: no redis-cli needed).
answers() {
  local reply=''
  exec 3<>"/dev/tcp/$1/$2" || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [[ $reply == +PONG* ]]
}

ensure_redis_server() {
  command -v redis-server >/dev/null && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "transport-lab: no Redis answers and redis-server is missing; install it (Debian: sudo apt-get install -y redis-server) or set REDIS_URL." >&2
    # In CI that is the end; elsewhere the tests run, and the Redis ones skip saying why.
    [[ -n ${CI:-} ]] && exit 1
    return 1
  fi
  log 'redis-server is missing: apt-get install -y redis-server'
  DEBIAN_FRONTEND=noninteractive apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server
}

redis_pid=''
redis_dir=''
stop_redis() {
  [[ -n $redis_pid ]] || return 0
  log "stopping the redis-server started for the tests (pid $redis_pid)"
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$redis_dir"
}

if [[ -n ${REDIS_URL:-} ]]; then
  log "Redis for the tests: REDIS_URL (as set)"
else
  probe_port=${REDIS_PORT_PROBE:-6379}
  if answers 127.0.0.1 "$probe_port" 2>/dev/null; then
    export REDIS_URL="redis://127.0.0.1:$probe_port"
    log "Redis for the tests: $REDIS_URL (already running)"
  else
    if ! ensure_redis_server; then
      set +e
      "$@"
      exit $?
    fi
    port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });")
    redis_dir=$(mktemp -d)
    trap stop_redis EXIT
    # Stopped by a signal too: exit, so that the EXIT trap runs.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" \
      >"$redis_dir/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 50); do
      answers 127.0.0.1 "$port" 2>/dev/null && break
      if ! kill -0 "$redis_pid" 2>/dev/null; then
        echo "transport-lab: redis-server did not start:" >&2
        cat "$redis_dir/redis.log" >&2
        exit 1
      fi
      sleep 0.1
    done
    answers 127.0.0.1 "$port" 2>/dev/null || { echo "transport-lab: redis-server did not answer on port $port within 5 s" >&2; exit 1; }
    export REDIS_URL="redis://127.0.0.1:$port"
    log "Redis for the tests: none answered on port $probe_port; started redis-server at $REDIS_URL (pid $redis_pid)"
  fi
fi

set +e
"$@"
code=$?
set -e
exit "$code"
