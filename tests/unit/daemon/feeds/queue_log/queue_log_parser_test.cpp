// queue_log line parser: every verb of FEED-SPEC 2.3/2.4, the mapping of 6.1 and the rejection
// rules of METRICS.md ("Counting rules"). Each expected value is read off the line by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "feeds/queue_log/queue_log_parser.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;
using Status = cd::QueueLogLineStatus;

namespace {

struct Harness {
  std::vector<cd::QueueLogWarning> warnings;
  cd::QueueLogParser parser;
  std::uint64_t next_line = 1;

  explicit Harness(cd::QueueLogParser::Options o = {})
      : parser(o, [this](const cd::QueueLogWarning& w) { warnings.push_back(w); }) {}

  const cd::QueueLogLine& feed(std::string_view line) { return parser.parse(line, next_line++); }
  std::size_t warnings_of(std::string_view kind) const {
    std::size_t n = 0;
    for (const auto& w : warnings) n += w.kind == kind ? 1 : 0;
    return n;
  }
};

bool unset(double v) { return std::isnan(v); }

}  // namespace

TEST_CASE("ENTERQUEUE with 2, 3 and 4 data fields gives the caller number", "[feed][queue_log]") {
  Harness h;
  // 1.6-20.13: url|callerid|origpos
  const auto& a = h.feed("1767600000|1767600000.1|sales|NONE|ENTERQUEUE||5551234|1");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::call_enqueued);
  CHECK(a.events[0].ts == 1767600000.0);
  CHECK(a.events[0].call == "1767600000.1");
  CHECK(a.events[0].queue == "sales");
  CHECK(a.events[0].caller == "5551234");
  CHECK(a.queue == "sales");
  CHECK(a.verb == "ENTERQUEUE");

  // 1.4: url|callerid
  const auto& b = h.feed("1767600001|1767600000.2|sales|NONE|ENTERQUEUE|http://crm|5550002");
  REQUIRE(b.status == Status::accepted);
  REQUIRE(b.events.size() == 1);
  CHECK(b.events[0].caller == "5550002");

  // 20.14+ with log_caller_id_name: url|callerid|origpos|calleridname
  const auto& c = h.feed("1767600002|1767600000.3|sales|NONE|ENTERQUEUE||5550003|2|Li Lei");
  REQUIRE(c.status == Status::accepted);
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].caller == "5550003");

  // Restricted caller id: empty number, still a call.
  const auto& d = h.feed("1767600003|1767600000.4|sales|NONE|ENTERQUEUE|||3");
  REQUIRE(d.status == Status::accepted);
  CHECK(d.events[0].caller.empty());

  // 5 data fields: no version writes that.
  const auto& e = h.feed("1767600004|1767600000.5|sales|NONE|ENTERQUEUE||5550005|4|Name|extra");
  CHECK(e.status == Status::rejected);
  CHECK(e.reject_reason == "too_many_fields");
  CHECK(e.line == 5);
}

TEST_CASE("CONNECT's holdtime is the wait; a missing one is left to timestamps",
          "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600012|1767600000.1|sales|Alice|CONNECT|12|1767600000.2|3");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::call_answered);
  CHECK(a.events[0].agent == "Alice");
  CHECK(a.events[0].queue == "sales");
  CHECK(a.events[0].wait == 12.0);  // data1, not the ring time 3 of data3

  // 1.4 writes holdtime|member_uniqueid only.
  const auto& b = h.feed("1767600013|1767600000.3|sales|Bob|CONNECT|7|1767600000.4");
  REQUIRE(b.status == Status::accepted);
  CHECK(b.events[0].wait == 7.0);

  const auto& c = h.feed("1767600014|1767600000.5|sales|Bob|CONNECT||1767600000.6|2");
  REQUIRE(c.status == Status::accepted);
  CHECK(unset(c.events[0].wait));

  const auto& d = h.feed("1767600015|1767600000.7|sales|Bob|CONNECT|twelve|1767600000.8|2");
  CHECK(d.status == Status::rejected);
  CHECK(d.reject_reason == "bad_number");

  const auto& e = h.feed("1767600016|1767600000.9|sales|Bob|CONNECT|1|2|3|4");
  CHECK(e.status == Status::rejected);
  CHECK(e.reject_reason == "too_many_fields");
}

