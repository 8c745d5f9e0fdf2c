#!/usr/bin/env bash
# callwatchd --check-config: the shipped example passes; a bad file fails fast naming file and line.
set -euo pipefail
BIN=${1:?bin dir}
"$BIN/callwatchd" --check-config --config config/callwatch.toml | grep -q '^OK: '
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/bad.toml" <<'TOML'
[general]
timezone = "UTC"

[[queue]]
name = "sales"
sl_target = 1.5
TOML
set +e
"$BIN/callwatchd" --check-config --config "$tmp/bad.toml" 2> "$tmp/err"; rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc"; exit 1; }
# sl_target is on line 6 of the file above.
grep -q "bad.toml:6:" "$tmp/err" || { echo "error does not name line 6:"; cat "$tmp/err"; exit 1; }
printf '[general]\ntimzone = "UTC"\n' > "$tmp/typo.toml"
set +e; "$BIN/callwatchd" --check-config --config "$tmp/typo.toml" 2> "$tmp/err2"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q "typo.toml:2:.*timzone" "$tmp/err2" || { echo "unknown key not named"; cat "$tmp/err2"; exit 1; }
# A daemon started with a bad config exits at once with the same message.
set +e; timeout 10 "$BIN/callwatchd" --config "$tmp/bad.toml" 2> "$tmp/err3"; rc=$?; set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "bad.toml:6:" "$tmp/err3" || { echo "daemon did not fail fast (rc $rc)"; cat "$tmp/err3"; exit 1; }
echo "check-config ok"
