#!/usr/bin/env bash
# The ops kit as shipped under config/, checked with the tools that will read it:
#  - promtool check config / check rules on config/prometheus, and promtool test rules (each rule
#    fires with its labels and text, after its `for`, and not on look-alike series);
#  - the Grafana dashboard JSON: a datasource variable used by every panel and query, every
#    variable it uses defined, unique panel ids, panels inside the 24-column grid without
#    overlap, heatmaps fed by histogram buckets in heatmap format, every fixed metric family
#    of DESIGN.md shown somewhere;
#  - the systemd units: systemd-analyze verify and the offline security score (when systemd is
#    installed), plus the settings the operations team relies on.
# The live side (a real Prometheus running every query) is prometheus_live.sh.
# Argument 1: the bin dir.
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROMDIR="$ROOT/config/prometheus"

promtool check config "$PROMDIR/prometheus.yml"
promtool check rules "$PROMDIR/callwatch-rules.yml"
(cd "$PROMDIR" && promtool test rules callwatch-rules.test.yml)
# Every alert of the rules file has a unit test.
for a in $(sed -n 's/^ *- alert: *//p' "$PROMDIR/callwatch-rules.yml"); do
  grep -q "alertname: $a\$" "$PROMDIR/callwatch-rules.test.yml" || { echo "rule $a has no promtool test"; exit 1; }
done

python3 - "$ROOT/config/grafana/dashboards/callwatch.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
errors = []
variables = {v["name"]: v for v in d["templating"]["list"]}
ds = variables.get("datasource")
if not ds or ds["type"] != "datasource" or ds.get("query") != "prometheus":
    errors.append("no datasource variable of type prometheus")
builtin = {"__rate_interval", "__interval", "__range", "__all"}
if not d.get("uid"):
    errors.append("no uid")
ids, cells = set(), {}
panels = [p for p in d["panels"] if p["type"] != "row"]
for p in d["panels"]:
    if p["id"] in ids:
        errors.append(f"duplicate panel id {p['id']}")
    ids.add(p["id"])
    g = p["gridPos"]
    if g["x"] < 0 or g["x"] + g["w"] > 24:
        errors.append(f"{p['title']}: outside the 24-column grid")
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            if (x, y) in cells:
                errors.append(f"{p['title']} overlaps {cells[(x, y)]}")
                break
            cells[(x, y)] = p["title"]
        else:
            continue
        break
families = set()
for p in panels:
    if p.get("datasource", {}).get("uid") != "${datasource}":
        errors.append(f"{p['title']}: panel data source is not ${{datasource}}")
    if not p.get("targets"):
        errors.append(f"{p['title']}: no query")
    for t in p.get("targets", []):
        if t.get("datasource", {}).get("uid") != "${datasource}":
            errors.append(f"{p['title']} {t['refId']}: data source is not ${{datasource}}")
        for v in re.findall(r"\$\{?(\w+)", t["expr"] + " " + p["title"]):
            if v not in variables and v not in builtin:
                errors.append(f"{p['title']}: undefined variable ${v}")
        families.update(re.findall(r"\b(callwatch_[a-z_]+?)(?:_bucket|_sum|_count)?\b", t["expr"]))
        if p["type"] == "heatmap" and (t.get("format") != "heatmap" or "_bucket" not in t["expr"]):
            errors.append(f"{p['title']}: a heatmap needs histogram buckets in heatmap format")
for v in variables.values():
    if v["type"] == "query" and v.get("datasource", {}).get("uid") != "${datasource}":
        errors.append(f"variable {v['name']}: data source is not ${{datasource}}")
# The fixed metric families of DESIGN.md (callwatch_agent_state is opt-in per config: not on
# a dashboard every site can use).
fixed = """callwatch_queue_calls_waiting callwatch_queue_longest_wait_seconds
callwatch_queue_calls_offered_total callwatch_queue_calls_answered_total
callwatch_queue_calls_abandoned_total callwatch_queue_calls_timed_out_total
callwatch_queue_answer_wait_seconds callwatch_queue_abandon_wait_seconds
callwatch_queue_handle_seconds callwatch_queue_service_level_ratio callwatch_queue_agents
callwatch_queue_agents_required callwatch_queue_arrival_surge_ratio callwatch_alerts_firing
callwatch_feed_up callwatch_feed_last_event_timestamp_seconds callwatch_feed_events_total
callwatch_feed_events_rejected_total callwatch_build_info""".split()
for f in fixed:
    if f not in families:
        errors.append(f"no panel shows {f}")
print(f"dashboard: {len(panels)} panels, {sum(len(p['targets']) for p in panels)} queries, "
      f"{len(families)} metric families")
if errors:
    print("\n".join(errors))
    sys.exit(1)
PY

SYSD="$ROOT/config/systemd"
grep -qx "User=callwatch" "$SYSD/callwatchd.service"
grep -qx "Restart=on-failure" "$SYSD/callwatchd.service"
grep -qx "Restart=always" "$SYSD/callwatch-wallboard-kiosk.service"
grep -q -- "--kiosk" "$SYSD/callwatch-wallboard-kiosk.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  TMP=$(mktemp -d /tmp/callwatch-units-XXXXXX)
  trap 'rm -rf "$TMP"' EXIT
  # verify wants the binaries to exist: point ExecStart at the build's (or at /bin/true for a
  # wallboard built without a display stack).
  WALLBOARD="$BIN/callwatch-wallboard"; [ -x "$WALLBOARD" ] || WALLBOARD=/bin/true
  sed "s#/usr/local/bin/callwatchd#$BIN/callwatchd#g" "$SYSD/callwatchd.service" >"$TMP/callwatchd.service"
  sed "s#/usr/local/bin/callwatch-wallboard#$WALLBOARD#g" "$SYSD/callwatch-wallboard-kiosk.service" \
    >"$TMP/callwatch-wallboard-kiosk.service"
  systemd-analyze verify "$TMP/callwatchd.service" "$TMP/callwatch-wallboard-kiosk.service"
  # Exposure score (0 = locked down, 10 = wide open): the daemon must stay "OK" (< 2.0); the
  # kiosk keeps the display and GPU, so it is allowed a little more.
  systemd-analyze security --offline=true --threshold=20 "$TMP/callwatchd.service" | tail -n 1
  systemd-analyze security --offline=true --threshold=30 "$TMP/callwatch-wallboard-kiosk.service" | tail -n 1
else
  echo "systemd-analyze not installed: unit files checked by grep only"
fi
echo "ops kit ok"