TEST_CASE("COMPLETECALLER and COMPLETEAGENT carry queue, talk and wait", "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600100|1767600000.1|sales|Alice|COMPLETECALLER|12|88|1");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  const auto& e = a.events[0];
  CHECK(e.type == m::EventType::call_ended);
  CHECK(e.call == "1767600000.1");
  CHECK(e.queue == "sales");
  CHECK(e.agent == "Alice");
  CHECK(e.wait == 12.0);
  CHECK(e.talk == 88.0);
  CHECK(e.by == m::EndedBy::caller);
  CHECK(unset(e.hold));  // queue_log does not log hold

  const auto& b = h.feed("1767600200|1767600000.2|sales|Alice|COMPLETEAGENT|3|150|2");
  REQUIRE(b.status == Status::accepted);
  CHECK(b.events[0].by == m::EndedBy::agent);
  CHECK(b.events[0].talk == 150.0);

  const auto& c = h.feed("1767600300|1767600000.3|sales|Alice|COMPLETEAGENT|3|1x0|2");
  CHECK(c.status == Status::rejected);
  CHECK(c.reject_reason == "bad_number");
}

TEST_CASE("TRANSFER and BLINDTRANSFER end the call and name the target", "[feed][queue_log]") {
  Harness h;
  // extension|context|holdtime|calltime|origpos
  const auto& a = h.feed("1767600100|1767600000.1|sales|Alice|TRANSFER|2001|from-internal|9|61|1");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 2);
  CHECK(a.events[0].type == m::EventType::call_ended);
  CHECK(a.events[0].by == m::EndedBy::transfer);
  CHECK(a.events[0].wait == 9.0);
  CHECK(a.events[0].talk == 61.0);
  CHECK(a.events[0].queue == "sales");
  CHECK(a.events[1].type == m::EventType::call_transferred);
  CHECK(a.events[1].to == "2001@from-internal");
  CHECK(a.events[1].agent == "Alice");
  CHECK(a.events[1].call == "1767600000.1");

  // 1.4 has no origpos: positions from the left still hold.
  const auto& b = h.feed("1767600101|1767600000.2|sales|Alice|TRANSFER|2002|ctx|4|30");
  REQUIRE(b.status == Status::accepted);
  CHECK(b.events[0].talk == 30.0);
  CHECK(b.events[1].to == "2002@ctx");

  const auto& c = h.feed("1767600102|1767600000.3|sales|Bob|BLINDTRANSFER|2003|ctx|5|40|2");
  REQUIRE(c.status == Status::accepted);
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[0].wait == 5.0);
  CHECK(c.events[0].talk == 40.0);
  CHECK(c.events[1].to == "2003@ctx");

  const auto& d = h.feed("1767600103|1767600000.4|sales|Bob|BLINDTRANSFER|2003|ctx|5|40|2|9");
  CHECK(d.status == Status::rejected);
  CHECK(d.reject_reason == "too_many_fields");
}

TEST_CASE("ATTENDEDTRANSFER is parsed from the right (LINK has two method fields)",
          "[feed][queue_log]") {
  Harness h;
  // BRIDGE|bridgeid|holdtime|calltime|origpos: wait 15, talk 70.
  const auto& a = h.feed(
      "1767600100|1767600000.1|sales|Alice|ATTENDEDTRANSFER|BRIDGE|5d1c-77a0|15|70|2");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 2);
  CHECK(a.events[0].wait == 15.0);
  CHECK(a.events[0].talk == 70.0);
  CHECK(a.events[0].by == m::EndedBy::transfer);
  CHECK(a.events[1].to == "5d1c-77a0");

  // LINK|chan1|chan2|holdtime|calltime|origpos: the same numbers one field further right.
  const auto& b = h.feed(
      "1767600200|1767600000.2|sales|Bob|ATTENDEDTRANSFER|LINK|Local/2001@ctx-0001;1|"
      "Local/2001@ctx-0001;2|8|33|1");
  REQUIRE(b.status == Status::accepted);
  REQUIRE(b.events.size() == 2);
  CHECK(b.events[0].wait == 8.0);
  CHECK(b.events[0].talk == 33.0);
  CHECK(b.events[1].to == "Local/2001@ctx-0001;1|Local/2001@ctx-0001;2");

  const auto& c = h.feed("1767600300|1767600000.3|sales|Bob|ATTENDEDTRANSFER|APP|Dial|1|2|3|4|5");
  CHECK(c.status == Status::rejected);
  CHECK(c.reject_reason == "too_many_fields");

  const auto& d = h.feed("1767600400|1767600000.4|sales|Bob|ATTENDEDTRANSFER|APP|1|2");
  CHECK(d.status == Status::rejected);
  CHECK(d.reject_reason == "missing_field");
}

