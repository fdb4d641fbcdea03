#!/bin/sh
# Cycles through the kinds of trouble operators meet, with quiet stretches between them, forever.
# LOADGEN_QUIET and LOADGEN_BURST (seconds) set the rhythm.
set -eu
quiet=${LOADGEN_QUIET:-600}
burst=${LOADGEN_BURST:-180}
while true; do
  echo "loadgen: quiet for ${quiet}s"; sleep "$quiet"
  echo "loadgen: CPU runaway for ${burst}s"; stress-ng --cpu 0 --cpu-load 95 --timeout "${burst}s" --quiet || true
  echo "loadgen: quiet for ${quiet}s"; sleep "$quiet"
  echo "loadgen: memory pressure for ${burst}s"; stress-ng --vm 2 --vm-bytes 60% --vm-keep --timeout "${burst}s" --quiet || true
  echo "loadgen: quiet for ${quiet}s"; sleep "$quiet"
  echo "loadgen: disk writes for ${burst}s"; stress-ng --hdd 2 --hdd-bytes 1G --temp-path /tmp --timeout "${burst}s" --quiet || true
  echo "loadgen: quiet for ${quiet}s"; sleep "$quiet"
  echo "loadgen: network flood for ${burst}s"; stress-ng --sock 4 --udp 4 --timeout "${burst}s" --quiet || true
done
