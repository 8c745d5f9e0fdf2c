# Helpers of the board scripts (wallboard_screenshot.sh, relay_board.sh), sourced: free loopback
# ports, a demo site's config, and waiting for a daemon's /metrics.

free_ports() {  # free_ports N: N ports the kernel hands out now, on one line
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
PY
}

site_config() {  # site_config SITE FEED PUB CTL HTTP: the config of a daemon on those ports
  printf '[general]\nsite = "%s"\n[listen]\nfeed = "tcp://127.0.0.1:%s"\npublish = "tcp://127.0.0.1:%s"\ncontrol = "tcp://127.0.0.1:%s"\nmetrics = "127.0.0.1:%s"\n' "$@"
}

wait_http() {  # wait_http PORT: until /metrics answers there (10 s)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$1/metrics" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
