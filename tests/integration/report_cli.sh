#!/usr/bin/env bash
# `callwatchd report` as a process: the 3-line queue_log of /work/shared/tools/check-contract with
# its pinned JSON keys and hand-worked values, the formats, flags and exit codes.
# $1 = the bin dir holding callwatchd.
set -u
BIN=${1:-build/bin}
D="$BIN/callwatchd"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok()  { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fail=1; }

# The contract check's input: call 1763799990.1 enters sales, Agent/1001 answers after 12 s
# (CONNECT holdtime), the caller hangs up after 88 s of talk.
printf '%s\n' \
  '1763800000|1763799990.1|sales|NONE|ENTERQUEUE||5551234|1' \
  '1763800012|1763799990.1|sales|Agent/1001|CONNECT|12|1763799990.2|3' \
  '1763800100|1763799990.1|sales|Agent/1001|COMPLETECALLER|12|88|1' > "$tmp/q.log"

if "$D" report --format queue_log --json "$tmp/q.log" > "$tmp/r.json" 2> "$tmp/r.err"; then
  # Hand-worked: offered 1 = answered 1, within T=20 (12 <= 20): 1; ASA 12; AHT 88 (talk only);
  # max wait 12; every SL formula 1/1 = 1. Agent/1001: answered 1, talk 88, no ring-no-answer,
  # no pause. 3 lines, 3 events, none rejected, no warning.
  python3 - "$tmp/r.json" <<'PY' && ok "contract queue_log: pinned keys and hand-worked values" || bad "contract queue_log: pinned keys and hand-worked values"
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r) == {"queues", "agents", "data_quality"}, sorted(r)
q = r["queues"]["sales"]
assert set(q) == {"offered","answered","abandoned","short_abandoned","timed_out","exited_empty",
                  "exited_key","answered_within_sl","abandoned_within_sl","asa_seconds",
                  "aht_seconds","max_wait_seconds","service_level",
                  "bounced","occupancy","utilization"}, sorted(q)
# Agent/1001 is known from the CONNECT on and on call until the last line: occupancy 1.
want = dict(offered=1, answered=1, abandoned=0, short_abandoned=0, timed_out=0, exited_empty=0,
            exited_key=0, answered_within_sl=1, abandoned_within_sl=0, asa_seconds=12,
            aht_seconds=88, max_wait_seconds=12, bounced=0, occupancy=1, utilization=1)
for k, v in want.items():
    assert q[k] == v, (k, q[k], v)
assert q["service_level"] == {"answered": 1, "offered": 1, "abandons_positive": 1,
                              "abandons_ignored": 1}, q["service_level"]
a = r["agents"]["Agent/1001"]
# AHT per agent = talk 88 over its 1 handled call; on call the whole time it is known: occupancy 1.
assert a == {"answered": 1, "ring_noanswer": 0, "talk_seconds": 88, "paused_seconds": 0,
             "handled": 1, "aht_seconds": 88, "occupancy": 1}, a
dq = r["data_quality"]
assert dq == {"events": 3, "rejected": 0, "warnings": []}, dq
PY
else
  bad "report --json runs (stderr: $(cat "$tmp/r.err"))"
fi

# --interval adds "intervals" with "start": the one 15-minute interval holding 1763800000..100
# starts at 1763799300 = 2025-11-22T08:15:00Z (1763800000 - 1763800000 % 900 = 1763799300).
if "$D" report --format queue_log --json --interval 15m "$tmp/q.log" > "$tmp/i.json"; then
  python3 - "$tmp/i.json" <<'PY' && ok "--interval 15m adds intervals with start" || bad "--interval 15m adds intervals with start"
import json, sys
r = json.load(open(sys.argv[1]))
iv = r["intervals"]
assert len(iv) == 1, iv
assert iv[0]["start"] == "2025-11-22T08:15:00Z", iv[0]["start"]
assert iv[0]["queue"] == "sales" and iv[0]["offered"] == 1 and iv[0]["asa_seconds"] == 12, iv[0]
PY
else
  bad "report --interval runs"
