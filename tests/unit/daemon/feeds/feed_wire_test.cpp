// The binary hand-over of the feed threads (feeds/feed_wire.hpp): every field of an event comes
// back as written, the accounting records keep their order, and a broken batch stops cleanly.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "feeds/duplicate_filter.hpp"
#include "feeds/feed_wire.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;

TEST_CASE("a batch carries every event field, feed_restart and the message accounting in order",
          "[feed][wire]") {
  const std::vector<std::string_view> queues = {"sales", "销售"};
  m::Event e;
  e.type = m::EventType::agent_state;
  e.ts = 1767600000.123456;
  e.call = "1767600000.10";
  e.queue = "sales";
  e.agent = "Alice";
  e.caller = "+3155";
  e.reason = "";  // an empty pause reason is a value
  e.to_queue = "support";
  e.to = "2001";
  e.wait = 12.5;
  e.talk = m::kNoValue;
  e.hold = 3;
  e.wrap = 0;
  e.ring_ms = 1500;
  e.exit_reason = m::ExitReason::key;
  e.state = m::AgentState::paused;
  e.by = m::EndedBy::transfer;
  e.priority = -7;
  e.queues = queues;
  e.inferred = true;
  m::Event restart;
  restart.type = m::EventType::feed_restart;
  restart.ts = 1767600001;

  cd::WireWriter w;
  w.accepted();
  w.event(e);
  w.rejected("bad_number", std::string(2000, 'x'));
  w.duplicate(2);
  w.ignored("not_queue_event");
  w.event(restart);
  CHECK(w.records() == 6);

  cd::WireReader r(w.bytes());
  cd::WireItem it;
  REQUIRE(r.next(it));
  CHECK(it.kind == cd::WireRecord::accepted);
  CHECK(it.count == 1);
  REQUIRE(r.next(it));
  REQUIRE(it.kind == cd::WireRecord::event);
  const m::Event& g = it.event;
  CHECK(g.type == m::EventType::agent_state);
  CHECK(g.ts == e.ts);  // bit for bit: no decimal text in between
  CHECK(g.call == "1767600000.10");
  CHECK(g.queue == "sales");
  CHECK(g.agent == "Alice");
  CHECK(g.caller == "+3155");
  CHECK(g.reason.empty());
  CHECK(g.to_queue == "support");
  CHECK(g.to == "2001");
  CHECK(g.wait == 12.5);
  CHECK(std::isnan(g.talk));
  CHECK(g.hold == 3);
  CHECK(g.wrap == 0);
  CHECK(g.ring_ms == 1500);
  CHECK(g.exit_reason == m::ExitReason::key);
  CHECK(g.state == m::AgentState::paused);
  CHECK(g.by == m::EndedBy::transfer);
  CHECK(g.priority == -7);
  CHECK(g.inferred);
  REQUIRE(g.queues.size() == 2);
  CHECK(g.queues[1] == "销售");
  REQUIRE(r.next(it));
  CHECK(it.kind == cd::WireRecord::rejected);
  CHECK(it.label == "bad_number");
  CHECK(it.detail.size() == cd::kWireMaxDetail);  // detail is capped
  REQUIRE(r.next(it));
  CHECK(it.kind == cd::WireRecord::duplicate);
  CHECK(it.count == 2);
  REQUIRE(r.next(it));
  CHECK(it.kind == cd::WireRecord::ignored);
  CHECK(it.label == "not_queue_event");
  CHECK(it.count == 1);
  REQUIRE(r.next(it));
  CHECK(it.event.type == m::EventType::feed_restart);
  CHECK(it.event.ts == 1767600001);
  CHECK_FALSE(r.next(it));
  CHECK(r.error().empty());
}

TEST_CASE("a truncated or foreign batch stops at the bad record and says why", "[feed][wire]") {
  cd::WireWriter w;
  m::Event e;
  e.call = "c1";
  e.queue = "q";
  w.event(e);
  w.accepted();
  const std::string& b = w.bytes();
  // Every cut inside the event record: no record, an error, never a read past the end.
  for (std::size_t cut = 2; cut + 5 < b.size(); ++cut) {
    cd::WireReader r(std::string_view(b).substr(0, cut));
    cd::WireItem it;
    CHECK_FALSE(r.next(it));
    CHECK_FALSE(r.error().empty());
    CHECK_FALSE(r.next(it));
  }
  cd::WireReader foreign(std::string_view("{\"type\":\"call_enqueued\"}"));
  cd::WireItem it;
  CHECK_FALSE(foreign.next(it));
  CHECK(foreign.error() == "unknown batch version");
}

TEST_CASE("the duplicate filter remembers a day's fingerprints and refuses more than its bound",
          "[feed][dedupe]") {
  cd::DuplicateFilter::Options o;
  o.max_entries = 768;  // the first table (1024 slots) at its 3/4 load
  cd::DuplicateFilter f(o);
  const double day = 1767571200;  // 2026-01-05 00:00Z
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    REQUIRE_FALSE(f.contains(cd::fingerprint(std::to_string(i)), day + 10));
    f.insert(cd::fingerprint(std::to_string(i)), day + 10);
  }
  // 768 remembered (1024 slots filled to 3/4, the bound), 1000 - 768 = 232 accepted but not
  // remembered.
  CHECK(f.size() == 768);
  CHECK(f.not_remembered() == 232);
  CHECK(f.capacity() == 1024);
  CHECK(f.contains(cd::fingerprint("1"), day + 20));
  CHECK(f.contains(cd::fingerprint("768"), day + 20));
  CHECK_FALSE(f.contains(cd::fingerprint("1000"), day + 20));
  // The next day (UTC, day start 0) empties the table.
  CHECK_FALSE(f.contains(cd::fingerprint("1"), day + 86400));
  CHECK(f.size() == 0);
  // Parts are not concatenations: ("ab","c") and ("a","bc") differ.
  CHECK(cd::Fingerprinter().add("ab").add("c").value() != cd::Fingerprinter().add("a").add("bc").value());
}