TEST_CASE("ABANDON and EXIT* take the waittime by position", "[feed][queue_log]") {
  Harness h;
  // pos|origpos|waittime: 27, not pos 3 or origpos 1.
  const auto& a = h.feed("1767600100|1767600000.1|sales|NONE|ABANDON|3|1|27");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::call_abandoned);
  CHECK(a.events[0].wait == 27.0);
  CHECK(a.events[0].queue == "sales");

  // Padded to data1..data5: trailing empties are not data, wait still data3.
  const auto& b = h.feed("1767600101|1767600000.2|sales|NONE|ABANDON|2|2|4||");
  REQUIRE(b.status == Status::accepted);
  CHECK(b.events[0].wait == 4.0);

  const auto& c = h.feed("1767600102|1767600000.3|sales|NONE|EXITWITHTIMEOUT|1|1|300");
  REQUIRE(c.status == Status::accepted);
  CHECK(c.events[0].type == m::EventType::call_exited);
  CHECK(c.events[0].exit_reason == m::ExitReason::timeout);
  CHECK(c.events[0].wait == 300.0);

  // 1.4: pos only -> the wait comes from timestamps.
  const auto& d = h.feed("1767600103|1767600000.4|sales|NONE|EXITWITHTIMEOUT|1");
  REQUIRE(d.status == Status::accepted);
  CHECK(unset(d.events[0].wait));

  const auto& e = h.feed("1767600104|1767600000.5|sales|NONE|EXITEMPTY|1|2|4");
  REQUIRE(e.status == Status::accepted);
  CHECK(e.events[0].exit_reason == m::ExitReason::empty);
  CHECK(e.events[0].wait == 4.0);

  // key|pos|origpos|waittime: the wait is data4 (33), not data3 (1).
  const auto& f = h.feed("1767600105|1767600000.6|sales|NONE|EXITWITHKEY|5|1|1|33");
  REQUIRE(f.status == Status::accepted);
  CHECK(f.events[0].exit_reason == m::ExitReason::key);
  CHECK(f.events[0].wait == 33.0);

  // 1.4: key|pos -> no wait stated.
  const auto& g = h.feed("1767600106|1767600000.7|sales|NONE|EXITWITHKEY|5|1");
  REQUIRE(g.status == Status::accepted);
  CHECK(unset(g.events[0].wait));

  const auto& i = h.feed("1767600107|1767600000.8|sales|NONE|ABANDON|1|1|27|4");
  CHECK(i.status == Status::rejected);
  CHECK(i.reject_reason == "too_many_fields");

  const auto& j = h.feed("1767600108|1767600000.9|sales|NONE|ABANDON|1|1|2 7");
  CHECK(j.status == Status::rejected);
  CHECK(j.reject_reason == "bad_number");
  CHECK(h.warnings.empty());
}

TEST_CASE("WITHDRAW is exited_empty and SYSCOMPAT abandoned, each with a warning",
          "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600100|1767600000.1|sales|NONE|WITHDRAW|1|1|40|moved by supervisor");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::call_exited);
  CHECK(a.events[0].exit_reason == m::ExitReason::empty);
  CHECK(a.events[0].wait == 40.0);
  CHECK(h.warnings_of("withdraw") == 1);
  CHECK(h.warnings.back().line == 1);

  const auto& b = h.feed("1767600200|1767600000.2|sales|Alice|SYSCOMPAT|");
  REQUIRE(b.status == Status::accepted);
  REQUIRE(b.events.size() == 1);
  CHECK(b.events[0].type == m::EventType::call_abandoned);
  CHECK(unset(b.events[0].wait));
  CHECK(h.warnings_of("syscompat") == 1);

  // Each line warns (not once per verb): a second SYSCOMPAT warns again.
  h.feed("1767600300|1767600000.3|sales|Alice|SYSCOMPAT|");
  CHECK(h.warnings_of("syscompat") == 2);
}

