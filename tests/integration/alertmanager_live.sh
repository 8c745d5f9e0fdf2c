#!/usr/bin/env bash
# Alerts reach people, with real servers: callwatchd --demo (surge at the start), a Prometheus with
# the shipped rules (every `for:` cut to 5 s, names kept), sending to two real Alertmanagers run
# from the shipped config/prometheus/alertmanager.yml with its receivers pointed at a webhook in
# this test. The two differ only in the time interval `center-closed`: "open" has one that never
# matches (a center open now), "closed" one that covers all of today (a center closed now).
#  1. open: the daemon's own critical board alerts (CallwatchBoardAlertFiring) arrive at
#     floor-critical with their labels (alert, severity, queue, source); the VIP queue's at
#     vip-desk, and no VIP alert at floor-critical;
#  2. the daemon is killed: CallwatchDaemonDown reaches `operations` on both, closed included;
#  3. closed: that Alertmanager holds the same floor alerts while they fire (/api/v2/alerts), and
#     nothing of them reached floor-critical, vip-desk or floor.
# Takes ~70 s. Argument 1: the bin dir holding callwatchd.
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
AM=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
for b in "$PROMETHEUS" "$AM"; do
  [ -x "$b" ] || { echo "$b not installed (Debian: prometheus, prometheus-alertmanager)"; exit 1; }
done
T0=$(date +%s)
WORK=$(mktemp -d /tmp/callwatch-am-XXXXXX)
pids=()
DAEMON_PID=""
cleanup() {
  local rc=$?
  for p in "${pids[@]}" $DAEMON_PID; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $DAEMON_PID; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for f in "$WORK"/*.log; do echo "---- $f (tail)"; tail -n 15 "$f"; done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

read -r FEED PUB CTL HTTP PROM AM1 AM1C AM2 AM2C HOOK < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(10)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

# The webhook: every notification, as received, one JSON line per POST in hook.jsonl.
python3 - "$HOOK" "$WORK/hook.jsonl" >"$WORK/hook.log" 2>&1 <<'PY' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pids+=($!)

cat >"$WORK/callwatch.toml" <<TOML
[listen]
feed = "tcp://127.0.0.1:$FEED"
publish = "tcp://127.0.0.1:$PUB"
control = "tcp://127.0.0.1:$CTL"
metrics = "127.0.0.1:$HTTP"
TOML
CALLWATCH_DEMO_SURGE=60@0 "$BIN/callwatchd" --demo --config "$WORK/callwatch.toml" >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!

# The shipped Alertmanager config, twice: receivers to the webhook (/open/NAME, /closed/NAME),
# test-sized group timings, and the closed-center interval replaced.
python3 - "$ROOT/config/prometheus/alertmanager.yml" "$WORK" "$HOOK" <<'PY'
import re, sys
src, work, hook = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src).read()
head, sep, rest = text.partition("time_intervals:\n")
intervals, sep2, tail = rest.partition("\n# A critical alert")
assert sep and sep2, "alertmanager.yml layout changed: the test needs its time_intervals block"
variants = {
    "open": '  - name: center-closed\n    time_intervals:\n      - years: ["1999"]\n',
    "closed": '  - name: center-closed\n    time_intervals:\n      - times:\n          - start_time: "00:00"\n            end_time: "24:00"\n',
}
for name, interval in variants.items():
    t = head + sep + interval + sep2 + tail
    t = re.sub(r"url: http://127\.0\.0\.1:9095/(\S+)", rf"url: http://127.0.0.1:{hook}/{name}/\1", t)
    t = re.sub(r"group_wait: \S+", "group_wait: 1s", t)
    t = re.sub(r"group_interval: \S+", "group_interval: 2s", t)
    assert t.count(f"127.0.0.1:{hook}/{name}/") == 4
    open(f"{work}/am-{name}.yml", "w").write(t)
PY
for v in open closed; do amtool check-config "$WORK/am-$v.yml" >/dev/null; done
"$AM" --config.file="$WORK/am-open.yml" --storage.path="$WORK/am-open" --web.listen-address="127.0.0.1:$AM1" \
  --cluster.listen-address="127.0.0.1:$AM1C" --log.level=warn >"$WORK/am-open.log" 2>&1 &
pids+=($!)
"$AM" --config.file="$WORK/am-closed.yml" --storage.path="$WORK/am-closed" --web.listen-address="127.0.0.1:$AM2" \
  --cluster.listen-address="127.0.0.1:$AM2C" --log.level=warn >"$WORK/am-closed.log" 2>&1 &
pids+=($!)

sed -E -e 's/^(\s*)for: .*/\1for: 5s/' "$ROOT/config/prometheus/callwatch-rules.yml" >"$WORK/rules.yml"
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$WORK/rules.yml"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$AM1", "127.0.0.1:$AM2"]
scrape_configs:
  - job_name: callwatch
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$HTTP"]
YML
promtool check config "$WORK/prometheus.yml" >/dev/null
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$PROM" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
pids+=($!)

