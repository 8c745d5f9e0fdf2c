// AMI framing and translation: the real captures of tests/data/samples (panoramisk = Asterisk 11
// text, cacofonisk = Asterisk 13 JSON arrays) and one hand-written scenario per pitfall of
// FEED-SPEC section 5. Expected events are read off the input by hand (see each comment).
#include "feeds/ami/ami_translator.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "callwatch/metrics/engine.hpp"
#include "../feed_test_util.hpp"
#include "feeds/ami/ami_capture.hpp"
#include "feeds/ami/ami_framer.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;
using callwatch::test::data_path;
using callwatch::test::read_file;
using callwatch::test::Recorder;
using ET = m::EventType;

namespace {

std::vector<cd::AmiMessage> frame_all(std::string_view bytes, std::size_t chunk) {
  // Messages are copied out as text so they outlive the callback.
  std::vector<cd::AmiMessage> out;
  static std::deque<std::string> keep;  // deque: elements never move
  cd::AmiFramer f;
  auto cb = [&](const cd::AmiMessage& msg) {
    cd::AmiMessage c = msg;
    std::size_t need = c.version.size();
    for (const auto& h : c.headers) need += h.name.size() + h.value.size();
    for (const auto& o : c.output) need += o.size();
    keep.emplace_back();
    std::string& s = keep.back();
    s.reserve(need + 1);  // no reallocation below: the views stay valid
    for (auto& h : c.headers) {
      const auto n0 = s.size();
      s.append(h.name);
      const auto v0 = s.size();
      s.append(h.value);
      h.name = std::string_view(s.data() + n0, h.name.size());
      h.value = std::string_view(s.data() + v0, h.value.size());
    }
    for (auto& o : c.output) {
      const auto o0 = s.size();
      s.append(o);
      o = std::string_view(s.data() + o0, o.size());
    }
    const auto b0 = s.size();
    s.append(c.version);
    c.version = std::string_view(s.data() + b0, c.version.size());
    out.push_back(std::move(c));
  };
  for (std::size_t i = 0; i < bytes.size(); i += chunk) f.feed(bytes.substr(i, chunk), cb);
  f.finish(cb);
  return out;
}

struct Run {
  Recorder rec;
  cd::AmiTranslator tr;
  cd::AmiFramer framer;
  explicit Run(cd::AmiTranslatorOptions o = {}) : tr(std::move(o), rec.sink()) {}
  void text(std::string_view bytes) { cd::replay_ami_text(bytes, framer, tr); }
  void done() { tr.finish(); }
};

// Runs the events through a replay engine and returns it (for KPI checks).
m::Engine engine_of(const Recorder& r) {
  const m::EngineSettings settings;
  m::Engine e(settings, nullptr);
  double last = 0;
  for (const auto& ev : r.events) {
    cd::OwnedEvent copy = ev;  // views re-pointed at the copy's strings
    e.apply(copy.view());
    last = std::max(last, ev.event.ts);
  }
  e.finish(last);
  return e;
}

const m::QueueView* queue_view(const m::Snapshot& s, std::string_view name) {
  for (const auto& q : s.queues) {
    if (q.name == name) return &q;
  }
  return nullptr;
}
const m::AgentView* agent_view(const m::Snapshot& s, std::string_view name) {
  for (const auto& a : s.agents) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the framer gives the same messages for any split of a capture", "[feed][ami]") {
  const std::string bytes = read_file(data_path("samples/panoramisk/agent_loggued_in.ami"));
  REQUIRE(!bytes.empty());
  const auto whole = frame_all(bytes, bytes.size());
  // agent_loggued_in: 145 events plus Ping actions and answers (grep -c '^Event:' = 145).
  std::size_t events = 0;
  for (const auto& msg : whole) events += msg.kind == cd::AmiKind::event ? 1 : 0;
  CHECK(events == 145);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    const auto split = frame_all(bytes, chunk);
    REQUIRE(split.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
      REQUIRE(split[i].headers.size() == whole[i].headers.size());
      for (std::size_t h = 0; h < whole[i].headers.size(); ++h) {
        CHECK(split[i].headers[h].name == whole[i].headers[h].name);
        CHECK(split[i].headers[h].value == whole[i].headers[h].value);
      }
    }
  }
}

TEST_CASE("CRLF, a split inside CRLF and inside a header give the same block", "[feed][ami]") {
  const std::string crlf =
      "Asterisk Call Manager/2.10.4\r\nEvent: QueueCallerJoin\r\nPrivilege: agent,all\r\n"
      "Channel: PJSIP/100-00000001\r\nQueue: sales\r\nUniqueid: 1767600000.1\r\n"
      "AccountCode: \r\nValue: sip:201@10.0.0.1:5060\r\n\r\n";
  for (std::size_t chunk = 1; chunk <= crlf.size(); ++chunk) {
    const auto msgs = frame_all(crlf, chunk);
    REQUIRE(msgs.size() == 2);
    CHECK(msgs[0].kind == cd::AmiKind::banner);
    CHECK(msgs[0].version == "2.10.4");
    CHECK(msgs[1].kind == cd::AmiKind::event);
    CHECK(msgs[1].get("queue") == "sales");                  // names compare case-insensitively
    CHECK(msgs[1].get("AccountCode").empty());               // empty value keeps its space: trimmed
    CHECK(msgs[1].get("Value") == "sip:201@10.0.0.1:5060");  // split at the first ": " only
  }
}