TEST_CASE("RINGNOANSWER is milliseconds; 0 ms is emitted as refused; RINGCANCELED is nothing",
          "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600005|1767600000.1|sales|Alice|RINGNOANSWER|15000");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::agent_ring_noanswer);
  CHECK(a.events[0].agent == "Alice");
  CHECK(a.events[0].queue == "sales");
  CHECK(a.events[0].call == "1767600000.1");
  CHECK(a.events[0].ring_ms == 15000.0);

  const auto& b = h.feed("1767600005|1767600000.1|sales|Bob|RINGNOANSWER|0");
  REQUIRE(b.status == Status::accepted);
  REQUIRE(b.events.size() == 1);
  CHECK(b.events[0].ring_ms == 0.0);  // the engine counts it as refused, not a no-answer

  const auto& c = h.feed("1767600006|1767600000.1|sales|Carol|RINGCANCELED|2000");
  CHECK(c.status == Status::accepted);
  CHECK(c.events.empty());

  const auto& d = h.feed("1767600007|1767600000.1|sales|Carol|RINGNOANSWER|");
  CHECK(d.status == Status::rejected);
  CHECK(d.reject_reason == "missing_number");

  const auto& e = h.feed("1767600008|1767600000.1|sales|Carol|RINGNOANSWER|15s");
  CHECK(e.status == Status::rejected);
  CHECK(e.reject_reason == "bad_number");

  // No member named: nothing to count it against (an agent "" would appear otherwise).
  const auto& f = h.feed("1767600009|1767600000.1|sales|NONE|RINGNOANSWER|1000");
  CHECK(f.status == Status::accepted);
  CHECK(f.events.empty());
  CHECK(h.warnings_of("agent_missing") == 1);
}

TEST_CASE("PAUSE, UNPAUSE, ADDMEMBER, REMOVEMEMBER apply to the line's queue",
          "[feed][queue_log][agent]") {
  Harness h;
  const auto& a = h.feed("1767600000|NONE|sales|Alice|PAUSE|Lunch");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::agent_state);
  CHECK(a.events[0].agent == "Alice");
  CHECK(a.events[0].state == m::AgentState::paused);
  CHECK(a.events[0].reason == "Lunch");
  CHECK(a.events[0].queue == "sales");
  REQUIRE(a.events[0].queues.size() == 1);
  CHECK(a.events[0].queues[0] == "sales");

  const auto& b = h.feed("1767600600|NONE|sales|Alice|UNPAUSE|");
  REQUIRE(b.events.size() == 1);
  CHECK(b.events[0].state == m::AgentState::available);
  CHECK(b.events[0].queues[0] == "sales");

  const auto& c = h.feed("1767600700|MANAGER|support|PJSIP/201|ADDMEMBER|PAUSED");
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].state == m::AgentState::paused);
  CHECK(c.events[0].agent == "PJSIP/201");
  CHECK(c.events[0].queues[0] == "support");

  const auto& d = h.feed("1767600701|MANAGER|billing|PJSIP/201|ADDMEMBER|");
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].state == m::AgentState::available);

  const auto& e = h.feed("1767600800|MANAGER|support|PJSIP/201|REMOVEMEMBER|");
  REQUIRE(e.events.size() == 1);
  CHECK(e.events[0].state == m::AgentState::logged_out);
  CHECK(e.events[0].queues[0] == "support");

  const auto& f = h.feed("1767600900|MANAGER|support|PJSIP/201|REMOVEMEMBER|x");
  CHECK(f.status == Status::rejected);
  CHECK(f.reject_reason == "too_many_fields");

  const auto& g = h.feed("1767601000|NONE|sales|Alice|PAUSE|Lunch|extra");
  CHECK(g.status == Status::rejected);
}

