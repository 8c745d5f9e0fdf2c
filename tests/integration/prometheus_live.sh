#!/usr/bin/env bash
# The ops kit against the real thing: a Prometheus server (Debian's /usr/bin/prometheus) scrapes
# `callwatchd --demo` every second, with the shipped rules loaded. Then
#  1. every PromQL expression of the Grafana dashboard (panels and variable queries) and every
#     rule expression (each side of its comparison; absent(x): x) returns data via /api/v1/query;
#  2. every rule evaluates without error (/api/v1/rules health "ok");
#  3. rules fire in /api/v1/alerts: the shipped CallwatchBoardAlertFiring mirrors the daemon's own
#     surge alert (no `for` of its own), and a copy of the rules with every `for:` cut to 5 s
#     (the shipped 5-minute ones cannot fire in a short test) fires CallwatchArrivalSurge, while
#     the daemon/feed-down rules of that copy stay quiet.
# The demo surge is pulled to the start (CALLWATCH_DEMO_SURGE=60@0): arrivals at 60x the forecast
# pass the daemon's 2.5x surge threshold after ~13 s, and its rule fires 30 s later.
# Takes ~60 s. Argument 1: the bin dir holding callwatchd.
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
if [ ! -x "$PROMETHEUS" ]; then
  echo "prometheus not installed at $PROMETHEUS (Debian package 'prometheus'); ./callwatch.sh installs it"
  exit 1
fi