TEST_CASE("Response: Follows is read raw up to --END COMMAND--", "[feed][ami]") {
  const std::string bytes =
      read_file(data_path("samples/panoramisk/rasterisk_command.ami")) +
      read_file(data_path("samples/panoramisk/command_core_show_version.ami"));
  const auto msgs = frame_all(bytes, 5);
  std::vector<const cd::AmiMessage*> follows;
  std::size_t actions = 0;
  for (const auto& msg : msgs) {
    if (msg.kind == cd::AmiKind::response) follows.push_back(&msg);
    if (msg.kind == cd::AmiKind::action) ++actions;
  }
  CHECK(actions == 2);  // the client's Action: blocks are framed and classified, not events
  REQUIRE(follows.size() == 2);
  // core show channels: 4 raw lines (header row, 0 active channels, 0 active calls,
  // 2 calls processed); the ": "-free column header must not be taken for headers.
  REQUIRE(follows[0]->output.size() == 4);
  CHECK(follows[0]->output[1] == "0 active channels");
  CHECK(follows[0]->output[3] == "2 calls processed");
  CHECK(follows[0]->get("ActionID") == "generated_id");
  REQUIRE(follows[1]->output.size() == 1);
  CHECK(follows[1]->output[0].rfind("Asterisk 11.11.0", 0) == 0);
}

TEST_CASE(
    "#### annotations are skipped; a banner mid-block starts a connection, the cut block is "
    "dropped",
    "[feed][ami]") {
  const std::string bytes =
      "Asterisk Call Manager/1.3\nEvent: FullyBooted\nStatus: Fully Booted\n\n"
      "Event: Hangup\nUniqueid: 1.1\n"  // cut by the disconnect: no blank line
      "#### DISCONNECT ####\n"
      "Asterisk Call Manager/1.3\nEvent: FullyBooted\n\n";
  const auto msgs = frame_all(bytes, 3);
  // The Hangup block cut by the disconnect is dropped: its missing headers could change it.
  REQUIRE(msgs.size() == 4);
  CHECK(msgs[0].kind == cd::AmiKind::banner);
  CHECK(msgs[1].get("Event") == "FullyBooted");
  CHECK(msgs[2].kind == cd::AmiKind::banner);
  CHECK(msgs[3].get("Event") == "FullyBooted");
}

TEST_CASE("an over-long line drops its message and the stream goes on", "[feed][ami]") {
  cd::AmiFramer f(cd::AmiFramer::Options{.max_line_bytes = 100});
  std::vector<std::string> events;
  auto cb = [&](const cd::AmiMessage& msg) { events.emplace_back(msg.get("Event")); };
  f.feed("Event: A\nJunk: " + std::string(500, 'x') + "\n\nEvent: B\n\n", cb);
  REQUIRE(events.size() == 1);
  CHECK(events[0] == "B");
  CHECK(f.dropped_too_large() == 1);
}

TEST_CASE("panoramisk QueueStatus answer: five members available, the unavailable one not",
          "[feed][ami][samples]") {
  Run r;
  r.text(read_file(data_path("samples/panoramisk/queue_status.ami")));
  r.done();
  // Six QueueMember: Agent/220, 213, 859, 214, 333 with Status 1 Paused 0 -> available in the
  // queue; Agent/999 Status 5 (unavailable) Paused 1 -> not logged in, no event.
  REQUIRE(r.rec.events.size() == 5);
  for (const auto& e : r.rec.events) {
    CHECK(e.event.type == ET::agent_state);
    CHECK(e.event.state == m::AgentState::available);
    REQUIRE(e.queues.size() == 1);
    CHECK(e.queues[0] == "xxxxxxxxxxxxxxxx-tous");
    CHECK(e.agent != "Agent/999");
  }
  CHECK(r.rec.events[0].agent == "Agent/220");
  CHECK(r.tr.stats().resyncs == 1);
  CHECK(r.rec.rejects.empty());
}

TEST_CASE("panoramisk agent login: QueueMemberAdded logs in, repeated statuses add nothing",
          "[feed][ami][samples]") {
  Run r;
  r.text(read_file(data_path("samples/panoramisk/agent_loggued_in.ami")));
  r.done();
  // QueueMemberStatus Agent/401 (first seen, Status 1) -> available in general_queue;
  // QueueMemberAdded Agent/402 -> available; two later identical statuses of 402 (Status 1)
  // change neither membership nor activity. The XiVO UserEvent with an Action: header is an
  // event and carries nothing.
  INFO(r.rec.all());
  REQUIRE(r.rec.events.size() == 2);
  CHECK(r.rec.events[0].agent == "Agent/401");
  CHECK(r.rec.events[1].agent == "Agent/402");
  CHECK(r.rec.events[1].event.state == m::AgentState::available);
  // Time comes from the Ping answers' Timestamp: the member was added after the answer of
  // 1409169989.456835 (line 669 of the capture).
  CHECK(r.rec.events[1].event.ts == Approx(1409169989.456835));
}

TEST_CASE("panoramisk unpause: three identical statuses count once (P11), then unpaused",
          "[feed][ami][samples]") {
  Run r;
  r.text(read_file(data_path("samples/panoramisk/agent_not_in_pause.ami")));
  r.done();
  INFO(r.rec.all());
  // QueueMemberStatus x3 (acme-tous, Status 2, Paused 1) -> one `paused`; QueueMemberPaused
  // Paused 0 without Reason -> `available`; the status of acme-tous after it changes nothing;
  // the status for the second queue is the member's first there -> `available`.
  REQUIRE(r.rec.events.size() == 3);
  CHECK(r.rec.events[0].event.state == m::AgentState::paused);
  CHECK(r.rec.events[0].reason.empty());
  CHECK(r.rec.events[0].queues[0] == "acme-tous");
  CHECK(r.rec.events[1].event.state == m::AgentState::available);
  CHECK(r.rec.events[1].queues[0] == "acme-tous");
  CHECK(r.rec.events[2].event.state == m::AgentState::available);
  CHECK(r.rec.events[2].queues[0] == "xxxxxxxxxxxx-tous");
  for (const auto& e : r.rec.events) CHECK(e.agent == "Agent/999");
}

TEST_CASE("panoramisk login, ping, logoff and command captures carry no queue events",
          "[feed][ami][samples]") {
  for (const char* f :
       {"login_ok.ami", "login_failed.ami", "login_md5.ami", "logoff.ami", "ping.ami",
        "queue_add.ami", "command_core_show_version.ami", "rasterisk_command.ami"}) {
    Run r;
    r.text(read_file(data_path(std::string("samples/panoramisk/") + f)));
    r.done();
    INFO(f);
    CHECK(r.rec.events.empty());
    CHECK(r.rec.rejects.empty());
  }
}

