#!/usr/bin/env python3
"""Writes the same call story as an Asterisk queue_log, an AMI capture (Asterisk 12+ names,
timestampevents=yes, CRLF) and a FreeSWITCH mod_callcenter ESL capture (plain events,
URL-encoded, exact Content-Length). The three must give identical KPIs (feeds_story_test).

Story, queue "sales", agents Alice and Bob, t0 = 1767600000 (2026-01-05 08:00:00 UTC):
  t0       Alice and Bob logged in, available
  c1  enters t0+10, rings Alice, answered by Alice t0+25 (wait 15), talk 120, caller hangs up t0+145
  c2  enters t0+30, rings Bob t0+31..t0+46 no answer (15000 ms), answered by Bob t0+75 (wait 45),
      talk 60, agent hangs up t0+135
  c3  enters t0+200, caller hangs up t0+203 (abandon, wait 3: short)
  c4  enters t0+300, queue timeout t0+360 (wait 60)
  Bob paused t0+400 .. t0+460 (60 s, no reason)
Run from this folder: python3 make_story.py
"""
import urllib.parse

T0 = 1767600000
C = {1: "1767600010.1", 2: "1767600030.2", 3: "1767600200.3", 4: "1767600300.4"}


def queue_log():
    L = [
        (0, "NONE", "Alice", "ADDMEMBER", ""),
        (0, "NONE", "Bob", "ADDMEMBER", ""),
        (10, C[1], "NONE", "ENTERQUEUE", "|5550001|1"),
        (25, C[1], "Alice", "CONNECT", "15|1767600025.11|15"),
        (30, C[2], "NONE", "ENTERQUEUE", "|5550002|1"),
        (46, C[2], "Bob", "RINGNOANSWER", "15000"),
        (75, C[2], "Bob", "CONNECT", "45|1767600075.12|15"),
        (135, C[2], "Bob", "COMPLETEAGENT", "45|60|1"),
        (145, C[1], "Alice", "COMPLETECALLER", "15|120|1"),
        (200, C[3], "NONE", "ENTERQUEUE", "|5550003|1"),
        (203, C[3], "NONE", "ABANDON", "1|1|3"),
        (300, C[4], "NONE", "ENTERQUEUE", "|5550004|1"),
        (360, C[4], "NONE", "EXITWITHTIMEOUT", "1|1|60"),
        (400, "NONE", "Bob", "PAUSE", ""),
        (460, "NONE", "Bob", "UNPAUSE", ""),
    ]
    return "".join(f"{T0 + t}|{cid}|sales|{agent}|{verb}|{data}\n" for t, cid, agent, verb, data in L)


