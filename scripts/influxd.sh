#!/usr/bin/env bash
# Starts a throwaway InfluxDB 1.x on 127.0.0.1 (port given, or a free one) with its own data
# directory, until Ctrl-C. Installs Debian's influxdb when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f backend/dist/devtools/influxd-main.js ] || npm run build -w backend >/dev/null
exec node backend/dist/devtools/influxd-main.js "$@"