TEST_CASE(
    "cacofonisk caller cancel: QueueCallerAbandon without QUEUESTATUS is an inferred "
    "abandon with the stated HoldTime",
    "[feed][ami][samples]") {
  Recorder rec;
  auto st =
      cd::replay_ami_files({data_path("samples/cacofonisk/queue_a_cancel.json")}, {}, rec.sink());
  REQUIRE(st);
  INFO(rec.all());
  // One QueueCallerAbandon (HoldTime 11, queue 670100-540100), no QueueCallerJoin recorded, no
  // VarSet on the connection: P4 step 4 -> abandoned, inferred, wait 11.
  REQUIRE(rec.events.size() == 1);
  const auto& e = rec.events[0];
  CHECK(e.event.type == ET::call_abandoned);
  CHECK(e.call == "40a7a1f2a669-1585318545.326");  // P9: kept as the string it is
  CHECK(e.queue == "670100-540100");
  CHECK(e.event.wait == 11);
  CHECK(e.event.inferred);
  // No Timestamp header: the clock is the newest Uniqueid epoch seen (the Local channels
  // created at 1585318548).
  CHECK(e.event.ts == 1585318548);
  // 35 event blocks, two of them byte for byte the same at the same feed time (no Timestamp:
  // the identity includes the time the block is given): 34 translated, 1 duplicate.
  CHECK(st->events_in == 34);
  CHECK(st->duplicates == 1);
  CHECK(st->accepted == 34);
}

TEST_CASE(
    "cacofonisk answered, group, blind and attended transfer captures: no queue events "
    "recorded, nothing counted",
    "[feed][ami][samples]") {
  for (const char* f :
       {"queue_simple.json", "queue_group.json", "queue_blind_xfer.json", "queue_attn_xfer.json"}) {
    Recorder rec;
    auto st =
        cd::replay_ami_files({data_path(std::string("samples/cacofonisk/") + f)}, {}, rec.sink());
    INFO(f);
    REQUIRE(st);
    CHECK(rec.events.empty());
    CHECK(st->events_in > 60);
  }
}

namespace {
// A 12+ event block with a Timestamp header (manager.conf timestampevents=yes).
std::string ev(std::string_view name, double ts, std::string_view rest) {
  std::string s = "Event: " + std::string(name) + "\r\nPrivilege: agent,all\r\n";
  s += "Timestamp: " + std::to_string(ts) + "\r\n";
  s += std::string(rest);
  s += "\r\n";
  return s;
}
}  // namespace

TEST_CASE("P1-P3: Leave is not an outcome, AgentConnect answers, ring time is ms",
          "[feed][ami][pitfall]") {
  Run r;
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += ev("QueueCallerJoin", 1000,
          "Queue: sales\r\nUniqueid: 1000.1\r\nCallerIDNum: 555\r\nPosition: 1\r\n");
  s += ev("AgentCalled", 1001,
          "Queue: sales\r\nUniqueid: 1000.1\r\nInterface: PJSIP/201\r\nMemberName: Alice\r\n");
  s += ev("AgentRingNoAnswer", 1006,
          "Queue: sales\r\nUniqueid: 1000.1\r\nInterface: PJSIP/201\r\nMemberName: "
          "Alice\r\nRingTime: 5000\r\n");
  s += ev("QueueCallerLeave", 1012,
          "Queue: sales\r\nUniqueid: 1000.1\r\nPosition: 1\r\nCount: 0\r\n");
  s += ev("AgentConnect", 1012,
          "Queue: sales\r\nUniqueid: 1000.1\r\nInterface: PJSIP/202\r\nMemberName: "
          "Bob\r\nHoldTime: 12\r\nRingTime: 3\r\n");
  s += ev("AgentComplete", 1072,
          "Queue: sales\r\nUniqueid: 1000.1\r\nInterface: PJSIP/202\r\nMemberName: "
          "Bob\r\nHoldTime: 12\r\nTalkTime: 60\r\nReason: caller\r\n");
  r.text(s);
  r.done();
  INFO(r.rec.all());
  // enqueued, ringing (Alice), ring-no-answer (Alice, 5000 ms), answered (Bob, 12 s), ended.
  REQUIRE(r.rec.events.size() == 5);
  CHECK(r.rec.events[0].event.type == ET::call_enqueued);
  CHECK(r.rec.events[0].caller == "555");
  CHECK(r.rec.events[1].event.state == m::AgentState::ringing);
  CHECK(r.rec.events[2].event.type == ET::agent_ring_noanswer);
  CHECK(r.rec.events[2].event.ring_ms == 5000);  // not 5000 s, not 5 ms
  CHECK(r.rec.events[3].event.type == ET::call_answered);
  CHECK(r.rec.events[3].event.wait == 12);
  CHECK(r.rec.events[3].agent == "Bob");
  CHECK(r.rec.events[4].event.type == ET::call_ended);
  CHECK(r.rec.events[4].event.talk == 60);
  CHECK(r.rec.events[4].event.by == m::EndedBy::caller);
  CHECK(r.rec.count(ET::call_exited) == 0);  // the Leave 0 s before AgentConnect is not a key exit
}