T0=$(date +%s)
WORK=$(mktemp -d /tmp/callwatch-prom-XXXXXX)
DAEMON_PID=""
PROM_PID=""
cleanup() {
  local rc=$?
  [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null || true
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
  [ -n "$PROM_PID" ] && wait "$PROM_PID" 2>/dev/null || true
  [ -n "$DAEMON_PID" ] && wait "$DAEMON_PID" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    echo "---- callwatchd log (tail)"; tail -n 30 "$WORK/daemon.log" 2>/dev/null || true
    echo "---- prometheus log (tail)"; tail -n 30 "$WORK/prometheus.log" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# Free ephemeral ports, all handed out at once so none repeats.
read -r FEED PUB CTL HTTP PROM < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

cat >"$WORK/callwatch.toml" <<EOF
[listen]
feed = "tcp://127.0.0.1:$FEED"
publish = "tcp://127.0.0.1:$PUB"
control = "tcp://127.0.0.1:$CTL"
metrics = "127.0.0.1:$HTTP"
EOF
CALLWATCH_DEMO_SURGE=60@0 "$BIN/callwatchd" --demo --config "$WORK/callwatch.toml" >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!

# The shipped rules as they are, and a copy with every `for:` at 5 s under other names.
cp "$ROOT/config/prometheus/callwatch-rules.yml" "$WORK/rules.yml"
sed -E -e 's/^(\s*)for: .*/\1for: 5s/' -e 's/^(\s*- name: )(.*)/\1\2-fast/' -e 's/^(\s*- alert: )(.*)/\1\2Fast/' \
  "$ROOT/config/prometheus/callwatch-rules.yml" >"$WORK/rules-fast.yml"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$WORK/rules.yml", "$WORK/rules-fast.yml"]
scrape_configs:
  - job_name: callwatch
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$HTTP"]
EOF
promtool check config "$WORK/prometheus.yml" >/dev/null

for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$HTTP/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$HTTP/metrics" >/dev/null || { echo "callwatchd did not serve /metrics"; exit 1; }

"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$PROM" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PROM/-/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$PROM/-/ready" >/dev/null || { echo "prometheus did not become ready"; exit 1; }

# Everything else in Python (json only: no packages beyond python3).
python3 - "$PROM" "$ROOT/config/grafana/dashboards/callwatch.json" "$T0" "$ROOT/tests/integration/lib" <<'PY'
import re, sys, time

prom, dash_file, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from promtest import Prom, dashboard_queries, load_dashboard, wait_until
P = Prom(prom)
api, query = P.api, P.query
DEADLINE = t0 + 85  # the whole test stays under ~90 s

failures = []

# Warm-up: scrapes are arriving and rate() over them has two samples or more.
if not wait_until("scrapes of callwatchd", lambda: len(query('up{job="callwatch"} == 1')) == 1, time.time() + 20):
    sys.exit(1)
# 12 s of 1 s scrapes: every counter has a rate, calls were answered and some ended (AHT).
time.sleep(12)

# ---- 1a. the dashboard -------------------------------------------------------------------
dash = load_dashboard(dash_file)
# Grafana fills these in; the values stand for "everything" and the defaults. $__rate_interval
# is max(4 x scrape interval, ...) in Grafana; "1m" here is that for a 15 s scrape, and with
# 1 s scrapes the window already holds >= 12 samples.
subst = {"$site": ".*", "$instance": ".*", "$queue": ".*", "$window": "15m", "$formula": "offered",
         "$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}
checked, variables = dashboard_queries(dash, subst, failures)
for name, expr, label in variables:
    res = query(expr)
    values = sorted({s["metric"].get(label, "") for s in res} - {""})
    print(f"  ok  variable ${name}: {len(values)} values of {label} ({', '.join(values[:8])})")
    # `site` is the label a federating server adds (prometheus_federation.sh): none here.
    if not values and name != "site":
        failures.append(f"variable {name}: {expr} has no {label} values")

for name, expr in checked:
    try:
        res = query(expr)
    except Exception as e:  # a bad expression is a failure, with Prometheus's own message
        failures.append(f"{name}: {e}")
        continue
    status = "ok " if res else "EMPTY"
    print(f"  {status} {name}: {len(res)} series  <- {' '.join(expr.split())}")
    if not res:
        failures.append(f"{name}: no data for {expr}")

# ---- 1b/2. the rules -----------------------------------------------------------------------
def operands(expr):
    """The value sides of `a <cmp> b` / `a and b` at the top level; absent(x) -> x."""
    pieces, depth, cur, i, quote = [], 0, "", 0, None
    while i < len(expr):
        c = expr[i]
        if quote:
            cur += c
            if c == "\\":
                cur += expr[i + 1]; i += 2; continue
            if c == quote:
                quote = None
            i += 1; continue
        if c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if depth == 0:
            m = re.match(r"(==|!=|>=|<=|>|<)|\b(and|or|unless)\b", expr[i:])
            if m and (m.group(1) or (cur and not cur[-1].isalnum() and cur[-1] != "_")):
                pieces.append(cur); cur = ""; i += m.end(); continue
        cur += c
        i += 1
    pieces.append(cur)
    out = []
    for p in pieces:
        p = p.strip()
        p = re.sub(r"^bool\s+", "", p)
        p = re.sub(r"^(on|ignoring)\s*\([^)]*\)\s*", "", p)
        p = re.sub(r"^(group_left|group_right)\s*(\([^)]*\))?\s*", "", p)
        m = re.fullmatch(r"absent\((.*)\)", p, re.S)
        if m:
            p = m.group(1)
        if p and not re.fullmatch(r"[0-9.e+-]+", p):
            out.append(p)
    return out

def rules():
    return [(g["file"], g["name"], r) for g in api("/api/v1/rules")["groups"] for r in g["rules"]]

# Each rule evaluated at least once (1 s evaluation interval) with health ok.
wait_until("every rule evaluated", lambda: all(r.get("health") != "unknown" for _, _, r in rules()), time.time() + 10)
shipped = 0
for f, g, r in rules():
    if r.get("health") != "ok":
        failures.append(f"rule {r['name']} ({g}): health {r.get('health')}: {r.get('lastError')}")
    if not g.endswith("-fast"):
        shipped += 1
        for expr in operands(r["query"]):
            res = query(expr)
            status = "ok " if res else "EMPTY"
            print(f"  {status} rule {r['name']}: {len(res)} series  <- {' '.join(expr.split())}")
            if not res:
                failures.append(f"rule {r['name']}: no data for {expr}")
if shipped != 10:
    failures.append(f"expected the 10 shipped rules, Prometheus loaded {shipped}")

# ---- 3. rules firing -------------------------------------------------------------------------
def firing(name, **labels):
    return [a for a in api("/api/v1/alerts")["alerts"] if a["labels"].get("alertname") == name
            and a["state"] == "firing" and all(a["labels"].get(k) == v for k, v in labels.items())]

for name, labels in [("CallwatchArrivalSurgeFast", {}),
                     ("CallwatchBoardAlertFiring", {"alert": "surge", "severity": "critical", "source": "callwatchd"})]:
    if wait_until(f"{name} firing", lambda: firing(name, **labels), DEADLINE):
        a = firing(name, **labels)[0]
        print(f"  ok  {name} firing after {time.time() - t0:.0f} s: {a['labels']} {a['annotations'].get('summary', '')}")
    else:
        failures.append(f"{name} {labels} never fired")
for quiet in ["CallwatchDaemonDownFast", "CallwatchDaemonAbsentFast", "CallwatchFeedDownFast", "CallwatchFeedSilentFast"]:
    if firing(quiet):
        failures.append(f"{quiet} fires on a healthy daemon")
    else:
        print(f"  ok  {quiet} quiet")

print(f"{len(checked)} dashboard queries, {shipped} rules; {time.time() - t0:.0f} s")
if failures:
    print("FAILURES:\n  " + "\n  ".join(failures))
    sys.exit(1)
PY
echo "prometheus live ok"
