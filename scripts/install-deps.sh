#!/usr/bin/env bash
# Installs the real components the tests and the demo talk to, from Debian's packages:
# InfluxDB 1.x (influxd), PostgreSQL (the registry's second backend), Prometheus Alertmanager,
# Chromium, openssl, and docker-compose (only to validate the compose files: no Docker engine runs here).
# With --bench, also scikit-learn and pandas for the benchmark's reference. Idempotent; needs root to install.
set -euo pipefail

need=()
if [ "${1:-}" = "--bench" ]; then
  /usr/bin/python3 -c 'import sklearn, pandas' >/dev/null 2>&1 || need+=(python3-sklearn python3-pandas)
fi
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
# The server binaries live in /usr/lib/postgresql/<major>/bin, not on PATH.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# Makes the self-signed certificate of the test that reaches influxd over https.
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: everything needed is present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${need[*]}; as root run: apt-get update && apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${need[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
# The packages start their own services; the tests start throwaway instances on loopback ports instead.
for svc in influxdb prometheus-alertmanager postgresql; do
  (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
done