TEST_CASE("AgentComplete without the caller's fields (caller channel gone first) ends the "
          "member's one answered call",
          "[feed][ami][pitfall]") {
  // Asterisk's app_queue sends the event without Uniqueid/CallerIDNum when the caller's channel
  // snapshot is already gone as the bridge ends ("sending incomplete event"); the member fields
  // and the queue are there.
  Run r;
  std::string s = "Asterisk Call Manager/5.0.1\r\n";
  for (const char* id : {"3000.1", "3000.2", "3000.3"}) {
    s += ev("QueueCallerJoin", 3000, std::string("Queue: support\r\nUniqueid: ") + id + "\r\n");
  }
  s += ev("AgentConnect", 3004,
          "Queue: support\r\nUniqueid: 3000.1\r\nInterface: PJSIP/carol\r\nMemberName: "
          "carol\r\nHoldTime: 4\r\n");
  // carol's call ends after 5 s, reported without the caller.
  s += ev("AgentComplete", 3009,
          "Queue: support\r\nInterface: PJSIP/carol\r\nMemberName: carol\r\nHoldTime: "
          "4\r\nTalkTime: 5\r\nReason: caller\r\n");
  // dave answers two calls of the queue (the second on a second line): a caller-less complete
  // cannot say which one ended, so it is rejected, not guessed.
  s += ev("AgentConnect", 3010,
          "Queue: support\r\nUniqueid: 3000.2\r\nInterface: PJSIP/dave\r\nMemberName: "
          "dave\r\nHoldTime: 10\r\n");
  s += ev("AgentConnect", 3011,
          "Queue: support\r\nUniqueid: 3000.3\r\nInterface: PJSIP/dave\r\nMemberName: "
          "dave\r\nHoldTime: 11\r\n");
  s += ev("AgentComplete", 3020,
          "Queue: support\r\nInterface: PJSIP/dave\r\nMemberName: dave\r\nHoldTime: "
          "10\r\nTalkTime: 10\r\nReason: caller\r\n");
  r.text(s);
  r.done();
  INFO(r.rec.all());
  REQUIRE(r.rec.count(ET::call_ended) == 1);
  const auto ended = std::find_if(r.rec.events.begin(), r.rec.events.end(), [](const auto& e) {
    return e.event.type == ET::call_ended;
  });
  CHECK(ended->call == "3000.1");
  CHECK(ended->agent == "carol");
  CHECK(ended->queue == "support");
  CHECK(ended->event.talk == 5);
  CHECK(r.tr.stats().completes_matched == 1);
  REQUIRE(r.rec.rejects.size() == 1);
  CHECK(r.rec.rejects[0].rfind("missing_field", 0) == 0);
  const auto engine = engine_of(r.rec);
  const auto snap = engine.snapshot();
  REQUIRE(agent_view(snap, "carol") != nullptr);
  CHECK(agent_view(snap, "carol")->today.talk_seconds == Approx(5.0));
  CHECK(agent_view(snap, "carol")->today.answered == 1);
}

TEST_CASE("P4: QUEUESTATUS decides; without it the outcome is inferred", "[feed][ami][pitfall]") {
  SECTION("VarSet TIMEOUT after QueueCallerAbandon: timed out, exact") {
    Run r;
    std::string s = "Asterisk Call Manager/2.10.4\r\n";
    s += ev("QueueCallerJoin", 2000, "Queue: sales\r\nUniqueid: 2000.1\r\n");
    s += ev("QueueCallerAbandon", 2030, "Queue: sales\r\nUniqueid: 2000.1\r\nHoldTime: 30\r\n");
    s += ev("VarSet", 2030, "Uniqueid: 2000.1\r\nVariable: QUEUESTATUS\r\nValue: TIMEOUT\r\n");
    s += ev("QueueCallerJoin", 2040, "Queue: sales\r\nUniqueid: 2000.2\r\n");
    s += ev("QueueCallerAbandon", 2043, "Queue: sales\r\nUniqueid: 2000.2\r\nHoldTime: 3\r\n");
    s += ev("Hangup", 2043, "Uniqueid: 2000.2\r\nCause: 16\r\n");
    r.text(s);
    r.done();
    INFO(r.rec.all());
    REQUIRE(r.rec.events.size() == 4);
    CHECK(r.rec.events[1].event.type == ET::call_exited);
    CHECK(r.rec.events[1].event.exit_reason == m::ExitReason::timeout);
    CHECK(r.rec.events[1].event.wait == 30);
    CHECK_FALSE(r.rec.events[1].event.inferred);
    // Dialplan events are on (a VarSet came) and the caller hung up with none: a real abandon.
    CHECK(r.rec.events[3].event.type == ET::call_abandoned);
    CHECK(r.rec.events[3].event.wait == 3);
    CHECK_FALSE(r.rec.events[3].event.inferred);
  }
  SECTION("no VarSet at all: timeout from the configured queue timeout, else abandoned") {
    cd::AmiTranslatorOptions o;
    o.queue_timeout_seconds["sales"] = 30;
    Run r(o);
    std::string s = "Asterisk Call Manager/2.10.4\r\n";
    s += ev("QueueCallerAbandon", 3029, "Queue: sales\r\nUniqueid: 3000.1\r\nHoldTime: 29\r\n");
    s += ev("QueueCallerAbandon", 3050, "Queue: sales\r\nUniqueid: 3000.2\r\nHoldTime: 4\r\n");
    s += ev("Hangup", 3050, "Uniqueid: 3000.2\r\n");
    r.text(s);
    r.done();
    INFO(r.rec.all());
    REQUIRE(r.rec.events.size() == 2);
    // 29 >= 30 - 1: timed out (step 2); released when the next event is 21 s later (> 2 s).
    CHECK(r.rec.events[0].event.type == ET::call_exited);
    CHECK(r.rec.events[0].event.exit_reason == m::ExitReason::timeout);
    CHECK(r.rec.events[0].event.inferred);
    CHECK(r.rec.events[1].event.type == ET::call_abandoned);
    CHECK(r.rec.events[1].event.inferred);
  }
  SECTION("a Leave with neither abandon nor answer within 2 s is an inferred key exit") {
    Run r;
    std::string s = "Asterisk Call Manager/2.10.4\r\n";
    s += ev("AgentCalled", 3999,
            "Queue: sales\r\nUniqueid: 3999.9\r\nInterface: PJSIP/9\r\nMemberName: Z\r\n");
    s += ev("QueueCallerJoin", 4000, "Queue: sales\r\nUniqueid: 4000.1\r\n");
    s += ev("QueueCallerLeave", 4009, "Queue: sales\r\nUniqueid: 4000.1\r\n");
    s += ev("PeerStatus", 4015, "Peer: PJSIP/9\r\n");
    r.text(s);
    r.done();
    INFO(r.rec.all());
    REQUIRE(r.rec.count(ET::call_exited) == 1);
    const auto& x = r.rec.events.back();
    CHECK(x.event.exit_reason == m::ExitReason::key);
    CHECK(x.event.wait == 9);  // 4009 - 4000 from timestamps: Leave states no wait
    CHECK(x.event.inferred);
  }
}

