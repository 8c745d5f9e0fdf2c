#!/usr/bin/env bash
# Acknowledging from the wallboard on a live daemon: runs the hidden [live] case of unit_wallboard
# (tests/unit/wallboard/ack_live_test.cpp): `callwatchd --demo` on free ports with its surge pulled
# to the start, the desktop client's code path acks the surge alert, a plain subscriber sees who
# acked in the next delta; and broadcast_live_test.cpp: a kiosk key's broadcast refused, a
# supervisor's reaching another board and withdrawn. Takes ~60 s. Argument 1: the bin dir holding
# callwatchd and unit_wallboard.
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
# Test executables live next to bin/ in tests/ (tests/CMakeLists.txt).
UNIT=""
for u in "$BIN/unit_wallboard" "$BIN/../tests/unit_wallboard"; do
  if [ -x "$u" ]; then UNIT=$u; break; fi
done
if [ -z "$UNIT" ]; then
  echo "no unit_wallboard next to $BIN (the wallboard is not built here): skipped"
  exit 0
fi
CALLWATCHD="$BIN/callwatchd" exec "$UNIT" "[live]" --reporter compact
