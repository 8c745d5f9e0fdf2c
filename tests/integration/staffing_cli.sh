#!/usr/bin/env bash
# callwatchd staffing: the what-if command against the Erlang C example worked by hand in
# tests/unit/metrics/erlang_test.cpp (200 calls/h x 180 s = 10 Erlangs; 14 agents for 80 % in 20 s).
set -euo pipefail
BIN=${1:?bin dir}
out=$("$BIN/callwatchd" staffing --calls-per-hour 200 --aht 180 --sl-threshold 20 --target 0.80 --json)
python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["model"] == "erlang_c", r
assert r["agents_required"] == 14, r
assert abs(r["offered_load_erlangs"] - 10.0) < 1e-9, r
rows = {row["agents"]: row for row in r["table"]}
assert abs(rows[13]["service_level"] - 0.7956) < 0.0005, rows[13]
assert abs(rows[14]["service_level"] - 0.8884) < 0.0005, rows[14]
assert abs(rows[14]["p_wait"] - 0.1741) < 0.0005, rows[14]
assert abs(rows[14]["occupancy"] - 10 / 14) < 1e-6, rows[14]
for k in ["agents", "service_level", "asa_seconds", "p_wait", "occupancy"]:
    assert k in rows[14], k
PY
# Erlang A is named when used and needs no more agents than Erlang C.
a=$("$BIN/callwatchd" staffing --calls-per-hour 200 --aht 180 --patience 60 --json)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["model"]=="erlang_a" and r["agents_required"]<=14, r' "$a"
# Bad input is a clear error with exit code 2.
for args in "--calls-per-hour 0 --aht 180" "--calls-per-hour 100 --aht -5" "--calls-per-hour 100 --aht 180 --target 1.5"; do
  set +e; "$BIN/callwatchd" staffing $args >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || { echo "staffing $args: exit $rc, expected 2"; exit 1; }
done
echo "staffing ok"
