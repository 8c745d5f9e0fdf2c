// /metrics rendering from hand-built snapshots: exact sample lines, escaping, absent ratios, and
// the output of a whole body accepted by promtool.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "serve/exporter.hpp"

using callwatch::daemon::ExportOptions;
using callwatch::daemon::FeedHealth;
using callwatch::daemon::metric_table;
using callwatch::daemon::render_metrics;
namespace m = callwatch::metrics;

namespace {

bool has_line(const std::string& body, const std::string& line) {
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}
bool has_prefix_line(const std::string& body, const std::string& prefix) {
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// One queue worked by hand. Window 15m and today hold the same counters:
//   answered 3 (2 within T), abandoned 2 (1 short, 2 within T), timed out 1
//   offered = 3 + 2 + 1 = 6
//   SL answered          = A_T / answered                      = 2/3
//   SL offered           = A_T / (offered - short)             = 2/5 = 0.4
//   SL abandons_positive = (A_T + Ab_T - short) / (off - short) = 3/5 = 0.6
//   SL abandons_ignored  = A_T / (offered - abandoned)          = 2/4 = 0.5
//   ASA = 45 s / 3 = 15; AHT = 600 s / 2 = 300; abandon ratio = 2/6
// Window 1h is empty: every ratio there is absent.
m::Snapshot worked_snapshot() {
  m::Snapshot s;
  s.now = 1767600000;
  s.events_applied = 12;
  m::QueueView q;
  q.name = "客服";
  q.settings.display_name = "客服 Support";
  q.settings.sl_threshold = 20;
  q.settings.sl_target = 0.8;
  q.calls_waiting = 2;
  q.longest_wait = 42.5;
  m::QueueCounters c;
  c.answered = 3;
  c.answered_within_sl = 2;
  c.abandoned = 2;
  c.short_abandoned = 1;
  c.abandoned_within_sl = 2;
  c.timed_out = 1;
  c.answered_with_wait = 3;
  c.answer_wait_sum = 45;
  c.handled = 2;
  c.handle_sum = 600;
  c.bounced = 1;
  // Members' time: 300 s busy, 900 s idle, 600 s paused: occupancy 300 / 1200 = 0.25.
  c.agent_busy_seconds = 300;
  c.agent_idle_seconds = 900;
  c.agent_paused_seconds = 600;
  q.total = c;
  q.windows[static_cast<int>(m::WindowKind::sliding_15m)].counters = c;
  q.windows[static_cast<int>(m::WindowKind::sliding_15m)].since = 1767599100;
  q.windows[static_cast<int>(m::WindowKind::today)].counters = c;
  q.windows[static_cast<int>(m::WindowKind::today)].since = 1767571200;
  q.windows[static_cast<int>(m::WindowKind::sliding_1h)].since = 1767596400;
  // Waits 5 and 12 and 30: bucket 10 holds 1, bucket 20 holds 1, +Inf holds 1.
  q.answer_wait.bounds = {10, 20};
  q.answer_wait.counts = {1, 1, 1};
  q.answer_wait.sum = 47;
  q.answer_wait.count = 3;
  q.abandon_wait.bounds = {10, 20};
  q.abandon_wait.counts = {0, 0, 0};
  q.handle.bounds = {300};
  q.handle.counts = {1, 1};
  q.handle.sum = 600;
  q.handle.count = 2;
  q.agents = {1, 4, 0, 2, 1, 3};
  q.agents_required = 7;
  q.staffed = 8;  // available 4 + on call 2 + wrap-up 1 + ringing 0 (the engine's figure)
  q.staffing_gap = 0;
  q.estimated_wait = 12.5;
  q.surge_ratio = 1.5;
  s.queues.push_back(q);
  return s;
}

}  // namespace

TEST_CASE("a worked queue renders its exact sample lines", "[daemon][exporter]") {
  std::string out;
  render_metrics(worked_snapshot(), {}, ExportOptions{false, 2000, "9.9.9"}, out);
  const std::string L = "{queue=\"客服\"}";
  CHECK(has_line(out, "callwatch_queue_info{queue=\"客服\",display_name=\"客服 Support\",site=\"\"} 1"));
  CHECK(has_line(out, "callwatch_queue_calls_waiting" + L + " 2"));
  CHECK(has_line(out, "callwatch_queue_longest_wait_seconds" + L + " 42.5"));
  CHECK(has_line(out, "callwatch_queue_calls_offered_total" + L + " 6"));
  CHECK(has_line(out, "callwatch_queue_calls_answered_total" + L + " 3"));
  CHECK(has_line(out, "callwatch_queue_calls_abandoned_total" + L + " 2"));
  CHECK(has_line(out, "callwatch_queue_calls_short_abandoned_total" + L + " 1"));
  CHECK(has_line(out, "callwatch_queue_calls_timed_out_total" + L + " 1"));
  CHECK(has_line(out, "callwatch_queue_calls_bounced_total" + L + " 1"));
  CHECK(has_line(out, "callwatch_queue_agents_staffed" + L + " 8"));
  CHECK(has_line(out, "callwatch_queue_estimated_wait_seconds" + L + " 12.5"));
  CHECK(has_line(out, "callwatch_queue_occupancy_ratio{queue=\"客服\",window=\"today\"} 0.25"));
  CHECK(has_line(out, "callwatch_queue_occupancy_ratio{queue=\"客服\",window=\"15m\"} 0.25"));
  CHECK_FALSE(has_prefix_line(out, "callwatch_queue_occupancy_ratio{queue=\"客服\",window=\"1h\"}"));

  // Cumulative buckets: 1, 1+1, and +Inf = count.
  CHECK(has_line(out, "callwatch_queue_answer_wait_seconds_bucket{queue=\"客服\",le=\"10\"} 1"));
  CHECK(has_line(out, "callwatch_queue_answer_wait_seconds_bucket{queue=\"客服\",le=\"20\"} 2"));
  CHECK(has_line(out, "callwatch_queue_answer_wait_seconds_bucket{queue=\"客服\",le=\"+Inf\"} 3"));
  CHECK(has_line(out, "callwatch_queue_answer_wait_seconds_sum" + L + " 47"));
  CHECK(has_line(out, "callwatch_queue_answer_wait_seconds_count" + L + " 3"));
  CHECK(has_line(out, "callwatch_queue_abandon_wait_seconds_bucket{queue=\"客服\",le=\"+Inf\"} 0"));
  CHECK(has_line(out, "callwatch_queue_handle_seconds_bucket{queue=\"客服\",le=\"300\"} 1"));
  CHECK(has_line(out, "callwatch_queue_handle_seconds_count" + L + " 2"));

  const std::string sl = "callwatch_queue_service_level_ratio{queue=\"客服\",window=";
  CHECK(has_line(out, sl + "\"15m\",formula=\"answered\"} 0.6666666666666666"));
  CHECK(has_line(out, sl + "\"15m\",formula=\"offered\"} 0.4"));
  CHECK(has_line(out, sl + "\"15m\",formula=\"abandons_positive\"} 0.6"));
  CHECK(has_line(out, sl + "\"15m\",formula=\"abandons_ignored\"} 0.5"));
  CHECK(has_line(out, sl + "\"today\",formula=\"offered\"} 0.4"));
  // No data in 1h: absent, never 0.
  CHECK_FALSE(has_prefix_line(out, sl + "\"1h\""));
  CHECK_FALSE(has_prefix_line(out, "callwatch_queue_asa_seconds{queue=\"客服\",window=\"1h\"}"));

  CHECK(has_line(out, "callwatch_queue_asa_seconds{queue=\"客服\",window=\"15m\"} 15"));
  CHECK(has_line(out, "callwatch_queue_aht_seconds{queue=\"客服\",window=\"today\"} 300"));
  CHECK(has_line(out, "callwatch_queue_abandon_ratio{queue=\"客服\",window=\"15m\"} 0.3333333333333333"));
  CHECK(has_line(out, "callwatch_queue_window_start_timestamp_seconds{queue=\"客服\",window=\"1h\"} 1767596400"));
  CHECK(has_line(out, "callwatch_queue_service_level_threshold_seconds" + L + " 20"));
  CHECK(has_line(out, "callwatch_queue_service_level_target_ratio" + L + " 0.8"));

  CHECK(has_line(out, "callwatch_queue_agents{queue=\"客服\",state=\"logged_out\"} 1"));
  CHECK(has_line(out, "callwatch_queue_agents{queue=\"客服\",state=\"available\"} 4"));
  CHECK(has_line(out, "callwatch_queue_agents{queue=\"客服\",state=\"ringing\"} 0"));
  CHECK(has_line(out, "callwatch_queue_agents{queue=\"客服\",state=\"on_call\"} 2"));
  CHECK(has_line(out, "callwatch_queue_agents{queue=\"客服\",state=\"wrap_up\"} 1"));
  CHECK(has_line(out, "callwatch_queue_agents{queue=\"客服\",state=\"paused\"} 3"));
  CHECK(has_line(out, "callwatch_queue_agents_required" + L + " 7"));
  CHECK(has_line(out, "callwatch_queue_arrival_surge_ratio" + L + " 1.5"));
  CHECK(has_line(out, "callwatch_engine_events_applied_total 12"));
  CHECK(has_line(out, "callwatch_engine_snapshot_timestamp_seconds 1767600000"));
  CHECK(has_line(out, "callwatch_build_info{version=\"9.9.9\"} 1"));
  // Not opted in: no per-agent series at all.
  CHECK(out.find("callwatch_agent_state") == std::string::npos);
}

TEST_CASE("unknown figures are absent, not zero", "[daemon][exporter]") {
  m::Snapshot s = worked_snapshot();
  s.queues[0].agents_required.reset();
  s.queues[0].surge_ratio = m::kNoValue;
  s.queues[0].calls_waiting = 0;
  s.queues[0].longest_wait = m::kNoValue;
  for (auto& w : s.queues[0].windows) w.counters = {};
  std::string out;
  render_metrics(s, {}, {}, out);
  CHECK_FALSE(has_prefix_line(out, "callwatch_queue_agents_required{"));
  CHECK_FALSE(has_prefix_line(out, "callwatch_queue_arrival_surge_ratio{"));
  CHECK_FALSE(has_prefix_line(out, "callwatch_queue_service_level_ratio{"));
  CHECK_FALSE(has_prefix_line(out, "callwatch_queue_aht_seconds{"));
  // The family is still described, so dashboards see it exists.
  CHECK(has_line(out, "# TYPE callwatch_queue_agents_required gauge"));
  // Nobody waiting: the longest wait is a real 0.
  CHECK(has_line(out, "callwatch_queue_longest_wait_seconds{queue=\"客服\"} 0"));
}

TEST_CASE("label values escape backslash, quote and newline", "[daemon][exporter]") {
  m::Snapshot s;
  m::QueueView q;
  q.name = "a\"b\\c\nd";
  q.calls_waiting = 1;
  s.queues.push_back(q);
  std::string out;
  render_metrics(s, {}, {}, out);
  CHECK(has_line(out, R"(callwatch_queue_calls_waiting{queue="a\"b\\c\nd"} 1)"));
}

TEST_CASE("feed health, alerts and opted-in agent states render", "[daemon][exporter]") {
  m::Snapshot s;
  m::AgentView a;
  a.name = "李雷";
  a.state = m::AgentState::paused;
  s.agents.push_back(a);
  m::AlertView firing;
  firing.rule = "long_wait";
  firing.queue = "sales";
  firing.severity = m::AlertSeverity::critical;
  firing.state = m::AlertState::firing;
  m::AlertView pending = firing;
  pending.queue = "support";
  pending.state = m::AlertState::pending;
  s.alerts = {firing, pending};

  FeedHealth f;
  f.name = "native";
  f.up = true;
  f.last_event_ts = 1767600000.5;
  f.events = 7;
  f.rejected = {{"not_json", 2}, {"too_large", 1}};
  FeedHealth idle;
  idle.name = "sim";

  std::string out;
  render_metrics(s, {f, idle}, ExportOptions{true, 2000, "1"}, out);
  CHECK(has_line(out, "callwatch_agent_state{agent=\"李雷\",state=\"paused\"} 1"));
  CHECK(has_line(out, "callwatch_agent_state{agent=\"李雷\",state=\"available\"} 0"));
  CHECK(has_line(out, "callwatch_alerts_firing{alert=\"long_wait\",severity=\"critical\",queue=\"sales\"} 1"));
  CHECK(has_line(out, "callwatch_alerts_firing{alert=\"long_wait\",severity=\"critical\",queue=\"support\"} 0"));
  CHECK(has_line(out, "callwatch_feed_up{feed=\"native\"} 1"));
  CHECK(has_line(out, "callwatch_feed_up{feed=\"sim\"} 0"));
  CHECK(has_line(out, "callwatch_feed_last_event_timestamp_seconds{feed=\"native\"} 1767600000.5"));
  // Never received anything: no timestamp rather than 1970.
  CHECK_FALSE(has_prefix_line(out, "callwatch_feed_last_event_timestamp_seconds{feed=\"sim\"}"));
  CHECK(has_line(out, "callwatch_feed_events_total{feed=\"native\"} 7"));
  CHECK(has_line(out, "callwatch_feed_events_rejected_total{feed=\"native\",reason=\"not_json\"} 2"));
  CHECK(has_line(out, "callwatch_feed_events_rejected_total{feed=\"native\",reason=\"too_large\"} 1"));
}

TEST_CASE("agent states beyond the cap are counted, not shown", "[daemon][exporter]") {
  m::Snapshot s;
  for (const char* n : {"a1", "a2", "a3"}) {
    m::AgentView a;
    a.name = n;
    s.agents.push_back(a);
  }
  std::string out;
  // Cap 2 of 3 agents: a1 and a2 shown (6 series each), a3 counted: 3 - 2 = 1 omitted.
  render_metrics(s, {}, ExportOptions{true, 2, "1"}, out);
  CHECK(has_line(out, "callwatch_agent_state{agent=\"a2\",state=\"logged_out\"} 1"));
  CHECK_FALSE(has_prefix_line(out, "callwatch_agent_state{agent=\"a3\""));
  CHECK(has_line(out, "callwatch_agent_state_omitted_agents 1"));
}

TEST_CASE("every family of the table has HELP and TYPE exactly once", "[daemon][exporter]") {
  std::string out;
  render_metrics(worked_snapshot(), {}, ExportOptions{true, 2000, "1"}, out);
  std::set<std::string> names;
  for (const auto& i : metric_table()) {
    CAPTURE(i.name);
    CHECK(names.insert(std::string(i.name)).second);
    const std::string type_line = "# TYPE " + std::string(i.name) + " " + std::string(i.type);
    CHECK(has_line(out, type_line));
    CHECK(has_prefix_line(out, "# HELP " + std::string(i.name) + " "));
    if (i.type == "counter") CHECK(i.name.substr(i.name.size() - 6) == "_total");
  }
  // Every DESIGN.md name is in the table.
  for (const char* n : {"callwatch_queue_calls_waiting", "callwatch_queue_longest_wait_seconds",
                        "callwatch_queue_calls_offered_total", "callwatch_queue_calls_answered_total",
                        "callwatch_queue_calls_abandoned_total", "callwatch_queue_calls_short_abandoned_total",
                        "callwatch_queue_calls_timed_out_total", "callwatch_queue_answer_wait_seconds",
                        "callwatch_queue_abandon_wait_seconds", "callwatch_queue_handle_seconds",
                        "callwatch_queue_service_level_ratio", "callwatch_queue_agents",
                        "callwatch_queue_agents_required", "callwatch_queue_arrival_surge_ratio",
                        "callwatch_agent_state", "callwatch_alerts_firing", "callwatch_feed_up",
                        "callwatch_feed_last_event_timestamp_seconds", "callwatch_feed_events_total",
                        "callwatch_feed_events_rejected_total", "callwatch_build_info"}) {
    CAPTURE(n);
    CHECK(names.count(n) == 1);
  }
}

TEST_CASE("the buffer is replaced, not appended to", "[daemon][exporter]") {
  std::string out = "garbage from the last scrape\n";
  render_metrics(m::Snapshot{}, {}, {}, out);
  CHECK(out.rfind("# HELP ", 0) == 0);
}

TEST_CASE("sample values use Prometheus spellings", "[daemon][exporter]") {
  using callwatch::daemon::append_sample_value;
  std::string s;
  append_sample_value(std::numeric_limits<double>::infinity(), s);
  s += ' ';
  append_sample_value(-std::numeric_limits<double>::infinity(), s);
  s += ' ';
  append_sample_value(std::nan(""), s);
  s += ' ';
  append_sample_value(1e21, s);
  s += ' ';
  append_sample_value(0.1, s);
  CHECK(s == "+Inf -Inf NaN 1e+21 0.1");
}

TEST_CASE("promtool accepts a rendered body", "[daemon][exporter][promtool]") {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    FAIL("promtool is not installed (Debian package prometheus; ./callwatch.sh installs it)");
  }
  m::Snapshot s = worked_snapshot();
  m::QueueView q2;
  q2.name = "sales \"east\"\\n";
  q2.answer_wait.bounds = {5, 20};
  q2.answer_wait.counts = {0, 0, 0};
  s.queues.push_back(q2);
  FeedHealth f;
  f.name = "native";
  f.up = true;
  f.rejected = {{"not_json", 1}};
  std::string out;
  render_metrics(s, {f}, ExportOptions{true, 2000, "0.1.0"}, out);
  char path[] = "/tmp/callwatch-exporter-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  {
    std::ofstream file(path);
    file << out;
  }
  const std::string cmd = std::string("promtool check metrics < ") + path + " >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  std::remove(path);
  CHECK(rc == 0);
}
