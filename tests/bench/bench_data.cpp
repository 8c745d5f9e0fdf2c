// Bench inputs: the simulator's native messages and the same traffic as a queue_log file.
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "bench.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::bench {

namespace m = callwatch::metrics;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Timing measure(int reps, const std::function<double()>& subject, const std::function<double()>& baseline) {
  subject();
  baseline();
  std::vector<double> s, b;
  for (int i = 0; i < reps; ++i) {
    // Alternate the order so a slow drift of the machine hits both sides alike.
    if (i % 2 == 0) {
      s.push_back(subject());
      b.push_back(baseline());
    } else {
      b.push_back(baseline());
      s.push_back(subject());
    }
  }
  // The fastest run of each side: on a shared machine noise (other processes, migrations) only
  // ever adds time, and a median of short runs flips with the load while a minimum holds.
  return {*std::min_element(s.begin(), s.end()), *std::min_element(b.begin(), b.end())};
}

void make_corpus(const daemon::sim::SimOptions& opts, std::size_t max_messages, Corpus& out) {
  out.buffer.clear();
  out.messages.clear();
  out.bytes = 0;
  out.queues = opts.queues;
  out.agents = opts.agents;
  out.options = opts;
  std::vector<std::size_t> offsets, sizes;
  const double start = 1767600000.0;  // 2026-01-05 08:00 UTC: a fixed day, same data every run
  daemon::sim::Simulator sim(opts, start);
  const auto sink = [&](std::string_view j) {
    if (offsets.size() >= max_messages) return;
    offsets.push_back(out.buffer.size());
    sizes.push_back(j.size());
    out.buffer.append(j);
    out.buffer.push_back('\n');
    out.bytes += j.size();
  };
  for (double t = start; offsets.size() < max_messages; t += 60) {
    if (!sim.run_until(t, sink)) break;
  }
  out.buffer.append(simdjson::SIMDJSON_PADDING, ' ');
  out.messages.reserve(offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) out.messages.emplace_back(out.buffer.data() + offsets[i], sizes[i]);
}

std::string make_queue_log(const daemon::sim::SimOptions& opts, std::size_t max_lines, std::size_t max_calls) {
  daemon::NativeParser parser;
  std::string out;
  std::size_t lines = 0;
  std::size_t new_calls = 0;
  struct Visit {
    std::string queue;
    double entered = 0;
    double answered = 0;
    std::string uniqueid;
  };
  std::unordered_map<std::string, Visit> calls;
  std::unordered_map<std::string, std::vector<std::string>> agent_queues;
  std::unordered_map<std::string, bool> paused;
  const auto line = [&](double ts, std::string_view call, std::string_view queue, std::string_view agent,
                        std::string_view verb, std::string_view data) {
    fmt::format_to(std::back_inserter(out), "{}|{}|{}|{}|{}|{}\n", static_cast<std::int64_t>(ts), call, queue,
                   agent, verb, data);
    ++lines;
  };
  const auto convert = [&](std::string_view msg) {
    if (lines >= max_lines || new_calls >= max_calls) return;
    auto r = parser.parse(msg);
    if (!r) return;
    const m::Event& e = **r;
    const std::string call(e.call);
    switch (e.type) {
      case m::EventType::call_enqueued:
        if (!calls.contains(call)) ++new_calls;  // a transfer enters again under the same id
        calls[call] = Visit{std::string(e.queue), e.ts, 0, fmt::format("{}.{}", call, lines)};
        line(e.ts, e.call, e.queue, "NONE", "ENTERQUEUE", fmt::format("|{}|1", e.caller));
        break;
      case m::EventType::call_answered: {
        Visit& v = calls[call];
        v.answered = e.ts;
        line(e.ts, e.call, e.queue, e.agent, "CONNECT",
             fmt::format("{}|{}|3", std::lround(e.ts - v.entered), v.uniqueid));
        break;
      }
      case m::EventType::call_ended: {
        const Visit& v = calls[call];
        line(e.ts, e.call, v.queue, e.agent, e.by == m::EndedBy::agent ? "COMPLETEAGENT" : "COMPLETECALLER",
             fmt::format("{}|{}|1", std::lround(v.answered - v.entered), std::lround(e.ts - v.answered)));
        break;
      }
      case m::EventType::call_abandoned:
        line(e.ts, e.call, e.queue, "NONE", "ABANDON", fmt::format("1|1|{}", std::lround(e.ts - calls[call].entered)));
        break;
      case m::EventType::call_exited: {
        const long wait = std::lround(e.ts - calls[call].entered);
        if (e.exit_reason == m::ExitReason::key) {
          line(e.ts, e.call, e.queue, "NONE", "EXITWITHKEY", fmt::format("1|1|1|{}", wait));
        } else {
          line(e.ts, e.call, e.queue, "NONE", e.exit_reason == m::ExitReason::timeout ? "EXITWITHTIMEOUT" : "EXITEMPTY",
               fmt::format("1|1|{}", wait));
        }
        break;
      }
      case m::EventType::agent_ring_noanswer:
        line(e.ts, e.call, e.queue, e.agent, "RINGNOANSWER", "15000");
        break;
      case m::EventType::agent_state: {
        const std::string agent(e.agent);
        auto& qs = agent_queues[agent];
        if (!e.queues.empty()) {
          qs.assign(e.queues.begin(), e.queues.end());
          for (const auto& q : qs) line(e.ts, "MANAGER", q, agent, "ADDMEMBER", "");
        } else if (e.state == m::AgentState::paused) {
          for (const auto& q : qs) line(e.ts, "NONE", q, agent, "PAUSE", e.reason);
          paused[agent] = true;
        } else if (e.state == m::AgentState::available && paused[agent]) {
          for (const auto& q : qs) line(e.ts, "NONE", q, agent, "UNPAUSE", "");
          paused[agent] = false;
        } else if (e.state == m::AgentState::logged_out) {
          for (const auto& q : qs) line(e.ts, "MANAGER", q, agent, "REMOVEMEMBER", "");
        }
        break;
      }
      default:
        break;  // call_transferred: the next ENTERQUEUE says where the call went
    }
  };
  const double start = 1767600000.0;
  daemon::sim::Simulator sim(opts, start);
  for (double t = start; lines < max_lines && new_calls < max_calls; t += 60) {
    if (!sim.run_until(t, convert)) break;
  }
  return out;
}

}  // namespace callwatch::bench
