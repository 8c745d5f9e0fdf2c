#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   ./callwatch.sh demo    install, build, run the daemon with its simulator and the wallboard
#   ./callwatch.sh test    install, build, run every test (what CI runs)
#   ./callwatch.sh build   install and build only
#   ./callwatch.sh bench   install, build, run callwatch-bench
#   ./callwatch.sh package install, build, write the Debian packages into build/
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD=${CALLWATCH_BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}

PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl python3 ca-certificates
  libzmq3-dev cppzmq-dev libimgui-dev libglfw3-dev libgl-dev libgl1-mesa-dri libstb-dev
  prometheus-cpp-dev libmicrohttpd-dev zlib1g-dev catch2 libtomlplusplus-dev libsimdjson-dev
  libspdlog-dev libfmt-dev libcli11-dev libsqlitecpp-dev libsqlite3-dev libexpected-dev
  libssl-dev dpkg-dev
  # the browser board (wallboard/web): Emscripten, and Chromium for its test
  emscripten chromium
  xvfb xauth tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim fonts-noto-cjk fonts-dejavu-core
  prometheus prometheus-alertmanager gnuplot-nox lintian help2man
  # the real-Asterisk lab (tests/lab/asterisk): Asterisk's own build dependencies
  libjansson-dev libedit-dev uuid-dev libxml2-dev libssl-dev libncurses-dev
  # the real-FreeSWITCH lab (tests/lab/freeswitch): FreeSWITCH's, spandsp's and sofia-sip's
  autoconf automake libtool libtool-bin libtiff-dev libjpeg-dev libcurl4-openssl-dev libpcre2-dev
  libspeex-dev libspeexdsp-dev libldns-dev yasm nasm libopus-dev libsndfile1-dev
)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    sudo_if_needed apt-get update
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  # The Debian prometheus package starts a server on :9090 at install; tests start their own.
  for unit in prometheus prometheus-alertmanager; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
      sudo_if_needed systemctl stop "$unit" || true
    fi
  done
}

# The browser board's ImGui and simdjson sources (Debian source packages, cached outside the
# clone): as cmake arguments, or none (and a note) when emscripten or the fetch is missing.
web_board_args() {
  command -v emcmake >/dev/null 2>&1 || { echo "==> no emscripten: the browser board is not built" >&2; return 0; }
  local dirs
  if dirs=$("$ROOT/cmake/fetch-web-sources.sh"); then
    read -r imgui simdjson <<<"$dirs"
    echo "-DCALLWATCH_IMGUI_SRC=$imgui -DCALLWATCH_SIMDJSON_SRC=$simdjson"
  else
    echo "==> could not fetch the ImGui/simdjson sources: the browser board is not built" >&2
  fi
}

build() {
  install_packages
  # shellcheck disable=SC2046
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE="${CALLWATCH_BUILD_TYPE:-Release}" \
    $(web_board_args) >/dev/null
  cmake --build "$BUILD" -j "$JOBS"
}

metrics_port() { echo "${CALLWATCH_DEMO_PORT:-9747}"; }

demo() {
  build
  local port; port=$(metrics_port)
  local log="$BUILD/demo-daemon.log"
  "$BUILD/bin/callwatchd" --demo --web.listen-address="127.0.0.1:$port" >"$log" 2>&1 &
  DEMO_PID=$!
  local dpid=$DEMO_PID
  trap 'kill "$DEMO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "==> callwatchd --demo is running (pid $dpid, log $log)"
  echo "==> metrics:   http://127.0.0.1:$port/metrics"
  echo "==> wallboard: tcp://127.0.0.1:7702 (snapshots on tcp://127.0.0.1:7703)"
  if [ -x "$BUILD/bin/callwatch-wallboard" ]; then
    if [ -n "${DISPLAY:-}" ] && [ -z "${CALLWATCH_HEADLESS:-}" ]; then
      "$BUILD/bin/callwatch-wallboard" --connect tcp://127.0.0.1:7702 --control tcp://127.0.0.1:7703 --kiosk
    else
      sleep 5
      xvfb-run -a -s "-screen 0 1920x1080x24" "$BUILD/bin/callwatch-wallboard" \
        --connect tcp://127.0.0.1:7702 --control tcp://127.0.0.1:7703 --kiosk \
        --screenshot "$BUILD/demo-wallboard.png" --frames 90
      echo "==> no display: kiosk screenshot written to $BUILD/demo-wallboard.png"
    fi
  fi
  echo "==> sample of /metrics:"
  curl -fs "http://127.0.0.1:$port/metrics" | grep -E '^callwatch_queue_(calls_waiting|calls_offered_total|service_level_ratio\{.*today.*offered)' | head -20 || true
  if [ -z "${CALLWATCH_DEMO_ONESHOT:-}" ]; then
    echo "==> press Ctrl-C to stop"
    wait $dpid
  fi
}

