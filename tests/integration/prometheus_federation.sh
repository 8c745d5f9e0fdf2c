#!/usr/bin/env bash
# Two sites and a global view, with real servers: two callwatchd --demo (sites "north" and
# "south"), each scraped by its own Prometheus configured from config/prometheus/federation/
# site.yml, and a global Prometheus from global.yml federating both. On the global server:
#  1. both sites are there, told apart by `site` (count by (site) of callwatch_build_info);
#  2. every dashboard query and variable, with $site set to each site in turn, answers;
#  3. a figure is the same on the global server and on its site's daemon (the SL threshold of
#     each of the six demo queues, fixed by the demo's configuration: 20 s).
# The demo surge is pulled to the start (as in prometheus_live.sh) so calls end early and the
# handle-time panels have data. Takes ~40 s. Argument 1: the bin dir holding callwatchd.
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
[ -x "$PROMETHEUS" ] || { echo "prometheus not installed at $PROMETHEUS"; exit 1; }
T0=$(date +%s)
WORK=$(mktemp -d /tmp/callwatch-fed-XXXXXX)
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for f in "$WORK"/*.log; do echo "---- $f (tail)"; tail -n 15 "$f"; done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

read -r -a P < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(13)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

i=0
for site in north south; do
  feed=${P[i]} pub=${P[i+1]} ctl=${P[i+2]} http=${P[i+3]} prom=${P[i+4]}; i=$((i + 5))
  cat >"$WORK/$site.toml" <<TOML
[general]
site = "$site"

[listen]
feed = "tcp://127.0.0.1:$feed"
publish = "tcp://127.0.0.1:$pub"
control = "tcp://127.0.0.1:$ctl"
metrics = "127.0.0.1:$http"
TOML
  CALLWATCH_DEMO_SURGE=60@0 "$BIN/callwatchd" --demo --config "$WORK/$site.toml" >"$WORK/daemon-$site.log" 2>&1 &
  pids+=($!)
  # The shipped site config with this site's name, daemon and 1 s intervals.
  mkdir -p "$WORK/$site"
  cp "$ROOT/config/prometheus/callwatch-rules.yml" "$WORK/$site/"
  sed -E -e "s/^(\s*site:).*/\1 $site/" -e "s/(scrape|evaluation)_interval: .*/\1_interval: 1s/" \
      -e 's/scrape_timeout: .*/scrape_timeout: 1s/' -e "s/127.0.0.1:9747/127.0.0.1:$http/" \
      "$ROOT/config/prometheus/federation/site.yml" >"$WORK/$site/prometheus.yml"
  grep -q "site: $site" "$WORK/$site/prometheus.yml"
  promtool check config "$WORK/$site/prometheus.yml" >/dev/null
  eval "HTTP_$site=$http PROM_$site=$prom"
done
GLOBAL=${P[10]}
sed -E -e "s/(scrape|evaluation)_interval: .*/\1_interval: 1s/" -e 's/scrape_timeout: .*/scrape_timeout: 1s/' \
    -e "s/prometheus-north.example.net:9090/127.0.0.1:$PROM_north/" \
    -e "s/prometheus-south.example.net:9090/127.0.0.1:$PROM_south/" \
    "$ROOT/config/prometheus/federation/global.yml" >"$WORK/global.yml"
grep -q "127.0.0.1:$PROM_south" "$WORK/global.yml"
promtool check config "$WORK/global.yml" >/dev/null

for site in north south; do
  port_var=PROM_$site
  "$PROMETHEUS" --config.file="$WORK/$site/prometheus.yml" --storage.tsdb.path="$WORK/$site/data" \
    --web.listen-address="127.0.0.1:${!port_var}" --log.level=warn >"$WORK/prometheus-$site.log" 2>&1 &
  pids+=($!)
done
"$PROMETHEUS" --config.file="$WORK/global.yml" --storage.tsdb.path="$WORK/global-data" \
  --web.listen-address="127.0.0.1:$GLOBAL" --log.level=warn >"$WORK/prometheus-global.log" 2>&1 &
pids+=($!)

python3 - "$GLOBAL" "$HTTP_north" "$HTTP_south" "$ROOT/config/grafana/dashboards/callwatch.json" "$T0" \
  "$ROOT/tests/integration/lib" <<'PY'
import re, sys, time, urllib.request
glob, http = sys.argv[1], {"north": sys.argv[2], "south": sys.argv[3]}
dash_file, t0 = sys.argv[4], float(sys.argv[5])
sys.path.insert(0, sys.argv[6])
from promtest import Prom, dashboard_queries, load_dashboard, wait_until
g = Prom(glob)
failures = []

def sites():
    return {s["metric"].get("site"): s["value"][1] for s in g.query("count by (site) (callwatch_build_info)")}

if not wait_until("both sites federated", lambda: set(sites()) == {"north", "south"}, time.time() + 40):
    print("sites seen:", sites()); sys.exit(1)
# Two samples or more of every counter on the global server (1 s federation): rates answer.
time.sleep(8)
print(f"  ok  sites on the global server: {sites()}")

dash = load_dashboard(dash_file)
for site in ("north", "south"):
    subst = {"$site": site, "$instance": ".*", "$queue": ".*", "$window": "15m",
             "$formula": "offered", "$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}
    panels, variables = dashboard_queries(dash, subst, failures)
    empty = []
    def all_answer():
        empty[:] = [name for name, expr in panels if not g.query(expr)]
        return not empty
    wait_until(f"site {site}: every dashboard query answers", all_answer, time.time() + 30)
    for name in empty:
        failures.append(f"site {site}: {name} has no data on the global server")
    print(f"  {'ok ' if not empty else 'FAIL'} site {site}: {len(panels) - len(empty)}/{len(panels)} dashboard queries answer")
    for name, expr, label in variables:
        values = sorted({s["metric"].get(label, "") for s in g.query(expr)} - {""})
        if name == "site":
            ok = values == ["north", "south"]
        elif name == "instance":  # the site's own daemon, and only it
            ok = values == [f"127.0.0.1:{http[site]}"]
        else:
            ok = bool(values)
        print(f"  {'ok ' if ok else 'FAIL'} site {site}: variable ${name} = {values[:8]}")
        if not ok:
            failures.append(f"site {site}: variable {name}: {values}")

    # The same figure on the global server and on the site's own daemon.
    body = urllib.request.urlopen(f"http://127.0.0.1:{http[site]}/metrics", timeout=5).read().decode()
    direct = {m.group(1): float(m.group(2)) for m in
              re.finditer(r'^callwatch_queue_service_level_threshold_seconds\{queue="([^"]+)"\} (\S+)$', body, re.M)}
    fed = {s["metric"]["queue"]: float(s["value"][1]) for s in
           g.query(f'callwatch_queue_service_level_threshold_seconds{{site="{site}"}}')}
    want = {q: 20.0 for q in direct}
    ok = direct == fed == want and len(direct) == 6
    print(f"  {'ok ' if ok else 'FAIL'} site {site}: SL thresholds daemon {direct} global {fed}")
    if not ok:
        failures.append(f"site {site}: thresholds differ: daemon {direct}, global {fed}, want {want}")

print(f"federation: {time.time() - t0:.0f} s")
if failures:
    print("FAILURES:\n  " + "\n  ".join(failures)); sys.exit(1)
PY
echo "prometheus federation ok"