fi

# CSV: header + one row per queue.
if "$D" report --format queue_log --csv "$tmp/q.log" > "$tmp/r.csv"; then
  [ "$(wc -l < "$tmp/r.csv")" -eq 2 ] && head -1 "$tmp/r.csv" | grep -q '^queue,offered,answered,' \
    && sed -n 2p "$tmp/r.csv" | grep -q '^sales,1,1,0,0,0,0,0,1,0,12,88,12,1,1,1,1,0,1,1$' \
    && ok "--csv header and row" || bad "--csv header and row: $(cat "$tmp/r.csv")"
else
  bad "report --csv runs"
fi

# Text: the table and which parts AHT includes.
if "$D" report --format queue_log "$tmp/q.log" > "$tmp/r.txt"; then
  grep -q 'AHT includes: talk only' "$tmp/r.txt" && grep -q '^sales ' "$tmp/r.txt" \
    && ok "text output names the AHT parts" || bad "text output names the AHT parts"
else
  bad "report (text) runs"
fi

# --config: support's T is 30 s in the file; --sl-threshold 10 overrides every queue, so the
# 12 s answer is outside T: answered_within_sl 0, SL offered 0/1 = 0.
cat > "$tmp/c.toml" <<'TOML'
[[queue]]
name = "sales"
sl_threshold = 30
TOML
if "$D" report --format queue_log --json --config "$tmp/c.toml" "$tmp/q.log" > "$tmp/c1.json" \
   && "$D" report --format queue_log --json --config "$tmp/c.toml" --sl-threshold 10 "$tmp/q.log" > "$tmp/c2.json"; then
  python3 - "$tmp/c1.json" "$tmp/c2.json" <<'PY' && ok "--config and --sl-threshold" || bad "--config and --sl-threshold"
import json, sys
a = json.load(open(sys.argv[1]))["queues"]["sales"]
b = json.load(open(sys.argv[2]))["queues"]["sales"]
assert a["answered_within_sl"] == 1 and a["service_level"]["offered"] == 1, a
assert b["answered_within_sl"] == 0 and b["service_level"]["offered"] == 0, b
PY
else
  bad "report --config runs"
fi

# A bad config file is a clear error, exit 2.
printf 'no_such_key = 1\n' > "$tmp/bad.toml"
"$D" report --format queue_log --config "$tmp/bad.toml" "$tmp/q.log" > /dev/null 2> "$tmp/bad.err"
rc=$?
[ $rc -eq 2 ] && [ -s "$tmp/bad.err" ] && ok "bad config: exit 2 with a message" || bad "bad config: exit $rc"

# ami: a JSON-array capture that does not parse is exit 2 with a message naming the file
# (captures themselves: tests/integration/feeds_report_cli.sh); an unreadable file: exit 2.
printf '[{"Event": "Hangup"' > "$tmp/broken.json"
"$D" report --format ami "$tmp/broken.json" > /dev/null 2> "$tmp/ami.err"
rc=$?
[ $rc -eq 2 ] && grep -q 'broken.json' "$tmp/ami.err" && ok "--format ami, broken capture: exit 2" \
  || bad "--format ami, broken capture: exit $rc, $(cat "$tmp/ami.err")"
"$D" report --format queue_log "$tmp/missing.log" > /dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "missing file: exit 2" || bad "missing file: exit $rc"

# Bad lines never fail the command: a truncated line is counted as rejected.
printf '1763800000|1763799990.1|sal\n' >> "$tmp/q.log"
if "$D" report --format queue_log --json "$tmp/q.log" > "$tmp/b.json"; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data_quality"]; assert d["rejected"]==1 and d["events"]==3 and any(w.startswith("line 4: rejected") for w in d["warnings"]), d' "$tmp/b.json" \
    && ok "a truncated line is rejected, not fatal" || bad "a truncated line is rejected, not fatal"
else
  bad "report with a bad line exits 0"
fi

exit $fail
