#!/usr/bin/env bash
# What a real Asterisk wrote (tests/data/asterisk/, recorded with tests/lab/asterisk/astlab.py,
# provenance in tests/data/asterisk/PROVENANCE.md), replayed with `callwatchd report` in both
# formats, against figures worked out by hand from the queue_log lines (read them beside this).
# $1 = the bin dir holding callwatchd.
set -u
BIN=${1:-build/bin}
DATA=tests/data/asterisk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for story in day-tson day-tsoff restart-tson restart-tsoff; do
  for fmt in queue_log ami; do
    f=$DATA/$story/$fmt; [ "$fmt" = ami ] && f=$DATA/$story/ami.raw
    "$BIN/callwatchd" report --format "$fmt" --config "$DATA/callwatch.toml" --json "$f" \
        > "$tmp/$story-$fmt.json" 2> "$tmp/$story-$fmt.err"
    rc=$?
    if [ $rc -ne 0 ]; then echo "FAIL  report $story $fmt: exit $rc"; cat "$tmp/$story-$fmt.err"; fail=1; fi
  done
done
[ $fail -eq 0 ] || exit 1

python3 - "$tmp" <<'PY'
import sys
sys.path.insert(0, "tests/lab")
from labcheck import Checker
c = Checker(sys.argv[1])
load = c.load


def queue(r, story, fmt, name, **want):
    c.queue(r, f"{story} {fmt}", name, **want)


def agent(r, story, fmt, name, paused=None, tol=None, **want):
    # AMI pauses are always checked (null is a value: a capture without Timestamp headers).
    if paused is None and fmt != "ami":
        c.agent(r, f"{story} {fmt}", name, **want)
    else:
        c.agent(r, f"{story} {fmt}", name, paused=paused, tol=tol, **want)


check = c.check

# ---- day: every outcome ------------------------------------------------------------------------
# Times in seconds from the first line (QUEUESTART). The two runs of the story differ where the
# sub-second start fell: values are given as tson / tsoff.
# sales (T=5, S=4):
#   c1  CONNECT alice wait 1, COMPLETEAGENT talk 8 / 9                   answered, within T
#   c3  ABANDON wait 3 / 2                                               abandoned, short (< 4), within T
#   c4  CONNECT alice wait 9, COMPLETEAGENT talk 5 / 4                   answered, outside T (9 > 5)
#   c5  EXITWITHTIMEOUT wait 6                                           timed out
#   c6  EXITWITHKEY 5, wait 4 / 3                                        exited with a key
#   c9  CONNECT alice wait 1, BLINDTRANSFER talk 2 / 1                   answered, within T
#   offered 6 = 3 + 1 + 1 + 1; A_T 2, Ab_T 1, short 1. SL answered 2/3; offered 2/(6-1);
#   abandons_positive (2+1-1)/(6-1); abandons_ignored 2/(6-1). ASA (1+9+1)/3;
#   AHT (8+5+2)/3 = 5 / (9+4+1)/3 = 4.667; max wait 9.
# support (T=20, S=8; ring-all carol + dave, erin added at 13/14 and removed at 26):
#   c2  CONNECT carol wait 2, talk 6 / 5 (dave rung too: "answered elsewhere", no line at all)
#   c7  ENTERQUEUE and EXITEMPTY in one second (carol and dave paused; leavewhenempty=yes) wait 0
#   c8  RINGNOANSWER erin, carol, dave 4000 ms; CONNECT dave wait 6 (his second ring), talk 6 / 5
#   c10 rings carol and dave, hangs up: RINGCANCELED x2 (not ring-no-answers), ABANDON wait 2 / 1
#   offered 4 = 2 answered + 1 abandoned (short) + 1 empty; A_T 2, Ab_T 1. SL answered 2/2,
#   offered 2/(4-1), positive (2+1-1)/(4-1), ignored 2/(4-1). ASA (2+6)/2 = 4; AHT 6 / 5; max 6.
# billing (T=20, S=8): c12 waits for frank (paused all along) and hangs up: ABANDON wait 14 / 13,
#   long; offered 1; SL answered null (no answer), offered 0/1, positive (0+1-0)/1, ignored 0/0.
# Agents (queue_log, whole seconds; the input ends at 33):
#   alice 3 answered, talk 8+5+2 = 15 / 9+4+1 = 14; PAUSEALL lunch 30 -> end 33: 3 s
#   bob   PAUSE training 0 -> UNPAUSE 33: 33 s
#   carol 1 answered, 1 ring-no-answer, talk 6 / 5; PAUSE lunch at 9, the line before her
#         COMPLETEAGENT in the same second (counted from the call's end, 9) -> 13: 4 s
#   dave  1 answered, 1 ring-no-answer, talk 6 / 5; PAUSEALL break 9 -> UNPAUSEALL 13 (4 s) +
#         PAUSE notes at 21 during his call (CONNECT at 20), counted from its end 26 -> 29: 3 s = 7
#   erin  1 ring-no-answer, nothing else; frank PAUSE meeting 0 -> end 33: 33 s
# AMI (same run, its own events): the same counts, waits and talk (HoldTime/TalkTime are whole
# seconds); pauses timed to the microsecond, within 1 s of the above with Timestamp headers and
# null without (METRICS.md: a capture without them does not say how long a pause lasted).
for story in ("day-tson", "day-tsoff"):
    on = story.endswith("tson")
    for fmt in ("queue_log", "ami"):
        r = load(story, fmt)
        untimed = fmt == "ami" and not on
        queue(r, story, fmt, "sales", offered=6, answered=3, abandoned=1, short_abandoned=1,
              timed_out=1, exited_empty=0, exited_key=1, answered_within_sl=2,
              abandoned_within_sl=1, asa_seconds=3.667, aht_seconds=5.0 if on else 4.667,
              sl_answered=0.6667, sl_offered=0.4, sl_abandons_positive=0.4,
              sl_abandons_ignored=0.4)
        if not untimed:
            queue(r, story, fmt, "sales", max_wait_seconds=9)
            queue(r, story, fmt, "support", max_wait_seconds=6)
            queue(r, story, fmt, "billing", max_wait_seconds=14 if on else 13)
        queue(r, story, fmt, "support", offered=4, answered=2, abandoned=1, short_abandoned=1,
              exited_empty=1, timed_out=0, exited_key=0, answered_within_sl=2,
              abandoned_within_sl=1, asa_seconds=4.0, aht_seconds=6.0 if on else 5.0,
              sl_answered=1.0, sl_offered=0.6667, sl_abandons_positive=0.6667,
              sl_abandons_ignored=0.6667)
        queue(r, story, fmt, "billing", offered=1, answered=0, abandoned=1, short_abandoned=0,
              abandoned_within_sl=1, asa_seconds=None, aht_seconds=None, sl_answered=None,
              sl_offered=0.0, sl_abandons_positive=1.0, sl_abandons_ignored=None)
        tol = None if fmt == "queue_log" else 1.0
        def p(v):
            return None if untimed else v
        agent(r, story, fmt, "alice", answered=3, ring_noanswer=0, talk_seconds=15 if on else 14,
              paused=p(3), tol=tol)
        agent(r, story, fmt, "bob", answered=0, ring_noanswer=0, paused=p(33), tol=tol)
        agent(r, story, fmt, "carol", answered=1, ring_noanswer=1, talk_seconds=6 if on else 5,
              paused=p(4), tol=tol)
        agent(r, story, fmt, "dave", answered=1, ring_noanswer=1, talk_seconds=6 if on else 5,
              paused=p(7), tol=tol)
        agent(r, story, fmt, "erin", answered=0, ring_noanswer=1, talk_seconds=0, paused=p(0), tol=tol)
        agent(r, story, fmt, "frank", answered=0, paused=p(33), tol=tol)
        check(f"{story} {fmt} rejected", r["data_quality"]["rejected"], 0)
        if fmt == "queue_log":
            check(f"{story} {fmt} events (non-blank lines)", r["data_quality"]["events"], 48)