TEST_CASE("P5/P6: Asterisk 11 names and headers map the same", "[feed][ami][pitfall]") {
  Run r;
  // 11: Join/Leave, AgentConnect with Member + BridgedChannel (member uniqueid), Channel = the
  // member's channel; Holdtime/Ringtime spelled lower-case; QueueMemberPaused with Location.
  std::string s = "Asterisk Call Manager/1.3\n";
  s += "Event: Join\nPrivilege: call,all\nTimestamp: 5000.0\nChannel: SIP/100-1\nCallerIDNum: 100\n"
       "Queue: support\nPosition: 1\nCount: 1\nUniqueid: 5000.1\n\n";
  s += "Event: Leave\nPrivilege: call,all\nTimestamp: 5008.0\nChannel: SIP/100-1\nQueue: support\n"
       "Count: 0\nPosition: 1\nUniqueid: 5000.1\n\n";
  s += "Event: AgentConnect\nPrivilege: agent,all\nTimestamp: 5008.0\nQueue: support\n"
       "Uniqueid: 5000.1\nChannel: SIP/201-2\nMember: SIP/201\nMemberName: Carol\nHoldtime: 8\n"
       "BridgedChannel: 5008.4\nRingtime: 2\n\n";
  s += "Event: QueueMemberPaused\nPrivilege: agent,all\nTimestamp: 5100.0\nQueue: support\n"
       "Location: SIP/201\nMemberName: Carol\nPaused: 1\nReason: lunch\n\n";
  r.text(s);
  r.done();
  INFO(r.rec.all());
  REQUIRE(r.rec.events.size() == 3);
  CHECK(r.rec.events[1].event.type == ET::call_answered);
  CHECK(r.rec.events[1].call == "5000.1");  // the caller's Uniqueid, not BridgedChannel
  CHECK(r.rec.events[1].agent == "Carol");
  CHECK(r.rec.events[1].event.wait == 8);
  CHECK(r.rec.events[2].event.state == m::AgentState::paused);
  CHECK(r.rec.events[2].reason == "lunch");
}

TEST_CASE("P7: an interface learned from QueueMemberStatus names the agent later",
          "[feed][ami][pitfall]") {
  Run r;
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += ev("QueueMemberStatus", 100,
          "Queue: sales\r\nInterface: PJSIP/201\r\nMemberName: Li Lei\r\nStatus: 1\r\nPaused: "
          "0\r\nInCall: 0\r\n");
  // An event naming only the interface (MemberName = interface when none configured).
  s += ev("AgentRingNoAnswer", 110,
          "Queue: sales\r\nUniqueid: 110.1\r\nInterface: PJSIP/201\r\nMemberName: "
          "PJSIP/201\r\nRingTime: 15000\r\n");
  r.text(s);
  r.done();
  REQUIRE(r.rec.events.size() == 2);
  CHECK(r.rec.events[1].agent == "Li Lei");
}

TEST_CASE("P17: a QueueStatus answer interleaved with live events is routed by ActionID",
          "[feed][ami][pitfall]") {
  Run r;
  r.tr.expect_queue_status("qs-1");
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += "Response: Success\r\nActionID: qs-1\r\nEventList: start\r\nMessage: Queue status will "
       "follow\r\n\r\n";
  s += "Event: QueueParams\r\nQueue: sales\r\nCalls: 1\r\nActionID: qs-1\r\n\r\n";
  s += ev("QueueCallerJoin", 4995, "Queue: sales\r\nUniqueid: 4995.1\r\n");  // asynchronous
  s += "Event: QueueEntry\r\nQueue: sales\r\nPosition: 1\r\nUniqueid: 4993.1\r\nWait: 7\r\n"
       "CallerIDNum: unknown\r\nActionID: qs-1\r\n\r\n";
  // Someone else's QueueStatus (another ActionID) must not be applied by this client.
  s += "Event: QueueEntry\r\nQueue: sales\r\nPosition: 1\r\nUniqueid: 9.9\r\nWait: 1\r\nActionID: "
       "other\r\n\r\n";
  s += "Event: QueueStatusComplete\r\nTimestamp: 5000.0\r\nEventList: Complete\r\nListItems: "
       "2\r\nActionID: qs-1\r\n\r\n";
  r.text(s);
  r.done();
  INFO(r.rec.all());
  REQUIRE(r.rec.events.size() == 2);
  CHECK(r.rec.events[0].call == "4995.1");
  CHECK(r.rec.events[1].call == "4993.1");
  CHECK(r.rec.events[1].event.ts == 4993);  // 5000 - Wait 7
  CHECK(r.rec.events[1].caller.empty());    // `unknown` is no number
}

