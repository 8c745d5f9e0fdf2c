#!/usr/bin/env bash
# callwatchd relay as an operator runs it: two demo daemons (sites north and south), one
# `callwatchd relay` process with both as upstreams, and a real desktop board under Xvfb connected
# to the relay only. The board must show both sites' queues (OCR), the relay must refuse a bad
# command line with exit 2, and a board started against a relay whose upstreams are gone must say
# its data is stale. $1 = the bin dir. The screenshot stays beside the bin dir for a look.
set -u
# tesseract's OpenMP threads fight each other on a 2-core machine: one thread reads a page in
# 1.7 s where four took 15 s (1080p, tesseract 5.3).
export OMP_THREAD_LIMIT=1
BIN=${1:-build/bin}
BIN=$(cd "$BIN" && pwd)
OUT=$(dirname "$BIN")
D="$BIN/callwatchd"
W="$BIN/callwatch-wallboard"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
ok()  { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fail=1; }

for tool in python3 curl; do
  command -v "$tool" >/dev/null || { bad "$tool is not installed"; exit 1; }
done

. "$(cd "$(dirname "$0")" && pwd)/lib/sites.sh"
read -r P_FEED P_PUB P_CTL P_HTTP Q_FEED Q_PUB Q_CTL Q_HTTP R_PUB R_CTL < <(free_ports 10)
site_config north "$P_FEED" "$P_PUB" "$P_CTL" "$P_HTTP" > "$tmp/north.toml"
site_config south "$Q_FEED" "$Q_PUB" "$Q_CTL" "$Q_HTTP" > "$tmp/south.toml"

# A bad command line: two upstreams, one control address.
"$D" relay --upstream tcp://127.0.0.1:1 --upstream tcp://127.0.0.1:2 --upstream-control tcp://127.0.0.1:3 \
  > "$tmp/bad.log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "one --upstream-control for each --upstream" "$tmp/bad.log" \
  && ok "relay refuses mismatched --upstream/--upstream-control (exit 2)" || bad "bad relay command line: rc=$rc $(cat "$tmp/bad.log")"

"$D" --config "$tmp/north.toml" --demo > "$tmp/north.log" 2>&1 & pids+=($!); NPID=$!
"$D" --config "$tmp/south.toml" --demo > "$tmp/south.log" 2>&1 & pids+=($!); SPID=$!
wait_http "$P_HTTP" && wait_http "$Q_HTTP" || { bad "demo daemons did not come up"; exit 1; }
"$D" relay --upstream "tcp://127.0.0.1:$P_PUB" --upstream-control "tcp://127.0.0.1:$P_CTL" \
  --upstream "tcp://127.0.0.1:$Q_PUB" --upstream-control "tcp://127.0.0.1:$Q_CTL" \
  --publish "tcp://127.0.0.1:$R_PUB" --control "tcp://127.0.0.1:$R_CTL" > "$tmp/relay.log" 2>&1 &
RPID=$!; pids+=($RPID)
for _ in $(seq 1 50); do grep -q "ready: boards on" "$tmp/relay.log" && break; sleep 0.1; done
grep -q "ready: boards on tcp://127.0.0.1:$R_PUB" "$tmp/relay.log" && ok "relay is up on its loopback ports" \
  || bad "relay did not start: $(cat "$tmp/relay.log")"

if [ ! -x "$W" ] || ! command -v xvfb-run >/dev/null || ! command -v tesseract >/dev/null; then
  echo "SKIP  the board part (no wallboard build, Xvfb or tesseract)"
  exit $fail
fi
shoot() {  # shoot OUT.png FRAMES ARGS...
  local png=$1 frames=$2; shift 2
  local try
  for try in 1 2; do
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" xvfb-run -a -s "-screen 0 1920x1080x24" "$W" \
      --connect "tcp://127.0.0.1:$R_PUB" --control "tcp://127.0.0.1:$R_CTL" \
      --screenshot "$png" --frames "$frames" "$@" > "$tmp/wb.log" 2>&1 && return 0
    grep -qiE "xvfb failed|cannot open a display|server already active" "$tmp/wb.log" || return 1
    sleep 1
  done
  return 1
}
sleep 2  # a few seconds of simulated calls at both sites
S="$OUT/relay-desktop.png"
if shoot "$S" 150 --size 1920x1080; then
  # The queue column alone, enlarged twice (in the whole page tesseract once read every "south:"
  # row as ":"): it reads "north: Sales", "south: Sales" (tesseract sometimes drops a colon).
  python3 "$(dirname "$0")/lib/pngband.py" "$S" --crop "$tmp/sq.png" 0 115 300 270 2
  tesseract "$tmp/sq.png" "$tmp/s" -l eng > /dev/null 2>&1
  [ "$(grep -o "north" "$tmp/s.txt" | wc -l)" -ge 3 ] && [ "$(grep -o "south" "$tmp/s.txt" | wc -l)" -ge 3 ] \
    && ok "the board behind the relay shows both sites' queues (north: ..., south: ...)" \
    || bad "OCR: no north:/south: queue names in: $(tr '\n' ' ' < "$tmp/s.txt" | head -c 600)"
else
  bad "the board did not run: $(cat "$tmp/wb.log")"
fi

# Both daemons stop: the relay keeps their last state but stops its heartbeats, so a board
# started now gets that state and says it is stale (red banner text).
kill "$NPID" "$SPID"; wait "$NPID" "$SPID" 2>/dev/null
K="$OUT/relay-kiosk-stale.png"
if shoot "$K" 60 --kiosk --size 1920x1080; then
  # The banner is white on red: tesseract reads it from the top band turned grey.
  python3 "$(cd "$(dirname "$0")" && pwd)/lib/pngband.py" "$K" "$tmp/band.png" > /dev/null
  tesseract "$tmp/band.png" "$tmp/k" -l eng > /dev/null 2>&1
  grep -qi "stale since [0-9][0-9]:[0-9][0-9]:[0-9][0-9]" "$tmp/k.txt" \
    && ok "with the upstreams gone, the board behind the relay says its data is stale" \
    || bad "OCR: no stale banner in: $(tr '\n' ' ' < "$tmp/k.txt" | head -c 600)"
else
  bad "the stale board did not run: $(cat "$tmp/wb.log")"
fi
kill -0 "$RPID" 2>/dev/null && ok "the relay outlives its upstreams" || bad "the relay died with its upstreams"
exit $fail
