#!/usr/bin/env bash
# Start throw-away PostgreSQL and Redis servers for the test suite, on loopback only.
#   scripts/services.sh start DIR   -> prints export lines (DATABASE_URL_PG, REDIS_URL_TEST, OIDC_ISSUER_TEST)
#   scripts/services.sh stop DIR
# A DATABASE_URL (postgres) or REDIS_URL already given is used as it is; WITHOUT_OIDC=1 skips the
# OpenID provider. The cluster skips its disk flushes (fsync=off: a test's database is thrown away);
# PG_DURABLE=1 keeps PostgreSQL's own durable defaults, as production runs them, for the benchmarks.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?work dir}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_PORT=${PG_PORT:-55432}; REDIS_PORT=${REDIS_PORT:-56379}; OIDC_PORT=${OIDC_PORT:-56390}

as_pg() {  # initdb and postgres refuse to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  if [[ "${DATABASE_URL:-}" != postgres* ]]; then
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL binaries not found (set PG_BIN)" >&2; exit 1; }
    pgdir="$dir/pg"; rm -rf "$pgdir"; mkdir -p "$pgdir"
    [ "$(id -u)" = 0 ] && chown postgres "$pgdir"
    as_pg "$PG_BIN/initdb" -D "$pgdir/data" -U contest --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/pg-init.log" 2>&1
    flushes="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && flushes=""
    as_pg "$PG_BIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w start \
      -o "-p $PG_PORT -k $pgdir -c listen_addresses=127.0.0.1 $flushes -c max_connections=300" >/dev/null
    as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U contest contest_test
    echo "export DATABASE_URL_PG=postgres://contest@127.0.0.1:$PG_PORT/contest_test"
  else
    echo "export DATABASE_URL_PG=$DATABASE_URL"
  fi
  if [ -z "${REDIS_URL:-}" ]; then
    command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 1; }
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "export REDIS_URL_TEST=redis://127.0.0.1:$REDIS_PORT/0"
  else
    echo "export REDIS_URL_TEST=$REDIS_URL"
  fi
  # A certified OpenID provider (panva's oidc-provider) for the DGA Digital ID tests.
  oidc="$(cd "$(dirname "$0")" && pwd)/oidc-provider"
  [ -n "${WITHOUT_OIDC:-}" ] && exit 0
  if ! command -v node >/dev/null && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; } \
      >"$dir/node-install.log" 2>&1 || true
  fi
  if command -v node >/dev/null; then
    [ -d "$oidc/node_modules/oidc-provider" ] \
      || (cd "$oidc" && npm ci --no-audit --no-fund --silent >"$dir/oidc-npm.log" 2>&1) \
      || { echo "npm ci for the OpenID provider failed (see $dir/oidc-npm.log)" >&2; exit 1; }
    PORT="$OIDC_PORT" nohup node "$oidc/server.mjs" >"$dir/oidc.log" 2>&1 &
    echo $! >"$dir/oidc.pid"
    for _ in $(seq 150); do
      python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$OIDC_PORT/.well-known/openid-configuration')" \
        >/dev/null 2>&1 && { echo "export OIDC_ISSUER_TEST=http://127.0.0.1:$OIDC_PORT"; break; }
      sleep 0.1
    done
    if ! kill -0 "$(cat "$dir/oidc.pid")" 2>/dev/null; then
      echo "the OpenID provider did not start: $(tail -3 "$dir/oidc.log")" >&2
    fi
  fi
  ;;
stop)
  if [ -d "$dir/pg/data" ]; then as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  if [ -f "$dir/oidc.pid" ]; then kill "$(cat "$dir/oidc.pid")" 2>/dev/null || true; fi
  ;;
esac