TEST_CASE("P12/P18: a reconnect rebuilds from QueueStatus without counting a visit twice",
          "[feed][ami][pitfall]") {
  Run r;
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += "Event: QueueStatusComplete\r\nTimestamp: 99.0\r\nActionID: a\r\n\r\n";
  s += ev("QueueCallerJoin", 100, "Queue: sales\r\nUniqueid: 100.1\r\n");
  s += ev("QueueCallerJoin", 101, "Queue: sales\r\nUniqueid: 100.2\r\n");
  s += ev("QueueCallerJoin", 102, "Queue: sales\r\nUniqueid: 100.3\r\n");
  s += ev(
      "AgentConnect", 110,
      "Queue: sales\r\nUniqueid: 100.1\r\nInterface: PJSIP/1\r\nMemberName: A\r\nHoldTime: 10\r\n");
  s += "#### DISCONNECT ####\r\n";
  // While down: 100.2 abandoned (unseen), 100.4 joined; 100.3 still waits.
  s += "Asterisk Call Manager/2.10.4\r\n";
  s += "Event: QueueParams\r\nQueue: sales\r\nActionID: b\r\n\r\n";
  s += "Event: QueueEntry\r\nQueue: sales\r\nUniqueid: 100.3\r\nWait: 98\r\nActionID: b\r\n\r\n";
  s += "Event: QueueEntry\r\nQueue: sales\r\nUniqueid: 100.4\r\nWait: 20\r\nActionID: b\r\n\r\n";
  s += "Event: QueueStatusComplete\r\nTimestamp: 200.0\r\nActionID: b\r\n\r\n";
  s += ev("AgentComplete", 205,
          "Queue: sales\r\nUniqueid: 100.1\r\nInterface: PJSIP/1\r\nMemberName: A\r\nHoldTime: "
          "10\r\nTalkTime: 95\r\nReason: agent\r\n");
  s += ev("AgentConnect", 206,
          "Queue: sales\r\nUniqueid: 100.3\r\nInterface: PJSIP/2\r\nMemberName: B\r\nHoldTime: "
          "104\r\n");
  s += ev(
      "AgentConnect", 206,
      "Queue: sales\r\nUniqueid: 100.4\r\nInterface: PJSIP/3\r\nMemberName: C\r\nHoldTime: 26\r\n");
  r.text(s);
  r.done();
  INFO(r.rec.all());
  CHECK(r.rec.count(ET::feed_restart) == 1);  // 100.2 vanished: closed without an outcome
  const auto engine = engine_of(r.rec);
  const auto snap = engine.snapshot();
  const auto* q = queue_view(snap, "sales");
  REQUIRE(q != nullptr);
  // Answered: 100.1, 100.3 (once, though it was listed again), 100.4 = 3; 100.2 not offered.
  CHECK(q->total.answered == 3);
  CHECK(q->total.offered() == 3);
  CHECK(q->total.abandoned == 0);
  CHECK(q->calls_waiting == 0);
  // 100.3 kept its entry time 102: answered at 206 with the stated 104 s.
  CHECK(q->total.answer_wait_sum == Approx(10 + 104 + 26));
  CHECK(snap.data_quality.restarts == 1);
}

TEST_CASE("names over the limit and non-numbers are rejected, never read as zero", "[feed][ami]") {
  cd::AmiTranslatorOptions o;
  o.max_name_bytes = 16;
  Run r(o);
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += ev("QueueCallerJoin", 1, "Queue: a-very-long-queue-name-indeed\r\nUniqueid: 1.1\r\n");
  s += ev("AgentConnect", 2,
          "Queue: q\r\nUniqueid: 1.2\r\nMemberName: A\r\nInterface: X/1\r\nHoldTime: ten\r\n");
  s += ev("QueueCallerJoin", 3, "Queue: q\r\n");
  r.text(s);
  r.done();
  CHECK(r.rec.events.empty());
  REQUIRE(r.rec.rejects.size() == 3);
  CHECK(r.rec.rejects[0].rfind("name_too_long", 0) == 0);
  CHECK(r.rec.rejects[1].rfind("bad_number", 0) == 0);
  CHECK(r.rec.rejects[2].rfind("missing_field", 0) == 0);
}

TEST_CASE("the queues filter keeps other queues out", "[feed][ami]") {
  cd::AmiTranslatorOptions o;
  o.queues = {"sales"};
  Run r(o);
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += ev("QueueCallerJoin", 1, "Queue: sales\r\nUniqueid: 1.1\r\n");
  s += ev("QueueCallerJoin", 1, "Queue: support\r\nUniqueid: 1.2\r\n");
  r.text(s);
  r.done();
  REQUIRE(r.rec.events.size() == 1);
  CHECK(r.rec.events[0].queue == "sales");
}

TEST_CASE("a capture opening with its QueueStatus answer waits for its first time", "[feed][ami]") {
  Run r;
  std::string s = "Asterisk Call Manager/1.3\n";
  s += "Event: QueueMember\nQueue: sales\nName: Ann\nLocation: SIP/1\nStatus: 1\nPaused: 0\nActionID: 1\n\n";
  s += "Event: QueueStatusComplete\nActionID: 1\n\n";
  // No Timestamp and no Uniqueid so far; this Ping answer is the capture's first time.
  s += "Response: Success\nActionID: p\nPing: Pong\nTimestamp: 5000.000000\n\n";
  // A QueueEntry's Uniqueid is a time clue too (the channel's creation, 5020): entered at
  // 5020 - Wait 7 = 5013.
  s += "Event: QueueMember\nQueue: sales\nName: Ann\nLocation: SIP/1\nStatus: 1\nPaused: 0\nActionID: 2\n\n";
  s += "Event: QueueEntry\nQueue: sales\nUniqueid: 5020.1\nWait: 7\nActionID: 2\n\n";
  s += "Event: QueueStatusComplete\nActionID: 2\n\n";
  r.text(s);
  r.done();
  INFO(r.rec.all());
  REQUIRE(r.rec.events.size() == 2);
  CHECK(r.rec.events[0].agent == "Ann");
  CHECK(r.rec.events[0].event.ts == 5000);  // not 0 (1970)
  CHECK(r.rec.events[1].event.type == ET::call_enqueued);
  CHECK(r.rec.events[1].event.ts == 5013);
  CHECK(r.rec.warnings_of("no_time") == 0);
}

namespace {
// Live: every message of `bytes` arrives at `receipt` (no Timestamp headers: timed on receipt).
void live(cd::AmiTranslator& tr, std::string_view bytes, double receipt) {
  cd::AmiFramer f;
  f.feed(bytes, [&](const cd::AmiMessage& msg) { tr.on_message(msg, receipt); });
}
}  // namespace

