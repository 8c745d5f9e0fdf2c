#!/usr/bin/env bash
# The real-FreeSWITCH lab tests: builds the lab FreeSWITCH once per machine
# (tests/lab/freeswitch/build-freeswitch.sh, cached outside the clone by the sources' checksum)
# and runs the live end-to-end cases of pbx_lab_live_test.cpp.
#
#   CALLWATCH_FREESWITCH_SRC   folder of freeswitch-, spandsp- and sofia-sip-src.tar.xz
#                              (default ../shared/lab/freeswitch)
#   CALLWATCH_LAB_FS_CACHE     where the build is kept (default ~/.cache/callwatch-lab/freeswitch)
# Without the sources the test is skipped (exit 77) and says what it needs.
# $1 = the bin dir holding callwatchd (BUILD/bin).
set -euo pipefail
BIN=$(cd "${1:?bin dir}" && pwd)
BUILD=$(dirname "$BIN")
ROOT=$(pwd)
LAB=$ROOT/tests/lab/freeswitch
src=${CALLWATCH_FREESWITCH_SRC:-$ROOT/../shared/lab/freeswitch}
for t in freeswitch spandsp sofia-sip; do
  if [ ! -r "$src/$t-src.tar.xz" ]; then
    echo "SKIP: the real-FreeSWITCH lab tests need the sources freeswitch-, spandsp- and"
    echo "      sofia-sip-src.tar.xz in $src (set CALLWATCH_FREESWITCH_SRC)."
    exit 77
  fi
done
tree=$("$LAB/build-freeswitch.sh" "$src" ${CALLWATCH_LAB_FS_CACHE:+"$CALLWATCH_LAB_FS_CACHE"})
echo "lab: FreeSWITCH in $tree ($(grep '^seconds=' "$tree/stamp" | cut -d= -f2) s to build)"
export CALLWATCH_LAB_FS_DIR=$LAB CALLWATCH_LAB_FS_PREFIX=$tree/prefix
exec "$BUILD/tests/integration_tests" "[.freeswitch_lab]" --reporter compact
