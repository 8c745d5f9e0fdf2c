#!/usr/bin/env bash
# Builds the lab Asterisk from the source tarball once and caches the installed tree.
#
#   tests/lab/asterisk/build-asterisk.sh TARBALL CACHE_DIR
#
# The tree goes to CACHE_DIR/<first 16 hex of the tarball's sha256>/root; a second call with
# the same tarball finds it there and returns at once (a new tarball builds a new tree). On
# success it prints the folder that holds `root/` and the stamp. Only the modules a queue lab
# needs are built: queues, dialplan, Local channels, timers, AMI; no SIP, no pjproject.
set -euo pipefail

tarball=${1:?usage: build-asterisk.sh TARBALL CACHE_DIR}
cache=${2:?usage: build-asterisk.sh TARBALL CACHE_DIR}
[ -r "$tarball" ] || { echo "build-asterisk: cannot read $tarball" >&2; exit 3; }

sum=$(sha256sum "$tarball" | cut -c1-16)
out="$cache/$sum"
if [ -f "$out/stamp" ] && [ -x "$out/root/usr/sbin/asterisk" ]; then
  echo "$out"
  exit 0
fi

modules=(
  app_queue pbx_config bridge_simple bridge_holding res_timing_timerfd func_logic func_strings
  func_channel func_callerid app_verbose app_stack res_musiconhold app_playback format_wav
  codec_ulaw app_senddtmf func_rand app_exec app_userevent chan_bridge_media
  res_manager_devicestate app_originate res_clioriginate app_dial app_read app_echo
  func_global app_transfer app_blindtransfer
)

src="$out/src"
rm -rf "$out"
mkdir -p "$src"
log="$out/build.log"
echo "build-asterisk: building into $out (log $log)" >&2
start=$(date +%s)
tar -xJf "$tarball" -C "$src"
(
  cd "$src"
  ./configure --without-pjproject-bundled --without-jansson-bundled --with-pjproject=no \
    >"$log" 2>&1 || { echo "configure failed" >>"$log"; exit 1; }
  make menuselect.makeopts >>"$log" 2>&1
  for cat in $(grep -o 'MENUSELECT_[A-Z_]*' menuselect-tree | sort -u); do
    menuselect/menuselect --disable-category "$cat" menuselect.makeopts >>"$log" 2>&1 || true
  done
  for m in "${modules[@]}"; do
    # Modules this tree does not have are skipped (the list spans a few Asterisk versions).
    menuselect/menuselect --enable "$m" menuselect.makeopts >>"$log" 2>&1 || echo "no module $m" >>"$log"
  done
  make -j"$(nproc)" >>"$log" 2>&1
  make install DESTDIR="$out/root" >>"$log" 2>&1
) || { echo "build-asterisk: build failed, see $log" >&2; tail -n 30 "$log" >&2; exit 1; }
strip --strip-unneeded "$out/root/usr/sbin/asterisk" "$out"/root/usr/lib/libasterisk* \
  "$out"/root/usr/lib/asterisk/modules/*.so 2>/dev/null || true
version=$(cat "$src/.version" 2>/dev/null || echo unknown)
rm -rf "$src"
printf 'tarball_sha256=%s\nversion=%s\nbuilt=%s\nseconds=%s\n' "$(sha256sum "$tarball" | cut -d' ' -f1)" \
  "$version" "$(date -u +%FT%TZ)" "$(( $(date +%s) - start ))" >"$out/stamp"
echo "$out"