TEST_CASE("live AMI drop: a feed_restart at the drop ends pauses and calls; the rebuild restores",
          "[feed][ami][restart]") {
  Recorder rec;
  cd::AmiTranslator tr({}, rec.sink());
  auto qs = [](const std::string& id, const std::string& ben_status, int ben_incall) {
    std::string s;
    s += "Response: Success\r\nActionID: " + id + "\r\nEventList: start\r\n\r\n";
    s += "Event: QueueMember\r\nQueue: sales\r\nName: Ann\r\nLocation: PJSIP/ann\r\nStatus: 1\r\n"
         "InCall: 0\r\nPaused: 1\r\nPausedReason: lunch\r\nActionID: " + id + "\r\n\r\n";
    s += "Event: QueueMember\r\nQueue: sales\r\nName: Ben\r\nLocation: PJSIP/ben\r\nStatus: " +
         ben_status + "\r\nInCall: " + std::to_string(ben_incall) +
         "\r\nPaused: 0\r\nPausedReason: \r\nActionID: " + id + "\r\n\r\n";
    s += "Event: QueueStatusComplete\r\nEventList: Complete\r\nActionID: " + id + "\r\n\r\n";
    return s;
  };
  live(tr, "Asterisk Call Manager/5.0.1\r\n", 1000);
  live(tr, qs("cw-qs-1", "1", 0), 1000);
  live(tr, "Event: QueueCallerJoin\r\nQueue: sales\r\nUniqueid: 1010.1\r\n\r\n", 1010);
  live(tr, "Event: AgentConnect\r\nQueue: sales\r\nUniqueid: 1010.1\r\nInterface: PJSIP/ben\r\n"
           "MemberName: Ben\r\nHoldTime: 10\r\n\r\n", 1020);
  tr.on_disconnect(1100);
  m::Engine engine(m::EngineSettings{}, nullptr);
  std::size_t applied = 0;
  auto apply_new = [&] {
    for (; applied < rec.events.size(); ++applied) {
      cd::OwnedEvent copy = rec.events[applied];
      engine.apply(copy.view());
    }
  };
  apply_new();
  INFO(rec.all());
  REQUIRE(rec.count(ET::feed_restart) == 1);
  CHECK(rec.events.back().event.type == ET::feed_restart);
  CHECK(rec.events.back().event.ts == 1100);
  {
    // At the drop: Ann no longer paused, Ben no longer on the call; the caller is not waiting.
    const auto snap = engine.snapshot();
    REQUIRE(agent_view(snap, "Ann") != nullptr);
    REQUIRE(agent_view(snap, "Ben") != nullptr);
    CHECK(agent_view(snap, "Ann")->state == m::AgentState::available);
    CHECK(agent_view(snap, "Ben")->state == m::AgentState::available);
    CHECK(agent_view(snap, "Ann")->state_since == 1100);
  }
  // Reconnect 60 s later: no second restart; the answer tells Ann paused (lunch) and Ben in his
  // call (Status 2 = in use, InCall 1).
  live(tr, "Asterisk Call Manager/5.0.1\r\n", 1160);
  live(tr, qs("cw-qs-2", "2", 1), 1160);
  live(tr, "Event: AgentComplete\r\nQueue: sales\r\nUniqueid: 1010.1\r\nInterface: PJSIP/ben\r\n"
           "MemberName: Ben\r\nHoldTime: 10\r\nTalkTime: 180\r\nReason: caller\r\n\r\n", 1200);
  tr.finish();
  apply_new();
  CHECK(rec.count(ET::feed_restart) == 1);
  const auto before_end = engine.snapshot();
  CHECK(agent_view(before_end, "Ann")->state == m::AgentState::paused);
  CHECK(agent_view(before_end, "Ann")->pause_reason == "lunch");
  CHECK(agent_view(before_end, "Ann")->state_since == 1160);
  engine.finish(1260);
  const auto snap = engine.snapshot();
  // Ann paused 1000..1100 and 1160..1260 = 200 s (not 260: the 60 s gap is no pause time).
  CHECK(agent_view(snap, "Ann")->today.paused_seconds() == Approx(200.0));
  CHECK(agent_view(snap, "Ann")->today.paused_by_reason.at("lunch") == Approx(200.0));
  // Ben: talk as stated, 180 s; the call counts once (answered 1) although it spanned the drop.
  CHECK(agent_view(snap, "Ben")->today.talk_seconds == Approx(180.0));
  CHECK(agent_view(snap, "Ben")->today.answered == 1);
  const auto* q = queue_view(snap, "sales");
  REQUIRE(q != nullptr);
  CHECK(q->total.answered == 1);
  CHECK(q->total.offered() == 1);
}

TEST_CASE("Event: Shutdown is the first sign of a restart; the drop after it adds none",
          "[feed][ami][restart]") {
  Run r;
  std::string s = "Asterisk Call Manager/5.0.1\r\n";
  s += ev("QueueCallerJoin", 100, "Queue: sales\r\nUniqueid: 100.1\r\n");
  s += ev("QueueCallerJoin", 110, "Queue: sales\r\nUniqueid: 110.2\r\n");
  // `core stop now`: the waiting callers are hung up first (abandons), then Shutdown.
  s += ev("QueueCallerAbandon", 150,
          "Queue: sales\r\nUniqueid: 100.1\r\nPosition: 1\r\nOriginalPosition: 1\r\nHoldTime: 50\r\n");
  s += "Event: Shutdown\r\nPrivilege: system,all\r\nTimestamp: 150.5\r\nShutdown: Uncleanly\r\n"
       "Restart: True\r\n\r\n";
  s += "Asterisk Call Manager/5.0.1\r\n";
  s += "Event: FullyBooted\r\nPrivilege: system,all\r\nTimestamp: 200.0\r\nUptime: 5\r\n\r\n";
  r.text(s);
  r.done();
  INFO(r.rec.all());
  REQUIRE(r.rec.count(ET::feed_restart) == 1);
  // Order: two entries, the abandon (released before the restart), the restart at 150.5.
  REQUIRE(r.rec.events.size() == 4);
  CHECK(r.rec.events[2].event.type == ET::call_abandoned);
  CHECK(r.rec.events[3].event.type == ET::feed_restart);
  CHECK(r.rec.events[3].event.ts == 150.5);
  const auto engine = engine_of(r.rec);
  const auto* q = queue_view(engine.snapshot(), "sales");
  REQUIRE(q != nullptr);
  // 100.1 abandoned (wait 50) counts; 110.2, open at the restart, is cut (not offered).
  CHECK(q->total.abandoned == 1);
  CHECK(q->total.offered() == 1);
  CHECK(engine.data_quality().visits_cut == 1);
}

