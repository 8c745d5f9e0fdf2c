#!/usr/bin/env bash
# Builds the lab FreeSWITCH (spandsp, sofia-sip, then FreeSWITCH with only the modules a queue lab
# needs: mod_callcenter, mod_event_socket, loopback channels, no SIP profile) once per machine.
#
#   tests/lab/freeswitch/build-freeswitch.sh SRC_DIR [CACHE_DIR]
#
# SRC_DIR holds freeswitch-src.tar.xz, spandsp-src.tar.xz and sofia-sip-src.tar.xz. The result
# goes to CACHE_DIR/<first 16 hex of the sha256 of the three>/ (default CACHE_DIR:
# ${XDG_CACHE_HOME:-~/.cache}/callwatch-lab/freeswitch, outside any clone, so a clean clone on the
# same machine finds it again). Prints that folder (holding prefix/ and stamp) on success.
set -euo pipefail

src=${1:?usage: build-freeswitch.sh SRC_DIR [CACHE_DIR]}
cache=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/callwatch-lab/freeswitch}
for t in freeswitch spandsp sofia-sip; do
  [ -r "$src/$t-src.tar.xz" ] || { echo "build-freeswitch: no $src/$t-src.tar.xz" >&2; exit 3; }
done
sum=$(cat "$src"/freeswitch-src.tar.xz "$src"/spandsp-src.tar.xz "$src"/sofia-sip-src.tar.xz |
  sha256sum | cut -c1-16)
out="$cache/$sum"
if [ -f "$out/stamp" ] && [ -x "$out/prefix/fs/bin/freeswitch" ]; then
  echo "$out"
  exit 0
fi

# Two builds of the same tree at once (two test runs) would trample each other: one waits.
mkdir -p "$cache"
exec 9>"$cache/.lock-$sum"
flock 9
if [ -f "$out/stamp" ] && [ -x "$out/prefix/fs/bin/freeswitch" ]; then
  echo "$out"
  exit 0
fi

rm -rf "$out"
mkdir -p "$out/src"
P="$out/prefix"
log="$out/build.log"
jobs=$(nproc)
echo "build-freeswitch: building into $out (log $log; about 8 minutes on 2 cores)" >&2
start=$(date +%s)
step() { echo "== $*" >>"$log"; }
{
  for t in spandsp sofia-sip freeswitch; do
    mkdir -p "$out/src/$t"
    tar -xJf "$src/$t-src.tar.xz" -C "$out/src/$t"
  done
  step spandsp
  (cd "$out/src/spandsp" && ./bootstrap.sh && ./configure --prefix="$P" && make -j"$jobs" && make install)
  step sofia-sip
  (cd "$out/src/sofia-sip" && ./bootstrap.sh && ./configure --prefix="$P" --without-glib &&
    make -j"$jobs" && make install)
  # Their .pc files say 3.0.0 / 1.13.17; FreeSWITCH's configure asks for 3.1.1 / 1.13.18. The lab
  # modules build and run with these trees, so the version lines are raised.
  sed -i 's/^Version:.*/Version: 3.1.1/' "$P/lib/pkgconfig/spandsp.pc"
  sed -i 's/^Version:.*/Version: 1.13.18/' "$P/lib/pkgconfig/sofia-sip-ua.pc"
  step freeswitch
  cd "$out/src/freeswitch"
  ./bootstrap.sh -j
  cat >modules.conf <<'MODS'
loggers/mod_console
loggers/mod_logfile
event_handlers/mod_event_socket
applications/mod_commands
applications/mod_dptools
applications/mod_callcenter
applications/mod_hash
endpoints/mod_loopback
dialplans/mod_dialplan_xml
formats/mod_tone_stream
formats/mod_local_stream
formats/mod_sndfile
codecs/mod_spandsp
MODS
  PKG_CONFIG_PATH="$P/lib/pkgconfig" ./configure --prefix="$P/fs" --disable-libvpx --disable-libyuv \
    --without-python3
  make -j"$jobs"
  make install
} >>"$log" 2>&1 || { echo "build-freeswitch: build failed, see $log" >&2; tail -n 30 "$log" >&2; exit 1; }
rm -rf "$out/src"
printf 'sources_sha256_16=%s\nbuilt=%s\nseconds=%s\n' "$sum" "$(date -u +%FT%TZ)" \
  "$(( $(date +%s) - start ))" >"$out/stamp"
echo "$out"