TEST_CASE("PAUSEALL beside per-queue PAUSE lines counts once", "[feed][queue_log][agent]") {
  Harness h;
  // Asterisk 12+: PAUSEALL then one PAUSE per queue, member name on both.
  const auto& a = h.feed("1767600000|NONE|NONE|Alice|PAUSEALL|Break");
  CHECK(a.status == Status::accepted);
  CHECK(a.events.empty());  // held back
  CHECK(h.feed("1767600000|NONE|sales|Alice|PAUSE|Break").events.size() == 1);
  CHECK(h.feed("1767600000|NONE|support|Alice|PAUSE|Break").events.size() == 1);
  // Later lines release nothing: the PAUSEALL was covered.
  const auto& b = h.feed("1767600300|NONE|NONE|Alice|UNPAUSEALL|");
  CHECK(b.events.empty());
  const auto& c = h.feed("1767600300|NONE|sales|Alice|UNPAUSE|");
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].queues.size() == 1);
  CHECK(h.feed("1767600301|NONE|support|Alice|UNPAUSE|").events.size() == 1);
  CHECK(h.parser.flush().empty());
}

TEST_CASE("Asterisk 11 PAUSEALL naming the interface is covered by the member's PAUSE lines",
          "[feed][queue_log][agent]") {
  Harness h;
  CHECK(h.feed("1767600000|NONE|NONE|SIP/201|PAUSEALL|").events.empty());
  CHECK(h.feed("1767600001|NONE|sales|Alice|PAUSE|").events.size() == 1);
  CHECK(h.parser.flush().empty());
}

TEST_CASE("PAUSEALL with no per-queue line is emitted for every queue of the agent",
          "[feed][queue_log][agent]") {
  Harness h;
  CHECK(h.feed("1767600000|NONE|NONE|Alice|PAUSEALL|Training").events.empty());
  // An UNPAUSE does not cover a PAUSEALL (other direction); 5 s later the window (1 s) is over:
  // the PAUSEALL comes out first, then the line's own event.
  const auto& a = h.feed("1767600005|NONE|sales|Alice|UNPAUSE|");
  REQUIRE(a.events.size() == 2);
  CHECK(a.events[0].type == m::EventType::agent_state);
  CHECK(a.events[0].state == m::AgentState::paused);
  CHECK(a.events[0].reason == "Training");
  CHECK(a.events[0].ts == 1767600000.0);
  CHECK(a.events[0].agent == "Alice");
  CHECK(a.events[0].queues.empty());
  CHECK(a.events[1].state == m::AgentState::available);

  // Held at the end of input: flush() emits it.
  CHECK(h.feed("1767600100|NONE|NONE|Bob|UNPAUSEALL|").events.empty());
  const auto flushed = h.parser.flush();
  REQUIRE(flushed.size() == 1);
  CHECK(flushed[0].agent == "Bob");
  CHECK(flushed[0].state == m::AgentState::available);
  CHECK(h.parser.flush().empty());
}

TEST_CASE("AGENTLOGIN and AGENTLOGOFF apply to every queue, agent as written",
          "[feed][queue_log][agent]") {
  Harness h;
  const auto& a = h.feed("1767600000|1767600000.9|NONE|1001|AGENTLOGIN|PJSIP/201-0000001a");
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].agent == "1001");
  CHECK(a.events[0].state == m::AgentState::available);
  CHECK(a.events[0].queues.empty());
  CHECK(a.queue.empty());  // NONE is no queue

  const auto& b = h.feed("1767603600|1767600000.9|NONE|Agent/1001|AGENTLOGOFF|PJSIP/201-0000001a|3600");
  REQUIRE(b.events.size() == 1);
  CHECK(b.events[0].agent == "Agent/1001");
  CHECK(b.events[0].state == m::AgentState::logged_out);

  const auto& c = h.feed("1767603700|NONE|NONE|1002|AGENTCALLBACKLOGIN|1127@default");
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].state == m::AgentState::available);
  const auto& d = h.feed("1767603800|NONE|NONE|1002|AGENTCALLBACKLOGOFF|1127@default|100|CommandLogoff");
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].state == m::AgentState::logged_out);
}

TEST_CASE("QUEUESTART is a feed restart", "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600000|NONE|NONE|NONE|QUEUESTART|");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].type == m::EventType::feed_restart);
  CHECK(a.events[0].ts == 1767600000.0);
  CHECK(h.feed("1767600001|NONE|NONE|NONE|QUEUESTART|x").status == Status::rejected);
}

