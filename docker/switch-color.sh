#!/usr/bin/env bash
# Switches the blue-green proxy to a colour of the Isoscope service, or back (rollback is the same call).
#   docker/switch-color.sh green|blue
# Starts the target colour, waits until its /readyz answers 200, points the proxy at it, reloads nginx
# (no dropped connections), then stops the other colour so the registry has one writer again.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-}
case "$target" in
  blue) service=isoscope; other=isoscope-green ;;
  green) service=isoscope-green; other=isoscope ;;
  *) echo "usage: docker/switch-color.sh blue|green" >&2; exit 2 ;;
esac
compose=(docker compose -f docker-compose.yml -f docker/compose.blue-green.yml --profile green)

echo "switch: starting $service"
"${compose[@]}" up -d --no-deps "$service"
for i in $(seq 1 60); do
  if "${compose[@]}" exec -T "$service" node -e "fetch('http://127.0.0.1:8787/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    ready=1; break
  fi
  sleep 2
done
if [ -z "${ready:-}" ]; then
  echo "switch: $service did not become ready in 120 s; the proxy still points at $other" >&2
  exit 1
fi

previous=$(cat docker/nginx/active.conf)
echo "server $service:8787;" > docker/nginx/active.conf
if ! "${compose[@]}" exec -T isoscope-proxy nginx -s reload; then
  echo "$previous" > docker/nginx/active.conf
  echo "switch: nginx refused the reload; restored '$previous'" >&2
  exit 1
fi
echo "switch: proxy now sends traffic to $service; stopping $other"
"${compose[@]}" stop "$other"
echo "switch: done. Roll back with: docker/switch-color.sh $([ "$target" = blue ] && echo green || echo blue)"
