#!/usr/bin/env bash
# The C++ sources the browser board is compiled from that Debian ships as source only: Dear ImGui
# (libimgui-dev has headers and a native library) and simdjson (its singleheader simdjson.cpp).
# Fetched with `apt-get source` from the machine's own Debian mirrors, through a deb-src list
# made for this call alone (the system's apt sources stay as they are), into a cache kept outside
# the clone, so a machine fetches them once. Prints "IMGUI_DIR SIMDJSON_DIR".
set -euo pipefail
CACHE=${1:-${CALLWATCH_WEB_CACHE:-$HOME/.cache/callwatch-web}}
mkdir -p "$CACHE"
find_src() { find "$CACHE" -maxdepth 1 -type d -name "$1-*" | sort | tail -n 1; }
imgui=$(find_src imgui); simdjson=$(find_src simdjson)
if [ -z "$imgui" ] || [ -z "$simdjson" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/parts" "$tmp/lists/partial"
  # deb-src twins of the machine's deb entries (deb822 .sources and one-line .list files).
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -E 's/^Types:.*/Types: deb-src/' "$f" > "$tmp/parts/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -nE 's/^deb (.*)/deb-src \1/p' "$f" > "$tmp/parts/$(basename "$f" .list)-src.list"
  done
  apt_src=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/parts"
           -o "Dir::State::Lists=$tmp/lists" -o "Debug::NoLocking=1")
  apt-get "${apt_src[@]}" update >&2
  (cd "$CACHE" && apt-get "${apt_src[@]}" source imgui simdjson >&2)
  imgui=$(find_src imgui); simdjson=$(find_src simdjson)
fi
[ -f "$imgui/imgui.cpp" ] && [ -f "$simdjson/singleheader/simdjson.cpp" ] || {
  echo "fetch-web-sources: no imgui.cpp or simdjson.cpp under $CACHE" >&2; exit 1; }
echo "$imgui $simdjson"