TEST_CASE("a PAUSEALL held back when QUEUESTART comes is applied before the restart",
          "[feed][queue_log][restart]") {
  Harness h;
  // PAUSEALL at 100 with no per-queue PAUSE yet (held back up to 1 s), QUEUESTART at 100.5: the
  // pause happened before the restart, so it is emitted first and the restart then ends it.
  const auto& a = h.feed("100|NONE|NONE|Ann|PAUSEALL|lunch");
  REQUIRE(a.status == Status::accepted);
  CHECK(a.events.empty());
  const auto& b = h.feed("100.5|NONE|NONE|NONE|QUEUESTART|");
  REQUIRE(b.events.size() == 2);
  CHECK(b.events[0].type == m::EventType::agent_state);
  CHECK(b.events[0].state == m::AgentState::paused);
  CHECK(b.events[0].ts == 100.0);
  CHECK(b.events[1].type == m::EventType::feed_restart);
  CHECK(b.events[1].ts == 100.5);
  CHECK(h.parser.flush().empty());  // nothing left to release after the restart
}

TEST_CASE("DID, INFO, AGENTDUMP and other no-figure verbs are accepted events without a warning",
          "[feed][queue_log]") {
  Harness h;
  for (const char* line : {"1767600000|1767600000.1|sales|NONE|DID|+15550100199",
                           "1767600000|1767600000.1|sales|NONE|INFO|IVR|1|2|3|4|5|6|7",
                           "1767600001|1767600000.1|sales|Alice|AGENTDUMP|",
                           "1767600002|NONE|NONE|NONE|CONFIGRELOAD|",
                           "1767600003|NONE|sales|PJSIP/201|PENALTY|2",
                           "1767600004|NONE|sales|PJSIP/201|RINGINUSE|1",
                           "1767600005|1767600000.2|sales|Alice|OUTCALL|ANSWER|30|x",
                           "1767600006|1767600000.3|sales|Alice|OUTDIAL|1|2|3"}) {
    const auto& r = h.feed(line);
    INFO(line);
    CHECK(r.status == Status::accepted);
    CHECK(r.events.empty());
  }
  CHECK(h.warnings.empty());
}

TEST_CASE("an unknown verb is an accepted event, warned once per verb", "[feed][queue_log]") {
  Harness h;
  CHECK(h.feed("1767600000|1767600000.1|sales|NONE|MYVERB|a").status == Status::accepted);
  CHECK(h.feed("1767600001|1767600000.1|sales|NONE|MYVERB|b").status == Status::accepted);
  CHECK(h.feed("1767600002|1767600000.1|sales|NONE|OTHER|").status == Status::accepted);
  CHECK(h.warnings_of("unknown_verb") == 2);  // MYVERB once, OTHER once
  CHECK(h.warnings[0].line == 1);
}

TEST_CASE("XiVO FULL/JOINEMPTY are refused before entering: no event, counted apart",
          "[feed][queue_log]") {
  Harness h;
  CHECK(h.feed("1767600000|1767600000.1|sales|NONE|FULL|").events.empty());
  CHECK(h.feed("1767600001|1767600000.2|sales|NONE|FULL|").events.empty());
  CHECK(h.feed("1767600002|1767600000.3|sales|NONE|JOINEMPTY|").events.empty());
  CHECK(h.parser.refused_on_join().at("FULL") == 2);
  CHECK(h.parser.refused_on_join().at("JOINEMPTY") == 1);
  CHECK(h.warnings_of("refused_on_join") == 2);
}

TEST_CASE("call ids are opaque strings: 1767600000.1 and 1767600000.10 differ", "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600000|1767600000.1|sales|NONE|ENTERQUEUE||5551|1");
  REQUIRE(a.status == Status::accepted);
  CHECK(a.events[0].call == "1767600000.1");
  // Same epoch, same queue, same caller: only the id differs; a float parse would merge them
  // and the dedup must not either.
  const auto& b = h.feed("1767600000|1767600000.10|sales|NONE|ENTERQUEUE||5551|1");
  REQUIRE(b.status == Status::accepted);
  CHECK(b.events[0].call == "1767600000.10");
  const auto& c = h.feed("1767600000|40a7a1f2a669-1585318545.326|sales|NONE|ENTERQUEUE||5551|1");
  REQUIRE(c.status == Status::accepted);
  CHECK(c.events[0].call == "40a7a1f2a669-1585318545.326");
}

