#!/usr/bin/env bash
# The whole test suite: on SQLite, then on PostgreSQL, with a real Redis and a real arq worker.
# Starts what it needs; installs missing Debian packages (redis-server, chromium) with apt-get.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
DATABASES=${TEST_DATABASES:-"sqlite postgres"}

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
if [[ "${DATABASE_URL:-}" != postgres* ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
fc-list 2>/dev/null | grep -qi "garuda\|loma\|sarabun\|noto sans thai" || need+=(fonts-thai-tlwg)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need[*]} with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/tmp/contest-apt.log 2>&1 \
      || { echo "apt-get failed:"; tail -20 /tmp/contest-apt.log; }
  else
    echo "missing ${need[*]}: install them (sudo apt-get install ${need[*]})" >&2
  fi
fi

work=$(mktemp -d /tmp/contest-test.XXXXXX)
chmod 755 "$work"
trap 'scripts/services.sh stop "$work"; rm -rf "$work"' EXIT
eval "$(scripts/services.sh start "$work")" || { echo "could not start test services" >&2; exit 1; }
export REDIS_URL_TEST OIDC_ISSUER_TEST REQUIRE_SERVICES=1

status=0
for db in $DATABASES; do
  echo "=== test suite on $db ==="
  if [ "$db" = postgres ]; then
    DATABASE_URL="$DATABASE_URL_PG" "$BIN/python" -m pytest "$@" || status=1
  else
    env -u DATABASE_URL "$BIN/python" -m pytest "$@" || status=1
  fi
done
exit $status
