#!/usr/bin/env bash
# What a real FreeSWITCH (mod_callcenter) sent over its event socket (tests/data/freeswitch/,
# recorded with tests/lab/freeswitch/fslab.py, provenance in tests/data/freeswitch/PROVENANCE.md),
# replayed with `callwatchd report --format esl`, against figures worked out by hand from the
# events (times below: seconds from the first event; CC-*-Time headers are whole epoch seconds).
# $1 = the bin dir holding callwatchd.
set -u
BIN=${1:-build/bin}
DATA=tests/data/freeswitch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for story in day restart; do
  "$BIN/callwatchd" report --format esl --config "$DATA/callwatch.toml" --json "$DATA/$story/esl.raw" \
      > "$tmp/$story-esl.json" 2> "$tmp/$story-esl.err"
  rc=$?
  if [ $rc -ne 0 ]; then echo "FAIL  report $story: exit $rc"; cat "$tmp/$story-esl.err"; exit 1; fi
done

python3 - "$tmp" <<'PY'
import sys
sys.path.insert(0, "tests/lab")
from labcheck import Checker
c = Checker(sys.argv[1])

# ---- day ---------------------------------------------------------------------------------------
# sales (longest-idle, alice + bob; T=5, S=4); bob On Break 0 -> 14:
#   c1  joined 0.5, bridge-agent-start alice (Joined 1 s before Answered): wait 1; bridge-agent-end
#       6 s later: talk 6                                                answered, within T
#   c3  joined 2, member-queue-end Cancel/BREAK_OUT at 5 (hung up): wait 3    abandoned, short
#   c5  joined 4, presses 5 (cc_exit_keys) at 7: Cancel/EXIT_WITH_KEY, wait 3  exited with a key
#   c6  joined 12, alice rings 6 s (leg_timeout) with no answer: bridge-agent-fail
#       ALLOTTED_TIMEOUT = a ring-no-answer; then bob (available since 14) answers at 20: wait 8,
#       talk 3                                                           answered, outside T
#   offered 4 = 2 + 1 + 1; A_T 1, Ab_T 1, short 1. SL answered 1/2; offered 1/(4-1);
#   positive (1+1-1)/(4-1); ignored 1/(4-1). ASA (1+8)/2 = 4.5; AHT (6+3)/2 = 4.5; max wait 8.
# support (ring-all carol + dave; T=20): c2 offered to both at 1.1; carol answers at 3.1 (wait 2,
#   talk 5); dave's leg ends bridge-agent-fail LOSE_RACE: not his fault, no ring-no-answer.
#   offered 1 = answered 1, within T. All four SL formulas 1/1.
# billing (frank On Break all along, max-wait-time 8): c4 joined 3, Cancel/TIMEOUT at 11: wait 8.
#   offered 1 = timed out 1: SL answered null, offered 0/1, positive 0/1, ignored 0/(1-0).
# Agents: alice 1 answered, 1 ring-no-answer, talk 6; bob 1 answered, talk 3, paused 0 -> 14;
#   carol 1 answered, talk 5, On Break 24 -> 28: 4 s; dave nothing; frank On Break 0 -> the last
#   event (28.5): 28 s.
r = c.load("day", "esl")
L = "day esl"
c.queue(r, L, "sales", offered=4, answered=2, abandoned=1, short_abandoned=1, timed_out=0,
        exited_empty=0, exited_key=1, answered_within_sl=1, abandoned_within_sl=1,
        asa_seconds=4.5, aht_seconds=4.5, max_wait_seconds=8, sl_answered=0.5,
        sl_offered=0.3333, sl_abandons_positive=0.3333, sl_abandons_ignored=0.3333)
c.queue(r, L, "support", offered=1, answered=1, abandoned=0, answered_within_sl=1,
        asa_seconds=2, aht_seconds=5, max_wait_seconds=2, sl_answered=1.0, sl_offered=1.0,
        sl_abandons_positive=1.0, sl_abandons_ignored=1.0)
c.queue(r, L, "billing", offered=1, answered=0, abandoned=0, timed_out=1, max_wait_seconds=8,
        sl_answered=None, sl_offered=0.0, sl_abandons_positive=0.0, sl_abandons_ignored=0.0)
c.agent(r, L, "alice", answered=1, ring_noanswer=1, talk_seconds=6, paused=0, tol=0.01)
c.agent(r, L, "bob", answered=1, ring_noanswer=0, talk_seconds=3, paused=14, tol=0.1)
c.agent(r, L, "carol", answered=1, ring_noanswer=0, talk_seconds=5, paused=4, tol=0.1)
c.agent(r, L, "dave", answered=0, ring_noanswer=0, talk_seconds=0, paused=0, tol=0.01)
c.agent(r, L, "frank", answered=0, paused=28, tol=0.6)
c.check(f"{L} rejected", r["data_quality"]["rejected"], 0)

# ---- restart: fsctl shutdown with alice bridged (r1), r2 waiting, bob On Break ------------------
#   r1  joined 0.5, alice answers: wait 1 (Joined 230, Answered 231); the shutdown ends the
#       bridge at 235: talk 4, member-queue-end Terminated
#   r2  joined 4 (233), the shutdown ends it Cancel/BREAK_OUT at 235: wait 2, abandoned, short
#   the connection drops; FreeSWITCH starts again: a new auth/request, the agents back as the XML
#   says (Available; bob's break is over with no event: he takes r3)
#   r3  joined 13 (242), bob answers at 243: wait 1; talk 3 (246)
# sales (T=5, S=4): offered 3 = 2 answered + 1 abandoned (short); A_T 2, Ab_T 1. SL answered 2/2,
#   offered 2/(3-1), positive (2+1-1)/(3-1), ignored 2/(3-1). ASA 1; AHT (4+3)/2 = 3.5; max wait 2.
# bob: On Break from 0 until the connection dropped (METRICS.md: the first sign of the restart),
#   5.82 s after the first event; alice On Break 12 -> 19: 7 s.
r = c.load("restart", "esl")
L = "restart esl"
c.queue(r, L, "sales", offered=3, answered=2, abandoned=1, short_abandoned=1, timed_out=0,
        answered_within_sl=2, abandoned_within_sl=1, asa_seconds=1, aht_seconds=3.5,
        max_wait_seconds=2, sl_answered=1.0, sl_offered=1.0, sl_abandons_positive=1.0,
        sl_abandons_ignored=1.0)
c.agent(r, L, "alice", answered=1, talk_seconds=4, paused=7, tol=0.1)
c.agent(r, L, "bob", answered=1, talk_seconds=3, paused=5.82, tol=0.1)
c.check(f"{L} rejected", r["data_quality"]["rejected"], 0)
sys.exit(c.done("freeswitch fixtures"))
PY