# ---- restart: core stop now with a call in talk, a caller waiting, bob paused ----------------
# queue_log (restart-tson; the tsoff run, 20 s later, differs where noted):
#   874 QUEUESTART; bob PAUSE training
#   r1  ENTERQUEUE 875, CONNECT alice wait 1; r2 ENTERQUEUE 877
#   879 (core stop now) ABANDON r2 wait 2 (tsoff: 3); COMPLETEAGENT r1 talk 3
#   881 QUEUESTART: the restart ends bob's pause (Asterisk brings static members back unpaused
#       and writes no UNPAUSE: bob answers r3 below)
#   884 alice PAUSEALL lunch; r3 ENTERQUEUE 886, CONNECT bob wait 1, COMPLETEAGENT 890 talk 3 (tsoff: 4);
#   891 alice UNPAUSEALL
# sales (T=5, S=4): offered 3 = 2 answered + 1 abandoned (short, as the PBX says: ABANDON);
#   A_T 2, Ab_T 1. SL answered 2/2, offered 2/(3-1), positive (2+1-1)/(3-1), ignored 2/(3-1).
#   ASA (1+1)/2 = 1, AHT (3+3)/2 = 3 (tsoff: (3+4)/2 = 3.5), max wait 2 (tsoff: 3).
# bob: paused 874 -> 881 (queue_log: the QUEUESTART) = 7 s; 1 answered, talk 3 (tsoff: 4).
#   AMI: the pause ends at the first sign of the restart, Asterisk's `Event: Shutdown`
#   (880.67, a second after the last call event; bob's pause began at 874.57): 6.1 s.
# alice: 1 answered, talk 3, paused 884 -> 891 = 7 s.
for story in ("restart-tson", "restart-tsoff"):
    for fmt in ("queue_log", "ami"):
        r = load(story, fmt)
        untimed = fmt == "ami" and story.endswith("tsoff")
        tsoff = story.endswith("tsoff")
        queue(r, story, fmt, "sales", offered=3, answered=2, abandoned=1, short_abandoned=1,
              timed_out=0, answered_within_sl=2, abandoned_within_sl=1, asa_seconds=1.0,
              aht_seconds=3.5 if tsoff else 3.0, sl_answered=1.0, sl_offered=1.0, sl_abandons_positive=1.0,
              sl_abandons_ignored=1.0)
        if not untimed:
            queue(r, story, fmt, "sales", max_wait_seconds=3 if tsoff else 2)
        tol = None if fmt == "queue_log" else 0.5
        bob = None if untimed else (7 if fmt == "queue_log" else 6.1)
        alice = None if untimed else 7
        agent(r, story, fmt, "bob", answered=1, talk_seconds=4 if tsoff else 3, paused=bob, tol=tol)
        agent(r, story, fmt, "alice", answered=1, talk_seconds=3, paused=alice, tol=tol)
        check(f"{story} {fmt} rejected", r["data_quality"]["rejected"], 0)
        w = " ".join(r["data_quality"]["warnings"])
        if fmt == "queue_log":
            check(f"{story} {fmt} two starts, the second a restart, warned", "restart" in w, True)

sys.exit(c.done("asterisk fixtures"))
PY