def ami():
    out = ["Asterisk Call Manager/5.0.2\r\n"]

    def block(headers):
        out.append("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n")

    def ev(name, t, *headers):
        block([("Event", name), ("Privilege", "agent,all"), ("Timestamp", f"{T0 + t}.000000")] + list(headers))

    def member(name, iface):
        return [("Interface", iface), ("MemberName", name)]

    A = member("Alice", "PJSIP/201")
    B = member("Bob", "PJSIP/202")
    block([("Response", "Success"), ("ActionID", "cw-login-1"), ("Message", "Authentication accepted")])
    block([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "86400"), ("LastReload", "3600"), ("Status", "Fully Booted")])
    block([("Response", "Success"), ("ActionID", "cw-qs-1"), ("EventList", "start"), ("Message", "Queue status will follow")])
    block([("Event", "QueueParams"), ("Queue", "sales"), ("Max", "0"), ("Strategy", "ringall"), ("Calls", "0"), ("Holdtime", "0"), ("TalkTime", "0"), ("Completed", "0"), ("Abandoned", "0"), ("ServiceLevel", "20"), ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"), ("Weight", "0"), ("ActionID", "cw-qs-1")])
    for name, iface in (("Alice", "PJSIP/201"), ("Bob", "PJSIP/202")):
        block([("Event", "QueueMember"), ("Queue", "sales"), ("Name", name), ("Location", iface), ("StateInterface", iface), ("Membership", "dynamic"), ("Penalty", "0"), ("CallsTaken", "0"), ("LastCall", "0"), ("LastPause", "0"), ("LoginTime", str(T0 - 60)), ("InCall", "0"), ("Status", "1"), ("Paused", "0"), ("PausedReason", ""), ("Wrapuptime", "0"), ("ActionID", "cw-qs-1")])
    block([("Event", "QueueStatusComplete"), ("Timestamp", f"{T0}.000000"), ("EventList", "Complete"), ("ListItems", "3"), ("ActionID", "cw-qs-1")])

    def caller(i):
        return [("Channel", f"PJSIP/trunk-0000000{i}"), ("CallerIDNum", f"555000{i}"), ("CallerIDName", "Pat%20Example"), ("Uniqueid", C[i]), ("Linkedid", C[i]), ("Queue", "sales")]

    def qms(m, status, incall, paused="0", reason=""):
        return [("Queue", "sales")] + m + [("StateInterface", m[0][1]), ("Membership", "dynamic"), ("Penalty", "0"), ("CallsTaken", "0"), ("InCall", incall), ("Status", status), ("Paused", paused), ("PausedReason", reason), ("Ringinuse", "0")]

    ev("QueueCallerJoin", 10, *caller(1), ("Position", "1"), ("Count", "1"))
    ev("AgentCalled", 10, *caller(1), *A)
    ev("QueueMemberStatus", 10, *qms(A, "6", "0"))
    ev("QueueCallerLeave", 25, *caller(1), ("Position", "1"), ("Count", "0"))
    ev("AgentConnect", 25, *caller(1), *A, ("HoldTime", "15"), ("RingTime", "15"))
    ev("QueueMemberStatus", 25, *qms(A, "2", "1"))
    ev("QueueCallerJoin", 30, *caller(2), ("Position", "1"), ("Count", "1"))
    ev("AgentCalled", 31, *caller(2), *B)
    ev("AgentRingNoAnswer", 46, *caller(2), *B, ("RingTime", "15000"))
    ev("QueueMemberStatus", 46, *qms(B, "1", "0"))
    ev("QueueMemberStatus", 46, *qms(B, "1", "0"))  # P11: sent again unchanged
    ev("AgentCalled", 60, *caller(2), *B)
    ev("QueueCallerLeave", 75, *caller(2), ("Position", "1"), ("Count", "0"))
    ev("AgentConnect", 75, *caller(2), *B, ("HoldTime", "45"), ("RingTime", "15"))
    ev("AgentComplete", 135, *caller(2), *B, ("HoldTime", "45"), ("TalkTime", "60"), ("Reason", "agent"))
    ev("QueueMemberStatus", 135, *qms(B, "1", "0"))
    ev("AgentComplete", 145, *caller(1), *A, ("HoldTime", "15"), ("TalkTime", "120"), ("Reason", "caller"))
    ev("QueueMemberStatus", 145, *qms(A, "1", "0"))
    ev("QueueCallerJoin", 200, *caller(3), ("Position", "1"), ("Count", "1"))
    ev("QueueCallerAbandon", 203, *caller(3), ("Position", "1"), ("OriginalPosition", "1"), ("HoldTime", "3"))
    ev("QueueCallerLeave", 203, *caller(3), ("Position", "1"), ("Count", "0"))
    block([("Event", "Hangup"), ("Privilege", "call,all"), ("Timestamp", f"{T0 + 203}.100000"), ("Channel", "PJSIP/trunk-00000003"), ("Uniqueid", C[3]), ("Cause", "16"), ("Cause-txt", "Normal Clearing")])
    ev("QueueCallerJoin", 300, *caller(4), ("Position", "1"), ("Count", "1"))
    ev("QueueCallerAbandon", 360, *caller(4), ("Position", "1"), ("OriginalPosition", "1"), ("HoldTime", "60"))
    block([("Event", "VarSet"), ("Privilege", "dialplan,all"), ("Timestamp", f"{T0 + 360}.010000"), ("Channel", "PJSIP/trunk-00000004"), ("Variable", "QUEUESTATUS"), ("Value", "TIMEOUT"), ("Uniqueid", C[4])])
    ev("QueueCallerLeave", 360, *caller(4), ("Position", "1"), ("Count", "0"))
    ev("QueueMemberPause", 400, *qms(B, "1", "0", "1"))
    ev("QueueMemberStatus", 400, *qms(B, "1", "0", "1"))
    ev("QueueMemberPause", 460, *qms(B, "1", "0", "0"))
    block([("Response", "Success"), ("ActionID", "cw-ping-1"), ("Ping", "Pong"), ("Timestamp", f"{T0 + 470}.000000")])
    return "".join(out)


def esl():
    out = []

    def msg(headers, body=""):
        b = body.encode()
        h = list(headers)
        if b:
            h.append(("Content-Length", str(len(b))))
        out.append("".join(f"{k}: {v}\n" for k, v in h) + "\n")
        out.append(body)

    def enc(v):
        return "_undef_" if v == "" else urllib.parse.quote(v, safe="-_.!~*'()/")

    def event(t, action, *headers):
        hs = [("Event-Name", "CUSTOM"), ("Core-UUID", "6f1c3d2e-0000-4000-8000-000000000001"),
              ("FreeSWITCH-Hostname", "fs1"), ("Event-Date-GMT", "x"), ("Event-Date-Timestamp", str((T0 + t) * 1000000)),
              ("Event-Calling-File", "mod_callcenter.c"), ("Event-Subclass", "callcenter::info"), ("CC-Action", action)]
        hs += list(headers)
        body = "".join(f"{k}: {enc(v)}\n" for k, v in hs) + "\n"
        msg([("Content-Type", "text/event-plain")], body)

    msg([("Content-Type", "auth/request")])
    msg([("Content-Type", "command/reply"), ("Reply-Text", "+OK accepted")])
    msg([("Content-Type", "api/response")], "name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|max_wait_time_with_no_agent_time_reached|record_template|calibrate_mode\nsales|ring-all|local_stream://moh|system|false|300|true|true|60|false|60|0|5||false\n+OK\n")
    msg([("Content-Type", "api/response")], "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|serving_system|state\n+OK\n")
    msg([("Content-Type", "api/response")], "queue|agent|state|level|position\nsales|Alice|Ready|1|1\nsales|Bob|Ready|1|1\n+OK\n")
    msg([("Content-Type", "api/response")], "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time|external_calls_count\n"
        "Alice|single_box||callback|user/201|Available|Waiting|3|0|10|60|0|0|0|0|1767599940|0|0|0|0|0\n"
        "Bob|single_box||callback|user/202|Available|Waiting|3|0|10|60|0|0|0|0|1767599940|0|0|0|0|0\n+OK\n")
    msg([("Content-Type", "command/reply"), ("Reply-Text", "+OK event listener enabled plain")])

    def member(i):
        return [("CC-Queue", "sales"), ("CC-Member-UUID", f"m{i}-4a1e"), ("CC-Member-Session-UUID", f"s{i}-9b2c"),
                ("CC-Member-CID-Name", "Pat Example"), ("CC-Member-CID-Number", f"555000{i}")]

    def leg(state):
        return [("Unique-ID", "leg"), ("Channel-Call-State", state), ("Answer-State", "hangup" if state == "HANGUP" else "answered"), ("variable_cc_exit_key", "")]

    def st(t, agent, state):
        event(t, "agent-state-change", ("CC-Agent", agent), ("CC-Agent-State", state))

    event(10, "member-queue-start", *member(1), *leg("ACTIVE"))
    event(10, "members-count", ("CC-Queue", "sales"), ("CC-Count", "1"), ("CC-Selection", "Single-Queue"))
    st(10, "Alice", "Receiving")
    event(10, "agent-offering", *member(1), ("CC-Agent", "Alice"), ("CC-Agent-Type", "callback"))
    event(25, "bridge-agent-start", *member(1), ("CC-Agent", "Alice"), ("CC-Agent-Called-Time", str(T0 + 10)), ("CC-Agent-Answered-Time", str(T0 + 25)), ("CC-Member-Joined-Time", str(T0 + 10)))
    st(25, "Alice", "In a queue call")
    event(25, "members-count", ("CC-Queue", "sales"), ("CC-Count", "0"), ("CC-Selection", "Single-Queue"))
    event(30, "member-queue-start", *member(2), *leg("ACTIVE"))
    st(31, "Bob", "Receiving")
    event(46, "bridge-agent-fail", *member(2), ("CC-Agent", "Bob"), ("CC-Hangup-Cause", "NO_ANSWER"), ("CC-Agent-Called-Time", str(T0 + 31)), ("CC-Agent-Aborted-Time", str(T0 + 46)), ("CC-Member-Joined-Time", str(T0 + 30)))
    st(46, "Bob", "Waiting")
    st(46, "Bob", "Waiting")  # P15: written again unchanged
    st(60, "Bob", "Receiving")
    event(75, "bridge-agent-start", *member(2), ("CC-Agent", "Bob"), ("CC-Agent-Called-Time", str(T0 + 60)), ("CC-Agent-Answered-Time", str(T0 + 75)), ("CC-Member-Joined-Time", str(T0 + 30)))
    st(75, "Bob", "In a queue call")
    event(135, "bridge-agent-end", *member(2), ("CC-Agent", "Bob"), ("CC-Agent-Answered-Time", str(T0 + 75)), ("CC-Bridge-Terminated-Time", str(T0 + 135)), ("CC-Hangup-Cause", "NORMAL_CLEARING"), ("CC-Agent-Bridged", "true"), ("CC-Member-Joined-Time", str(T0 + 30)))
    event(135, "member-queue-end", *member(2), ("CC-Cause", "Terminated"), ("CC-Agent", "Bob"), ("CC-Member-Joined-Time", str(T0 + 30)), ("CC-Member-Leaving-Time", str(T0 + 135)), ("CC-Agent-Answered-Time", str(T0 + 75)), *leg("HANGUP"))
    st(135, "Bob", "Waiting")
    event(145, "bridge-agent-end", *member(1), ("CC-Agent", "Alice"), ("CC-Agent-Answered-Time", str(T0 + 25)), ("CC-Bridge-Terminated-Time", str(T0 + 145)), ("CC-Hangup-Cause", "NORMAL_CLEARING"), ("CC-Agent-Bridged", "true"), ("CC-Member-Joined-Time", str(T0 + 10)))
    event(145, "member-queue-end", *member(1), ("CC-Cause", "Terminated"), ("CC-Agent", "Alice"), ("CC-Member-Joined-Time", str(T0 + 10)), ("CC-Member-Leaving-Time", str(T0 + 145)), ("CC-Agent-Answered-Time", str(T0 + 25)), *leg("HANGUP"))
    st(145, "Alice", "Waiting")
    event(200, "member-queue-start", *member(3), *leg("ACTIVE"))
    event(203, "member-queue-end", *member(3), ("CC-Cause", "Cancel"), ("CC-Cancel-Reason", "BREAK_OUT"), ("CC-Member-Joined-Time", str(T0 + 200)), ("CC-Member-Leaving-Time", str(T0 + 203)), *leg("HANGUP"))
    event(300, "member-queue-start", *member(4), *leg("ACTIVE"))
    event(360, "member-queue-end", *member(4), ("CC-Cause", "Cancel"), ("CC-Cancel-Reason", "TIMEOUT"), ("CC-Member-Joined-Time", str(T0 + 300)), ("CC-Member-Leaving-Time", str(T0 + 360)), *leg("ACTIVE"))
    event(400, "agent-status-change", ("CC-Agent", "Bob"), ("CC-Agent-Status", "On Break"))
    event(410, "agent-status-change", ("CC-Agent", "Bob"), ("CC-Agent-Status", "On Break"))  # P15
    event(460, "agent-status-change", ("CC-Agent", "Bob"), ("CC-Agent-Status", "Available"))
    return "".join(out)


if __name__ == "__main__":
    with open("story.queue_log", "w", newline="") as f:
        f.write(queue_log())
    with open("story.ami", "w", newline="") as f:
        f.write(ami())
    with open("story.esl", "w", newline="") as f:
        f.write(esl())