TEST_CASE("live AMI: a Timestamp or a stated time out of the window rejects the event; a waiting "
          "caller listed since then enters now",
          "[feed][ami][time]") {
  Recorder rec;
  cd::AmiTranslator tr({}, rec.sink());
  const double now = 1796000000;
  live(tr, "Asterisk Call Manager/5.0.1\r\n", now);
  // A PBX clock of 1970, and one of the year 318,857: both rejected, neither moves the clock.
  live(tr, "Event: QueueCallerJoin\r\nTimestamp: 1.000000\r\nQueue: sales\r\nUniqueid: 1.1\r\n\r\n", now);
  live(tr, "Event: QueueCallerJoin\r\nTimestamp: 9999999999999.000000\r\nQueue: sales\r\nUniqueid: 1.2\r\n\r\n", now);
  live(tr, "Event: QueueCallerJoin\r\nTimestamp: 1796000000.000000\r\nQueue: sales\r\nUniqueid: 1.3\r\n\r\n", now);
  // A hold time of 31,700 years: rejected; the one after it counts.
  live(tr, "Event: AgentConnect\r\nTimestamp: 1796000010.000000\r\nQueue: sales\r\nUniqueid: 1.3\r\n"
           "Interface: PJSIP/ann\r\nMemberName: Ann\r\nHoldTime: 999999999999\r\n\r\n", now + 10);
  live(tr, "Event: AgentConnect\r\nTimestamp: 1796000010.000000\r\nQueue: sales\r\nUniqueid: 1.3\r\n"
           "Interface: PJSIP/ann\r\nMemberName: Ann\r\nHoldTime: 10\r\n\r\n", now + 10);
  // A QueueStatus row of a caller waiting 31,700 years: the caller is there, entered now.
  live(tr, "Event: QueueEntry\r\nQueue: sales\r\nUniqueid: 1.4\r\nWait: 999999999999\r\nActionID: x\r\n\r\n"
           "Event: QueueStatusComplete\r\nActionID: x\r\n\r\n", now + 20);
  tr.finish();
  INFO(rec.all());
  // By hand: rejects 1.1 (Timestamp 1), 1.2 (far ahead), the first AgentConnect (HoldTime).
  REQUIRE(rec.rejects.size() == 3);
  CHECK(rec.rejects[0].rfind("bad_value: QueueCallerJoin Timestamp 1 is 1795999999 s before", 0) == 0);
  CHECK(rec.rejects[1].find("ahead of the daemon's clock") != std::string::npos);
  CHECK(rec.rejects[2].rfind("bad_number: AgentConnect HoldTime", 0) == 0);
  // Events: enqueue 1.3 at now, its answer (wait 10), enqueue 1.4 at now + 20 (clamped).
  REQUIRE(rec.count(ET::call_enqueued) == 2);
  CHECK(rec.events[0].event.ts == now);
  REQUIRE(rec.count(ET::call_answered) == 1);
  CHECK(rec.events[1].event.wait == 10);
  CHECK(rec.events[2].call == "1.4");
  CHECK(rec.events[2].event.ts == now + 20);
  CHECK(rec.warnings_of("time_clamped") == 1);
}

TEST_CASE("callers and rings of a real Asterisk: the AMI capture names the callers queue_log logs",
          "[feed][ami][waiting]") {
  // tests/data/asterisk/day-tson: one run of Asterisk 20 recorded twice, as AMI bytes and as its
  // queue_log. Every ENTERQUEUE callerid (the 7th queue_log column) is the caller of the AMI
  // QueueCallerJoin of the same Uniqueid; its 11 entries, read off the file.
  const std::map<std::string, std::string> logged = {
      {"1796243464.1", "5551001"},  {"1796243465.3", "5551002"},  {"1796243466.11", "5551003"},
      {"1796243467.13", "5551004"}, {"1796243468.15", "5551005"}, {"1796243469.17", "5551012"},
      {"1796243470.19", "5551006"}, {"1796243474.21", "5551007"}, {"1796243478.25", "5551008"},
      {"1796243488.39", "5551009"}, {"1796243495.43", "5551010"}};
  Run r;
  r.text(read_file(data_path("asterisk/day-tson/ami.raw")));
  r.done();
  std::map<std::string, std::string> seen;
  int rings_with_call = 0;
  for (const auto& e : r.rec.events) {
    if (e.event.type == ET::call_enqueued && !seen.count(e.call)) seen[e.call] = e.caller;
    if (e.event.type == ET::agent_state && e.event.state == m::AgentState::ringing && !e.call.empty()) {
      CHECK(logged.count(e.call) == 1);  // a ring names a caller that entered a queue
      ++rings_with_call;
    }
  }
  CHECK(seen == logged);
  CHECK(rings_with_call > 0);  // AgentCalled (eventwhencalled=yes on this lab) names its caller
}

TEST_CASE("a caller with a withheld number is named by CallerIDName; AgentCalled names the call",
          "[feed][ami][waiting]") {
  Run r;
  std::string s = "Asterisk Call Manager/2.10.4\r\n";
  s += ev("QueueCallerJoin", 1000,
          "Queue: sales\r\nUniqueid: 1000.1\r\nCallerIDNum: <unknown>\r\nCallerIDName: Ada\r\nPosition: 1\r\n");
  s += ev("AgentCalled", 1001,
          "Queue: sales\r\nUniqueid: 1000.1\r\nInterface: PJSIP/201\r\nMemberName: Alice\r\n");
  r.text(s);
  r.done();
  REQUIRE(r.rec.events.size() >= 2);
  CHECK(r.rec.events[0].caller == "Ada");
  CHECK(r.rec.events[1].event.state == m::AgentState::ringing);
  CHECK(r.rec.events[1].call == "1000.1");
}