TEST_CASE("CRLF line ends are dropped, not read into the last field", "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600100|1767600000.1|sales|NONE|ABANDON|3|1|27\r\n");
  REQUIRE(a.status == Status::accepted);
  CHECK(a.events[0].wait == 27.0);  // "27\r" would be a bad number
  const auto& b = h.feed("1767600100|NONE|sales|Alice|PAUSE|Lunch\r");
  REQUIRE(b.status == Status::accepted);
  CHECK(b.events[0].reason == "Lunch");
  // The same record with LF only is the same line: a duplicate.
  CHECK(h.feed("1767600100|1767600000.1|sales|NONE|ABANDON|3|1|27\n").status == Status::duplicate);
}

TEST_CASE("truncated lines: too few fields rejected, a cut verb is unknown",
          "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600012|1767600000.1|sal");
  CHECK(a.status == Status::rejected);
  CHECK(a.reject_reason == "too_few_fields");
  CHECK(a.line == 1);
  const auto& b = h.feed("1767600012|1767600000.1|sales|Alice");
  CHECK(b.status == Status::rejected);
  CHECK(b.reject_reason == "too_few_fields");
  // 5 fields with a cut verb: accepted, kept out of every figure, warned.
  const auto& c = h.feed("1767600012|1767600000.1|sales|Alice|CONN");
  CHECK(c.status == Status::accepted);
  CHECK(c.events.empty());
  CHECK(h.warnings_of("unknown_verb") == 1);
  // A verb without the trailing pipe is still 5 fields.
  CHECK(h.feed("1767600013|NONE|NONE|NONE|QUEUESTART").status == Status::accepted);
}

TEST_CASE("a non-numeric epoch is rejected", "[feed][queue_log]") {
  Harness h;
  for (const char* line : {"17676OOOOO|1767600000.1|sales|NONE|ENTERQUEUE||5551|1",
                           "-1767600000|1767600000.1|sales|NONE|ENTERQUEUE||5551|1",
                           "|1767600000.1|sales|NONE|ENTERQUEUE||5551|1",
                           "2026-01-05 09:00:00|1767600000.1|sales|NONE|ENTERQUEUE||5551|1"}) {
    const auto& r = h.feed(line);
    INFO(line);
    CHECK(r.status == Status::rejected);
    CHECK(r.reject_reason == "bad_epoch");
  }
  // A fractional epoch (realtime exports) is a number.
  const auto& ok = h.feed("1767600000.25|1767600000.1|sales|NONE|ENTERQUEUE||5551|1");
  REQUIRE(ok.status == Status::accepted);
  CHECK(ok.events[0].ts == 1767600000.25);
}

TEST_CASE("blank lines are not records", "[feed][queue_log]") {
  Harness h;
  for (const char* line : {"", "\n", "\r\n", "   ", "\t \r\n"}) {
    CHECK(h.feed(line).status == Status::blank);
  }
  CHECK(h.warnings.empty());
}

TEST_CASE("a line identical to an earlier accepted one is a duplicate, warned",
          "[feed][queue_log]") {
  Harness h;
  const std::string line = "1767600000|1767600000.1|sales|NONE|ENTERQUEUE||5551|1";
  CHECK(h.feed(line).status == Status::accepted);
  const auto& d = h.feed(line);
  CHECK(d.status == Status::duplicate);
  CHECK(d.events.empty());
  REQUIRE(h.warnings_of("duplicate") == 1);
  CHECK(h.warnings.back().line == 2);
  // Differing only in origpos: a different line (the engine decides about a second outcome).
  CHECK(h.feed("1767600000|1767600000.1|sales|NONE|ENTERQUEUE||5551|2").status ==
        Status::accepted);
  // A rejected line is rejected every time it occurs.
  CHECK(h.feed("x|1|2|3|4").status == Status::rejected);
  CHECK(h.feed("x|1|2|3|4").status == Status::rejected);
}

