#!/usr/bin/env bash
# End to end through the real daemon: a loopback "Asterisk" (a python3 TCP server sending the
# recorded story bytes) -> callwatchd's AMI feed thread -> engine -> /metrics over HTTP.
# The story (tests/data/story/, same numbers as feeds_story_test): 4 calls in queue "sales":
# offered 4 = answered 2 + abandoned 1 (short) + timed out 1; answered within SL 1.
set -euo pipefail
BIN=${1:?bin dir}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ami=$(port); http=$(port); feed=$(port); pub=$(port); ctl=$(port)

python3 - "$ami" tests/data/story/story.ami <<'PY' &
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
story = open(path, "rb").read()
banner_end = story.index(b"\r\n") + 2
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
conn, _ = srv.accept()
conn.sendall(story[:banner_end])
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = conn.recv(4096)
    if not chunk: sys.exit(1)
    buf += chunk
rest = story[banner_end:]
for i in range(0, len(rest), 7):      # awkward 7-byte writes
    conn.sendall(rest[i:i + 7])
time.sleep(60)                          # hold the connection open (the feed stays up)
PY
pids+=($!)

printf 'username = callwatch\nsecret = s3cr3t\n' > "$tmp/ami.cred"
chmod 600 "$tmp/ami.cred"
cat > "$tmp/cw.toml" <<TOML
[listen]
feed = "tcp://127.0.0.1:$feed"
publish = "tcp://127.0.0.1:$pub"
control = "tcp://127.0.0.1:$ctl"
metrics = "127.0.0.1:$http"

# The story is a recording (January 2026) played as a live PBX: open the window of times to it.
[engine]
max_event_age_seconds = 3155760000

[[queue]]
name = "sales"

[[feed]]
name = "pbx"
type = "ami"
address = "127.0.0.1:$ami"
credentials_file = "$tmp/ami.cred"
queues = ["sales"]
TOML
"$BIN/callwatchd" --check-config --config "$tmp/cw.toml" >/dev/null
"$BIN/callwatchd" --config "$tmp/cw.toml" > "$tmp/daemon.log" 2>&1 &
pids+=($!)

value() { grep -E "^$1 " "$tmp/m.txt" | awk '{print $2}'; }
for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$http/metrics" -o "$tmp/m.txt" &&
     [ "$(value 'callwatch_queue_calls_offered_total\{queue="sales"\}')" = "4" ]; then break; fi
  sleep 0.2
done
fail() { echo "FAIL: $1"; echo "--- daemon log"; tail -20 "$tmp/daemon.log"; exit 1; }
[ "$(value 'callwatch_queue_calls_offered_total\{queue="sales"\}')" = "4" ] || fail "offered != 4"
[ "$(value 'callwatch_queue_calls_answered_total\{queue="sales"\}')" = "2" ] || fail "answered != 2"
[ "$(value 'callwatch_queue_calls_abandoned_total\{queue="sales"\}')" = "1" ] || fail "abandoned != 1"
[ "$(value 'callwatch_queue_calls_short_abandoned_total\{queue="sales"\}')" = "1" ] || fail "short != 1"
[ "$(value 'callwatch_queue_calls_timed_out_total\{queue="sales"\}')" = "1" ] || fail "timed out != 1"
[ "$(value 'callwatch_feed_up\{feed="pbx"\}')" = "1" ] || fail "feed pbx not up"
promtool check metrics < "$tmp/m.txt" >/dev/null 2>&1 || promtool check metrics < "$tmp/m.txt"
grep -q "s3cr3t" "$tmp/daemon.log" && fail "the AMI secret appears in the log"
echo "daemon ami feed ok"