python3 - "$WORK/hook.jsonl" "$AM2" "$T0" "$DAEMON_PID" <<'PY'
import json, os, signal, sys, time, urllib.request
hook, am_closed, t0, daemon = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
failures = []

def received():
    """(variant, receiver) -> list of (status, labels) of every alert notified."""
    out = {}
    if not os.path.exists(hook):
        return out
    for line in open(hook):
        n = json.loads(line)
        _, variant, receiver = n["path"].split("/")
        for a in n["body"]["alerts"]:
            out.setdefault((variant, receiver), []).append((a["status"], a["labels"]))
    return out

def firing(variant, receiver, alertname):
    return [l for s, l in received().get((variant, receiver), []) if s == "firing" and l.get("alertname") == alertname]

def wait(what, ok, secs):
    until = time.time() + secs
    while time.time() < until:
        if ok():
            return True
        time.sleep(0.5)
    failures.append(f"{what}: not within {secs} s")
    return False

# 1. open: the board's critical alerts at floor-critical with their labels.
if wait("CallwatchBoardAlertFiring at open/floor-critical",
        lambda: firing("open", "floor-critical", "CallwatchBoardAlertFiring"), 75):
    l = firing("open", "floor-critical", "CallwatchBoardAlertFiring")[0]
    want = {"alertname": "CallwatchBoardAlertFiring", "severity": "critical", "source": "callwatchd", "job": "callwatch"}
    ok = all(l.get(k) == v for k, v in want.items()) and l.get("alert") and l.get("queue")
    print(f"  {'ok ' if ok else 'FAIL'} open/floor-critical after {time.time() - t0:.0f} s: {l}")
    if not ok:
        failures.append(f"labels of the board alert: {l}")
vip_at_floor = [l for s, l in received().get(("open", "floor-critical"), []) if l.get("queue", "").startswith("VIP")]
if vip_at_floor:
    failures.append(f"a VIP queue's alert went to floor-critical: {vip_at_floor[0]}")
vip = [l for s, l in received().get(("open", "vip-desk"), [])]
print(f"  {'ok ' if all(l.get('queue', '').startswith('VIP') for l in vip) else 'FAIL'} open/vip-desk: {sorted({(l['alertname'], l.get('queue')) for l in vip})}")
if any(not l.get("queue", "").startswith("VIP") for l in vip):
    failures.append("vip-desk got another queue's alert")

# The closed Alertmanager holds the same floor alerts (muted, not lost), while they fire.
def held_names():
    held = json.load(urllib.request.urlopen(f"http://127.0.0.1:{am_closed}/api/v2/alerts", timeout=5))
    return {a["labels"]["alertname"] for a in held}
if wait("the closed Alertmanager holds the floor alerts",
        lambda: {"CallwatchBoardAlertFiring", "CallwatchArrivalSurge"} <= held_names(), 10):
    print(f"  ok  closed Alertmanager holds {sorted(held_names())}")

# 2. the daemon dies: operations hears it on both, the closed center too.
os.kill(daemon, signal.SIGKILL)
for variant in ("open", "closed"):
    if wait(f"CallwatchDaemonDown at {variant}/operations",
            lambda: firing(variant, "operations", "CallwatchDaemonDown"), 30):
        l = firing(variant, "operations", "CallwatchDaemonDown")[0]
        ok = l.get("severity") == "critical" and l.get("instance")
        print(f"  {'ok ' if ok else 'FAIL'} {variant}/operations after {time.time() - t0:.0f} s: {l}")
        if not ok:
            failures.append(f"labels of CallwatchDaemonDown: {l}")

# 3. closed: the floor heard nothing, though its Alertmanager holds the floor alerts.
for r in ("floor-critical", "vip-desk", "floor"):
    got = received().get(("closed", r), [])
    print(f"  {'ok ' if not got else 'FAIL'} closed/{r}: {len(got)} notifications")
    if got:
        failures.append(f"closed center: {r} was notified: {got[0]}")

print(f"alertmanager: {time.time() - t0:.0f} s")
if failures:
    print("FAILURES:\n  " + "\n  ".join(failures)); sys.exit(1)
PY
DAEMON_PID=""
echo "alertmanager live ok"
