#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 (port given, or a free one) with its own data
# directory and a database `isoscope`, until Ctrl-C; prints the ISOSCOPE_REGISTRY_URL to use.
# Installs Debian's postgresql when missing and run as root; as root the server runs as `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f backend/dist/devtools/postgres-main.js ] || npm run build -w backend >/dev/null
exec node backend/dist/devtools/postgres-main.js "$@"
