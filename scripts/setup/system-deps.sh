#!/usr/bin/env bash
# `npm test` runs this first (the `pretest` script): the suite runs on real parts, so it makes sure they are
# here. Installs the Debian packages the tests use when one is missing (Chromium for the widget test, PyTorch
# and the onnx module for the export round-trip tests, redis-server for the tests that kill a private Redis),
# as root or through sudo, then checks that Redis and PostgreSQL answer. Never skips: it fails with a reason.
#   START_SERVICES=1  also start Redis / the PostgreSQL cluster when they are down (CI, as root: .ci/run)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

fail() { echo "setup: $*" >&2; exit 1; }

need=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then need+=(python3-torch libopenblas0); fi
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then need+=(python3-onnx); fi
command -v redis-server >/dev/null || need+=(redis-server)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n)
  else fail "missing system packages: ${need[*]}. Install them as root: apt-get install -y ${need[*]}"
  fi
  echo "setup: installing ${need[*]}"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q "${need[@]}"
fi

# host and port of a redis:// or postgres:// URL (defaults as in the tests)
host_of() { local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; echo "${rest%%:*}"; }
port_of() { local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; [[ $rest == *:* ]] && echo "${rest##*:}" || echo "$2"; }
reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
database_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
redis_host=$(host_of "$redis_url"); redis_port=$(port_of "$redis_url" 6379)
pg_host=$(host_of "$database_url"); pg_port=$(port_of "$database_url" 5432)

if [ "${START_SERVICES:-0}" = 1 ]; then
  if ! reachable "$redis_host" "$redis_port"; then
    echo "setup: starting redis on port $redis_port"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/test.log
  fi
  if ! reachable "$pg_host" "$pg_port"; then
    echo "setup: starting postgresql"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -n | tail -1)" main start
  fi
  for _ in $(seq 1 30); do reachable "$redis_host" "$redis_port" && reachable "$pg_host" "$pg_port" && break; sleep 1; done
fi

reachable "$redis_host" "$redis_port" || fail "Redis is not reachable at $redis_host:$redis_port (REDIS_URL=$redis_url). Start it (e.g. redis-server --daemonize yes) or set REDIS_URL."
reachable "$pg_host" "$pg_port" || fail "PostgreSQL is not reachable at $pg_host:$pg_port (DATABASE_URL=$database_url). Start it (e.g. pg_ctlcluster 15 main start) or set DATABASE_URL."
echo "setup: chromium, python3 (torch, onnx), redis-server present; Redis $redis_host:$redis_port and PostgreSQL $pg_host:$pg_port reachable"
