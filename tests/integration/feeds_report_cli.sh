#!/usr/bin/env bash
# `callwatchd report --format ami|esl` on real and hand-written captures, through the binary.
# Expected numbers are read off the captures by hand (see tests/unit/daemon/feeds/ami/ami_translator_test.cpp
# and tests/data/story/make_story.py).
set -u
BIN=${1:?bin dir}
D="$BIN/callwatchd"
S=tests/data
fail=0
ok() { echo "ok    $*"; }
bad() { echo "FAIL  $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cacofonisk: one QueueCallerAbandon, HoldTime 11, no QUEUESTATUS -> 1 abandoned, inferred.
if "$D" report --format ami --json "$S/samples/cacofonisk/queue_a_cancel.json" > "$tmp/a.json"; then
  python3 - "$tmp/a.json" <<'PY' && ok "ami: cacofonisk caller cancel = 1 abandoned, wait 11" || bad "ami: cacofonisk caller cancel"
import json, sys
d = json.load(open(sys.argv[1]))
q = d["queues"]["670100-540100"]
assert q["offered"] == 1 and q["abandoned"] == 1 and q["max_wait_seconds"] == 11, q
assert d["data_quality"]["rejected"] == 0, d["data_quality"]
PY
else
  bad "ami report exits 0"
fi

# Every panoramisk capture in one stream (several connections one after the other): no queue
# outcome anywhere, nothing rejected; the QueueStatus answer names the agents.
if "$D" report --format ami --json "$S"/samples/panoramisk/*.ami > "$tmp/p.json"; then
  python3 - "$tmp/p.json" <<'PY' && ok "ami: panoramisk captures replay with no outcome and no reject" || bad "ami: panoramisk"
import json, sys
d = json.load(open(sys.argv[1]))
assert all(q["offered"] == 0 for q in d["queues"].values()), d["queues"]
assert "Agent/220" in d["agents"] and "Agent/402" in d["agents"], d["agents"].keys()
assert d["data_quality"]["rejected"] == 0
PY
else
  bad "ami report of panoramisk exits 0"
fi

# The story told by ESL: offered 4, answered 2, abandoned 1 (short), timed out 1.
if "$D" report --format esl --json "$S/story/story.esl" > "$tmp/e.json"; then
  python3 - "$tmp/e.json" <<'PY' && ok "esl: story KPIs" || bad "esl: story KPIs"
import json, sys
q = json.load(open(sys.argv[1]))["queues"]["sales"]
assert (q["offered"], q["answered"], q["abandoned"], q["short_abandoned"], q["timed_out"]) == (4, 2, 1, 1, 1), q
assert q["asa_seconds"] == 30 and q["aht_seconds"] == 90, q
PY
else
  bad "esl report exits 0"
fi
exit $fail
