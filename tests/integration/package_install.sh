#!/usr/bin/env bash
# The Debian packages as an operator gets them: built with CPack (./callwatch.sh package does the
# same), checked by lintian (no error), installed with apt on this machine, the daemon started the
# way its unit starts it (the unit's ExecStart, as its User), scraped, then purged.
# Installs into the system: runs as root only (CI machines are), skipped otherwise.
# $1 = the bin dir (BUILD/bin).
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
BUILD=$(dirname "$BIN")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: installs packages system-wide: needs root"; exit 77; fi
if dpkg-query -W -f='${Status}' callwatchd 2>/dev/null | grep -q "install ok installed"; then
  echo "SKIP: a callwatchd package is installed on this machine already: not touching it"; exit 77
fi
WORK=$(mktemp -d /tmp/callwatch-pkg-XXXXXX)
DPID=""
cleanup() {
  local rc=$?
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get purge -y callwatchd callwatch-wallboard >/dev/null 2>&1 || true
  [ "$rc" -ne 0 ] && [ -f "$WORK/daemon.log" ] && tail -n 20 "$WORK/daemon.log"
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$BUILD" && cpack -G DEB -B "$WORK" >/dev/null)
D=$(ls "$WORK"/callwatchd_*_amd64.deb)
W=$(ls "$WORK"/callwatch-wallboard_*_amd64.deb)
echo "ok    built $(basename "$D") $(basename "$W")"

if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$D" "$W" 2>/dev/null | tee "$WORK/lintian.txt" || true
  if grep -q '^E:' "$WORK/lintian.txt"; then fail "lintian errors"; fi
  echo "ok    lintian: no error ($(grep -c '^W:' "$WORK/lintian.txt" || true) warnings)"
fi

DEBIAN_FRONTEND=noninteractive apt-get install -y "$D" "$W" >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "apt install"; }
for f in /usr/bin/callwatchd /usr/bin/callwatch-wallboard /etc/callwatch/callwatch.toml \
         /usr/lib/systemd/system/callwatchd.service /usr/lib/sysusers.d/callwatch.conf; do
  [ -e "$f" ] || fail "$f not installed"
done
dpkg-query -W -f='${Conffiles}\n' callwatchd | grep -q /etc/callwatch/callwatch.toml || fail "callwatch.toml is not a conffile"
getent passwd callwatch >/dev/null || fail "no system user callwatch"
[ "$(stat -c %U:%a /var/lib/callwatch)" = "callwatch:750" ] || fail "/var/lib/callwatch: $(stat -c %U:%a /var/lib/callwatch)"
[ "$(stat -c %G:%a /etc/callwatch/callwatch.toml)" = "callwatch:640" ] || fail "config: $(stat -c %G:%a /etc/callwatch/callwatch.toml)"
echo "ok    installed: binaries, unit, sysusers, conffile, user callwatch, /var/lib/callwatch"

# The unit's own command line and user.
unit=/usr/lib/systemd/system/callwatchd.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
[ "${exec_start%% *}" = /usr/bin/callwatchd ] || fail "ExecStart runs ${exec_start%% *}"
# shellcheck disable=SC2086
(cd /var/lib/callwatch && exec runuser -u "$user" -- $exec_start) >"$WORK/daemon.log" 2>&1 &
DPID=$!
port=$(sed -n 's/^metrics *= *"\(.*\)".*/\1/p' /etc/callwatch/callwatch.toml | head -1)
port=${port:-127.0.0.1:9747}
for _ in $(seq 1 50); do curl -fs "http://$port/metrics" -o "$WORK/m.txt" && break; sleep 0.2; done
grep -q '^callwatch_build_info' "$WORK/m.txt" || fail "no callwatch_build_info from http://$port/metrics"
pgrep -u "$user" -x callwatchd >/dev/null || fail "the daemon does not run as $user"
promtool check metrics <"$WORK/m.txt" >/dev/null 2>&1 || promtool check metrics <"$WORK/m.txt"
/usr/bin/callwatch-wallboard --help >/dev/null || fail "callwatch-wallboard --help"
echo "ok    $exec_start as $user: /metrics on $port ($(grep -c '^callwatch_' "$WORK/m.txt") samples)"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=""

DEBIAN_FRONTEND=noninteractive apt-get purge -y callwatchd callwatch-wallboard >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "apt purge"; }
for f in /usr/bin/callwatchd /usr/bin/callwatch-wallboard /etc/callwatch /var/lib/callwatch; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
echo "ok    purged: nothing left"
echo "package install ok"
