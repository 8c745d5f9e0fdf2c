#!/usr/bin/env bash
# The browser board end to end: `callwatchd --demo` serves GET /board; headless Chromium opens
# /board?kiosk=1 (WebGL through SwiftShader) and the screenshot is read with tesseract: queue names
# in Latin and in Chinese, and the header's "Calls waiting" equal to the sum of
# callwatch_queue_calls_waiting in /metrics. A WebSocket client that never reads and one that
# drops its connection must not hold up the engine, /metrics or another board. Then the daemon is
# killed and the page must show the red stale banner. $1 = the bin dir. Screenshots stay in the
# bin dir's parent. Exit 77 (skipped) only where Emscripten is not installed at all.
set -u
# tesseract's OpenMP threads fight each other on a 2-core machine: one thread reads a page in
# 1.7 s where four took 15 s (1080p, tesseract 5.3).
export OMP_THREAD_LIMIT=1
BIN=${1:-build/bin}
BIN=$(cd "$BIN" && pwd)
OUT=$(dirname "$BIN")
LIB="$(cd "$(dirname "$0")" && pwd)/lib"
BOARD="$OUT/share/callwatch/board"
tmp=$(mktemp -d)
dpid=""
cleanup() {
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
  if [ -f "$tmp/chromium.pid" ]; then kill -- -"$(cat "$tmp/chromium.pid")" 2>/dev/null; sleep 1; fi
  rm -rf "$tmp" 2>/dev/null || true
}
trap cleanup EXIT
fail=0
ok()  { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fail=1; }

if [ ! -f "$BOARD/index.html" ]; then
  if ! command -v emcmake >/dev/null; then echo "SKIP  no emscripten: the browser board is not built"; exit 77; fi
  bad "emscripten is installed but $BOARD/index.html was not built"; exit 1
fi
for tool in chromium tesseract python3 curl; do
  command -v "$tool" >/dev/null || { bad "$tool is not installed"; exit 1; }
done

read -r P_FEED P_PUB P_CTL P_HTTP < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
PY
)
printf '[listen]\nfeed = "tcp://127.0.0.1:%s"\npublish = "tcp://127.0.0.1:%s"\ncontrol = "tcp://127.0.0.1:%s"\nmetrics = "127.0.0.1:%s"\n' \
  "$P_FEED" "$P_PUB" "$P_CTL" "$P_HTTP" > "$tmp/cw.toml"
URL="http://127.0.0.1:$P_HTTP"
"$BIN/callwatchd" --config "$tmp/cw.toml" --demo > "$tmp/daemon.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do curl -fs "$URL/metrics" > /dev/null 2>&1 && break; sleep 0.1; done
sleep 3  # a few simulated calls

code=$(curl -s -o "$tmp/page.html" -w "%{http_code}" "$URL/board")
[ "$code" = 200 ] && grep -q "callwatch-board.js" "$tmp/page.html" && ok "GET /board serves the page" || bad "GET /board: $code"
code=$(curl -s -o /dev/null -w "%{http_code} %{content_type}" -H "Accept-Encoding: gzip" "$URL/board/callwatch-board.wasm")
[ "$code" = "200 application/wasm" ] && ok "the WASM is served as application/wasm" || bad "wasm: $code"

# --- a client that never reads and one that vanishes, beside a board that must keep up
PYTHONPATH="$LIB" python3 - "$P_HTTP" > "$tmp/ws.txt" 2>&1 <<'PY' &
import socket, sys, time
from wsclient import WsClient
port = int(sys.argv[1])
stuck = WsClient("127.0.0.1", port)          # connected, never reads a byte
stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
gone = WsClient("127.0.0.1", port)
gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
gone.sock.close()                            # reset, mid-stream
live = WsClient("127.0.0.1", port)
first = live.message()
beats, seqs, t0 = 0, [], time.time()
while time.time() - t0 < 8:
    m = live.message()
    if m["type"] == "heartbeat": beats += 1
    if m["type"] == "delta": seqs.append(m["seq"])
print(first["type"], beats, len(seqs), int(all(b == a + 1 for a, b in zip(seqs, seqs[1:]))))
PY
wspid=$!