TEST_CASE("duplicates are remembered for the day of their epoch, then forgotten",
          "[feed][queue_log]") {
  // UTC, day start 06:00: 1767600000 is 2026-01-05 08:00Z (day of Jan 5), 1767679200 is
  // 2026-01-06 06:00Z, the first second of the next day.
  cd::QueueLogParser::Options o;
  o.duplicates.day_start_seconds = 6 * 3600;
  Harness h(o);
  const std::string a = "1767600000|NONE|sales|Alice|PAUSE|";
  CHECK(h.feed(a).status == Status::accepted);
  CHECK(h.feed("1767679199|NONE|sales|Bob|PAUSE|").status == Status::accepted);  // same day
  CHECK(h.feed(a).status == Status::duplicate);  // hours later, same day: still a duplicate
  CHECK(h.feed("1767679200|NONE|sales|Carol|PAUSE|").status == Status::accepted);  // next day
  // The day changed: the table is emptied (memory), so a copy of yesterday's line now counts.
  CHECK(h.feed(a).status == Status::accepted);
  CHECK(h.parser.duplicates().size() == 2);  // Carol's line and a, both in the new day's table
}

TEST_CASE("an outcome whose ENTERQUEUE precedes the file is accepted as it stands",
          "[feed][queue_log]") {
  Harness h;
  // First line of the file: the COMPLETE of a call answered before it. The parser keeps no call
  // state, the engine counts it in AHT (talk 406).
  const auto& a = h.feed("1546024020|1546023604.760166|201|Elena Simulada|COMPLETECALLER|10|406|1");
  REQUIRE(a.status == Status::accepted);
  REQUIRE(a.events.size() == 1);
  CHECK(a.events[0].talk == 406.0);
  CHECK(a.events[0].wait == 10.0);
  CHECK(a.events[0].agent == "Elena Simulada");
}

TEST_CASE("names: invalid UTF-8 is replaced, over-long names are rejected", "[feed][queue_log]") {
  Harness h;
  const auto& a = h.feed("1767600000|NONE|\xe9\x94\x80\xe5\x94\xae|Al\xffice|PAUSE|\xe5\x8d\x88\xe9\xa5\xad");
  REQUIRE(a.status == Status::accepted);
  CHECK(a.events[0].agent == "Al\xEF\xBF\xBDice");
  CHECK(a.events[0].queue == "\xe9\x94\x80\xe5\x94\xae");      // 销售 kept as is
  CHECK(a.events[0].reason == "\xe5\x8d\x88\xe9\xa5\xad");     // 午饭
  const auto& b = h.feed("1767600001|NONE|sales|" + std::string(300, 'a') + "|PAUSE|");
  CHECK(b.status == Status::rejected);
  CHECK(b.reject_reason == "name_too_long");
}

TEST_CASE("event views stay valid after the caller's buffer is gone", "[feed][queue_log]") {
  Harness h;
  std::string buf = "1767600012|1767600000.1|sales|Alice|CONNECT|12|1767600000.2|3";
  const auto& r = h.feed(buf);
  buf.assign(buf.size(), 'x');
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].call == "1767600000.1");
  CHECK(r.events[0].agent == "Alice");
}

TEST_CASE("queue_log numbers are strict decimals", "[feed][queue_log]") {
  double v = -1;
  CHECK(cd::parse_queue_log_number("12", v));
  CHECK(v == 12.0);
  CHECK(cd::parse_queue_log_number("12.5", v));
  CHECK(v == 12.5);
  CHECK(cd::parse_queue_log_number("0", v));
  CHECK(v == 0.0);
  for (const char* s : {"", "-1", "+1", " 1", "1 ", "1e3", "1.", ".5", "0x10", "nan", "inf"}) {
    INFO(s);
    CHECK_FALSE(cd::parse_queue_log_number(s, v));
  }
}

TEST_CASE("ENTERQUEUE with the number withheld gives the logged caller name instead",
          "[feed][queue_log][waiting]") {
  Harness h;
  // 20.14+ log_caller_id_name: an empty callerid and the name "Li Lei": the waiting list shows
  // the name rather than "withheld".
  const auto& a = h.feed("1767600002|1767600000.3|sales|NONE|ENTERQUEUE|||2|Li Lei");
  REQUIRE(a.status == Status::accepted);
  CHECK(a.events[0].caller == "Li Lei");
}