# The lab Asterisk (tests/lab/asterisk) is built before the tests, not while they run: its
# two-core compile would slow the timed tests beside it. Cached by the tarball's checksum.
ASTERISK_TARBALL=${CALLWATCH_ASTERISK_TARBALL:-$ROOT/../shared/lab/asterisk/asterisk-src.tar.xz}
lab_asterisk() {
  if [ -n "${CALLWATCH_ASTERISK_BIN:-}" ]; then return 0; fi
  if [ ! -r "$ASTERISK_TARBALL" ]; then
    echo "==> no Asterisk source at $ASTERISK_TARBALL: the real-Asterisk lab tests will be skipped"
    return 0
  fi
  echo "==> lab Asterisk: $("$ROOT/tests/lab/asterisk/build-asterisk.sh" "$ASTERISK_TARBALL" \
    "${CALLWATCH_LAB_CACHE:-$BUILD/lab/asterisk}")"
}

# The lab FreeSWITCH (tests/lab/freeswitch), the same way; its build (minutes) is kept outside the
# clone (~/.cache/callwatch-lab), so a machine pays it once, not once per clean clone.
FREESWITCH_SRC=${CALLWATCH_FREESWITCH_SRC:-$ROOT/../shared/lab/freeswitch}
lab_freeswitch() {
  if [ ! -r "$FREESWITCH_SRC/freeswitch-src.tar.xz" ]; then
    echo "==> no FreeSWITCH sources in $FREESWITCH_SRC: the real-FreeSWITCH lab tests will be skipped"
    return 0
  fi
  echo "==> lab FreeSWITCH: $("$ROOT/tests/lab/freeswitch/build-freeswitch.sh" "$FREESWITCH_SRC" \
    ${CALLWATCH_LAB_FS_CACHE:+"$CALLWATCH_LAB_FS_CACHE"})"
}

test_all() {
  build
  lab_asterisk
  lab_freeswitch
  cd "$BUILD"
  # The wide seed sweep of the property test is its own target: ctest -L property_sweep.
  local rc=0
  # A test that fails is run once more (its first output is printed all the same): the live tests
  # time real daemons, PBXs, browsers and OCR on a shared 2-core machine, and one slow second there
  # must not hide the rest. A test that fails twice fails the run; grep the log for "Failed" to see
  # what needed its second try.
  ctest --output-on-failure -j "$JOBS" --timeout 900 -LE property_sweep --repeat until-pass:2 || rc=$?
  cd "$ROOT"
  # The four fuzzers, briefly (a minute in all; ./callwatch.sh fuzz for long runs).
  if [ -z "${CALLWATCH_NO_FUZZ:-}" ]; then
    FUZZ_SECONDS=${CI_FUZZ_SECONDS:-15} fuzz || rc=$?
  fi
  return $rc
}

# libFuzzer targets (tests/fuzz): clang build in build-fuzz, each target FUZZ_SECONDS (default
# 60). New inputs go to build-fuzz/fuzz/corpus_<target>; crashes are written there and fail.
fuzz() {
  install_packages
  local need=()
  for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    sudo_if_needed apt-get update
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  fi
  local dir=${CALLWATCH_FUZZ_BUILD_DIR:-$ROOT/build-fuzz} secs=${FUZZ_SECONDS:-60} rc=0
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCALLWATCH_FUZZ=ON -DCALLWATCH_WALLBOARD=OFF >/dev/null
  cmake --build "$dir" -j "$JOBS" --target fuzz_ami fuzz_esl fuzz_queue_log fuzz_native
  for t in ami esl queue_log native; do
    echo "==> fuzz_$t for ${secs} s"
    # shellcheck disable=SC2046
    (cd "$dir/fuzz" && ./fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "corpus_$t" $(cat "seeds_$t.txt")) 2>&1 | tail -n 15 || rc=1
  done
  return $rc
}

case "${1:-}" in
  demo) demo ;;
  test) test_all ;;
  build) build ;;
  bench) build; "$BUILD/bin/callwatch-bench" "${@:2}" ;;
  package) build; (cd "$BUILD" && cpack -G DEB) && ls -1 "$BUILD"/*.deb ;;
  fuzz) fuzz ;;
  *) echo "usage: $0 demo|test|build|bench|fuzz|package" >&2; exit 2 ;;
esac