PYTHONPATH="$LIB" python3 "$LIB/board_page.py" start "$URL/board?kiosk=1" "$tmp" || bad "chromium did not start: $(tail -5 "$tmp/chromium.log")"
PYTHONPATH="$LIB" python3 "$LIB/board_page.py" ready "$tmp" 60 && ok "the page runs the board" || bad "the page did not start the board"
# /metrics answers at once while a WebSocket client reads nothing.
t=$(curl -s -o /dev/null -w "%{time_total}" "$URL/metrics")
python3 -c "import sys; sys.exit(0 if float('$t') < 1.0 else 1)" && ok "/metrics answers in $t s beside a stuck WebSocket" || bad "/metrics took $t s"
wait "$wspid"
read -r first beats deltas inorder < "$tmp/ws.txt"
# 8 s of a 1 s heartbeat and ~3 deltas a second: at least 6 heartbeats and 8 deltas, in order.
[ "$first" = snapshot ] && ok "a new WebSocket gets a snapshot first" || bad "first message: $(cat "$tmp/ws.txt")"
[ "${beats:-0}" -ge 6 ] && [ "${deltas:-0}" -ge 8 ] && [ "$inorder" = 1 ] \
  && ok "beside a stuck and a dropped client, a board got $beats heartbeats and $deltas deltas in sequence" \
  || bad "live board starved: $(cat "$tmp/ws.txt")"

# --- the kiosk, read: names in both scripts and the header's calls waiting equal to /metrics.
K="$OUT/board-browser-kiosk.png"
# The figure moves with the demo: the page must show what /metrics said just before or just after
# the screenshot (up to 5 tries; a board showing another number fails).
sum_waiting() { curl -fs "$URL/metrics" | awk '/^callwatch_queue_calls_waiting\{/ {s += $2} END {print s + 0}'; }
matched=""
for try in 1 2 3 4 5; do
  before=$(sum_waiting)
  PYTHONPATH="$LIB" python3 "$LIB/board_page.py" shot "$tmp" "$K"
  after=$(sum_waiting)
  tesseract "$K" "$tmp/k" -l eng+chi_sim > /dev/null 2>&1
  # The header's first number under "Calls waiting".
  shown=$(awk '/Calls waiting/ {getline; while ($0 ~ /^[[:space:]]*$/) getline; print $1; exit}' "$tmp/k.txt")
  seen="${seen:-}$before/$after:$shown "
  if [ "$shown" = "$before" ] || [ "$shown" = "$after" ]; then matched=$shown; break; fi
done
if [ -s "$K" ]; then
  read -r w h ncolors red < <(python3 "$LIB/pngband.py" "$K")
  [ "$w" = 1920 ] && [ "$h" = 1080 ] && ok "browser kiosk screenshot is 1920x1080" || bad "size ${w}x${h}"
  [ "$ncolors" -gt 20 ] && ok "browser kiosk is not blank ($ncolors colors)" || bad "blank ($ncolors colors)"
  grep -Eq "Billing|Retention|Support|Sales" "$tmp/k.txt" && ok "OCR reads a Latin queue name in the browser" || bad "OCR: no Latin name in: $(tr '\n' ' ' < "$tmp/k.txt" | head -c 300)"
  tr -d ' ' < "$tmp/k.txt" | grep -Eq "销售|账务|支持|挽留" && ok "OCR reads a Chinese queue name in the browser" || bad "OCR: no Chinese name"
  [ -n "$matched" ] && ok "calls waiting on the page = /metrics ($matched)" \
    || bad "calls waiting: /metrics before/after:page = $seen"
else
  bad "no browser screenshot"
fi

# --- the daemon goes away: the page keeps the last values under a red stale banner.
kill "$dpid"; wait "$dpid" 2>/dev/null; dpid=""
sleep 5
X="$OUT/board-browser-stale.png"
PYTHONPATH="$LIB" python3 "$LIB/board_page.py" shot "$tmp" "$X"
read -r w h ncolors red < <(python3 "$LIB/pngband.py" "$X" "$tmp/band.png")
python3 -c "import sys; sys.exit(0 if float('$red') > 0.5 else 1)" \
  && ok "a red banner runs across the top ($red of it red)" || bad "no red banner (red share $red)"
tesseract "$tmp/band.png" "$tmp/x" -l eng > /dev/null 2>&1
grep -qi "stale since [0-9][0-9]:[0-9][0-9]:[0-9][0-9]" "$tmp/x.txt" && ok "banner: data stale since HH:MM:SS" || bad "OCR stale: $(head -3 "$tmp/x.txt" | tr '\n' ' ')"
grep -qi "disconnected" "$tmp/x.txt" && ok "banner says the link is down" || bad "OCR: no 'disconnected'"

[ $fail -eq 0 ] && echo "browser board: all passed" || echo "browser board: FAILED"
exit $fail
