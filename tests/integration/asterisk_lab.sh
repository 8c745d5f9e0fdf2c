#!/usr/bin/env bash
# The real-Asterisk lab tests: builds the lab Asterisk once (tests/lab/asterisk/build-asterisk.sh,
# cached by the tarball's checksum) and runs the live end-to-end cases of asterisk_live_test.cpp.
#
# Where the Asterisk comes from, first match wins:
#   CALLWATCH_ASTERISK_BIN      an asterisk binary you already have (its modules and data where
#                               a normal install puts them: /usr/lib/asterisk, /var/lib/asterisk)
#   CALLWATCH_ASTERISK_TARBALL  a source tarball (default ../shared/lab/asterisk/asterisk-src.tar.xz)
# The build goes to CALLWATCH_LAB_CACHE (default: BUILD/lab/asterisk).
# Without either the test is skipped (exit 77) and says what it needs.
# $1 = the bin dir holding callwatchd (BUILD/bin).
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
BUILD=$(dirname "$BIN")
ROOT=$(pwd)
LAB=$ROOT/tests/lab/asterisk
export CALLWATCH_LAB_DIR=$LAB

if [ -n "${CALLWATCH_ASTERISK_BIN:-}" ]; then
  [ -x "$CALLWATCH_ASTERISK_BIN" ] || { echo "CALLWATCH_ASTERISK_BIN=$CALLWATCH_ASTERISK_BIN is not executable"; exit 1; }
  export CALLWATCH_LAB_ASTERISK_BIN=$CALLWATCH_ASTERISK_BIN
  echo "lab: your Asterisk $CALLWATCH_ASTERISK_BIN"
else
  tarball=${CALLWATCH_ASTERISK_TARBALL:-$ROOT/../shared/lab/asterisk/asterisk-src.tar.xz}
  if [ ! -r "$tarball" ]; then
    echo "SKIP: the real-Asterisk lab tests need an Asterisk: the source tarball $tarball"
    echo "      (set CALLWATCH_ASTERISK_TARBALL) or a binary (set CALLWATCH_ASTERISK_BIN)."
    exit 77
  fi
  cache=${CALLWATCH_LAB_CACHE:-$BUILD/lab/asterisk}
  tree=$("$LAB/build-asterisk.sh" "$tarball" "$cache")
  export CALLWATCH_LAB_ASTERISK_ROOT=$tree/root
  echo "lab: Asterisk built from $tarball in $tree ($(grep '^seconds=' "$tree/stamp" | cut -d= -f2) s to build)"
fi
exec "$BUILD/tests/integration_tests" "[.asterisk_lab]" --reporter compact
