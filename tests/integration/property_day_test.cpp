// Property test: a generated contact-center day (property_day.hpp), with the noise real feeds add,
// gives the figures of an independent model of METRICS.md on every surface:
//   (a) pushed into a real callwatchd over ZeroMQ: /metrics (HTTP scrape) and the wallboard state
//       (ROUTER snapshot + XPUB deltas, as a board holds it), and `callwatchd report --format
//       native --json` on the same lines written to a file;
//   (b) the noisy lines shuffled again inside the lateness bound (another seed): the same report;
//   (c) callwatch_feed_events_total == report data_quality.events == the model's count.
//
// What is comparable where (the daemon runs on its own wall clock):
//   The day is placed in the recent past: it ends 30 s to 15 min before "now", and "today" is
//   configured ([general] day_start) to have begun an hour before the day, so every event lies in
//   the daemon's today. For the live daemon every event is therefore older than its clock by more
//   than L: counts still count by their own timestamps (METRICS.md), so the daemon is checked on
//   what does not depend on its clock: the since-start totals and today's figures of queues
//   (counts, SL, ASA, AHT, max wait, ring-no-answers, handled, waits), calls waiting, members by
//   state, agents' answered / ring-no-answer / talk / handled / state at the end. Time spans
//   (paused seconds) and per-interval figures are checked in the report only, where the engine
//   runs on the events' time. The 15m/1h sliding windows and the current interval are not checked.
//
// Seeds: CALLWATCH_PROP_SEEDS ("1,2,3" or "1-40"), size CALLWATCH_PROP_CALLS (calls per day).
// Noise off: CALLWATCH_PROP_NOISE=0 (or the [property_clean] test case, which never adds noise).
// CALLWATCH_PROP_KEEP=DIR keeps each run's lines, config, model and differences under DIR.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "daemon_process.hpp"
#include "property_day.hpp"

using cwtest::Daemon;
using namespace std::chrono_literals;
namespace m = callwatch::metrics;
namespace wire = callwatch::metrics::wire;

namespace {

// ---- environment --------------------------------------------------------------------------------

std::vector<std::uint64_t> seeds_from_env(const char* fallback) {
  const char* env = std::getenv("CALLWATCH_PROP_SEEDS");
  std::string s = env && *env ? env : fallback;
  std::vector<std::uint64_t> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) {
    if (part.empty()) continue;
    const auto dash = part.find('-');
    if (dash != std::string::npos) {
      const auto lo = std::stoull(part.substr(0, dash)), hi = std::stoull(part.substr(dash + 1));
      for (auto k = lo; k <= hi; ++k) out.push_back(k);
    } else {
      out.push_back(std::stoull(part));
    }
  }
  return out;
}

bool noise_from_env() {
  const char* env = std::getenv("CALLWATCH_PROP_NOISE");
  return !(env && std::string(env) == "0");
}

int calls_from_env(int fallback) {
  const char* env = std::getenv("CALLWATCH_PROP_CALLS");
  return env && *env ? std::atoi(env) : fallback;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct RunResult {
  int status = -1;
  std::string out;
};
RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string endpoint_of(const Daemon& d, const std::string& key) {
  std::ifstream in(d.config);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::smatch mt;
  if (!std::regex_search(text, mt, std::regex(key + " = \"(tcp://[^\"]+)\""))) throw std::runtime_error("no " + key);
  return mt[1];
}

// ---- /metrics ------------------------------------------------------------------------------------

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<PromSample> parse_prom(const std::string& body) {
  std::vector<PromSample> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l.empty() || l[0] == '#') continue;
    PromSample s;
    std::size_t i = 0;
    while (i < l.size() && l[i] != '{' && l[i] != ' ') ++i;
    s.name = l.substr(0, i);
    if (i < l.size() && l[i] == '{') {
      ++i;
      while (i < l.size() && l[i] != '}') {
        const auto eq = l.find('=', i);
        const std::string key = l.substr(i, eq - i);
        i = eq + 2;  // past ="
        std::string val;
        while (i < l.size() && l[i] != '"') {
          if (l[i] == '\\' && i + 1 < l.size()) {
            ++i;
            val += l[i] == 'n' ? '\n' : l[i];
          } else {
            val += l[i];
          }
          ++i;
        }
        ++i;  // closing quote
        if (i < l.size() && l[i] == ',') ++i;
        s.labels[key] = val;
      }
      ++i;  // }
    }
    while (i < l.size() && l[i] == ' ') ++i;
    const auto sp = l.find(' ', i);
    s.value = std::strtod(l.substr(i, sp == std::string::npos ? std::string::npos : sp - i).c_str(), nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<double> prom(const std::vector<PromSample>& v, const std::string& name,
                           const std::map<std::string, std::string>& labels) {
  for (const auto& s : v) {
    if (s.name != name || s.labels.size() != labels.size()) continue;
    if (s.labels == labels) return s.value;
  }
  return std::nullopt;
}

double prom_sum(const std::vector<PromSample>& v, const std::string& name, const std::string& lk,
                const std::string& lv) {
  double sum = 0;
  for (const auto& s : v) {
    auto it = s.labels.find(lk);
    if (s.name == name && it != s.labels.end() && it->second == lv) sum += s.value;
  }
  return sum;
}

prop::Flat read_metrics(const std::string& body, const prop::Model& model) {
  const auto v = parse_prom(body);
  prop::Flat f;
  static const std::vector<std::pair<std::string, std::string>> counters = {
      {"offered", "callwatch_queue_calls_offered_total"},
      {"answered", "callwatch_queue_calls_answered_total"},
      {"abandoned", "callwatch_queue_calls_abandoned_total"},
      {"short_abandoned", "callwatch_queue_calls_short_abandoned_total"},
      {"timed_out", "callwatch_queue_calls_timed_out_total"},
      {"exited_empty", "callwatch_queue_calls_exited_empty_total"},
      {"exited_key", "callwatch_queue_calls_exited_key_total"},
      {"answered_within_sl", "callwatch_queue_calls_answered_within_sl_total"},
      {"abandoned_within_sl", "callwatch_queue_calls_abandoned_within_sl_total"},
  };
  for (const auto& [q, fig] : model.queues) {
    for (const auto& [key, name] : counters) f[prop::qk(q, key)] = prom(v, name, {{"queue", q}});
    for (const auto& fm : prop::sl_formulas())
      f[prop::qk(q, "sl." + fm)] =
          prom(v, "callwatch_queue_service_level_ratio", {{"queue", q}, {"window", "today"}, {"formula", fm}});
    f[prop::qk(q, "asa_seconds")] = prom(v, "callwatch_queue_asa_seconds", {{"queue", q}, {"window", "today"}});
    f[prop::qk(q, "aht_seconds")] = prom(v, "callwatch_queue_aht_seconds", {{"queue", q}, {"window", "today"}});
    f[prop::qk(q, "answer_wait_count")] = prom(v, "callwatch_queue_answer_wait_seconds_count", {{"queue", q}});
    f[prop::qk(q, "answer_wait_sum_seconds")] = prom(v, "callwatch_queue_answer_wait_seconds_sum", {{"queue", q}});
    f[prop::qk(q, "calls_waiting")] = prom(v, "callwatch_queue_calls_waiting", {{"queue", q}});
    for (const auto& st : {"available", "ringing", "on_call", "wrap_up", "paused"})
      f[prop::qk(q, std::string("agents.") + st)] = prom(v, "callwatch_queue_agents", {{"queue", q}, {"state", st}});
  }
  f["dq.events"] = prom(v, "callwatch_feed_events_total", {{"feed", "native"}});
  f["dq.rejected"] = prom_sum(v, "callwatch_feed_events_rejected_total", "feed", "native");
  for (const auto& r : {"not_json", "not_object", "unknown_type", "missing_field", "wrong_type", "bad_value",
                        "too_large", "name_too_long", "invalid_utf8"}) {
    // A counter never incremented may be absent: 0.
    f[std::string("dq.rejected.") + r] =
        prom(v, "callwatch_feed_events_rejected_total", {{"feed", "native"}, {"reason", r}}).value_or(0.0);
  }
  return f;
}

// ---- the wallboard state ---------------------------------------------------------------------------

// One wallboard as the protocol describes it: subscribe (XPUB), ask ROUTER for a snapshot, apply
// the deltas above its sequence number.
class Board {
 public:
  Board(zmq::context_t& ctx, const std::string& pub, const std::string& ctl)
      : sub_(ctx, zmq::socket_type::sub), dealer_(ctx, zmq::socket_type::dealer) {
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::subscribe, "");
    sub_.connect(pub);
    dealer_.set(zmq::sockopt::linger, 0);
    dealer_.connect(ctl);
  }
  void sync() {
    REQUIRE(next_message(5s, wire::MessageType::heartbeat));
    auto snap = request_snapshot();
    REQUIRE(snap);
    state_ = snap->snapshot;
    seq_ = snap->seq;
  }
  std::optional<wire::Message> request_snapshot() {
    dealer_.send(zmq::buffer(wire::encode_request("snapshot")), zmq::send_flags::none);
    std::vector<zmq::pollitem_t> items{{dealer_.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 5s) <= 0) return std::nullopt;
    zmq::message_t reply;
    if (!dealer_.recv(reply, zmq::recv_flags::none)) return std::nullopt;
    auto msg = wire::decode(reply.to_string_view());
    if (!msg || msg->type != wire::MessageType::snapshot) return std::nullopt;
    return *msg;
  }
  // Applies deltas until `pred(state)` or the time is up.
  template <typename Pred>
  bool until(Pred pred, std::chrono::milliseconds t) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (!pred(state_)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      auto msg = next_message(left, wire::MessageType::delta);
      if (!msg || msg->seq <= seq_) continue;
      if (msg->seq != seq_ + 1) gaps_++;
      seq_ = msg->seq;
      wire::apply(state_, msg->delta);
    }
    return true;
  }
  const m::Snapshot& state() const { return state_; }
  int gaps() const { return gaps_; }

 private:
  std::optional<wire::Message> next_message(std::chrono::milliseconds t, wire::MessageType type) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      std::vector<zmq::pollitem_t> items{{sub_.handle(), 0, ZMQ_POLLIN, 0}};
      if (zmq::poll(items, left) <= 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(sub_, std::back_inserter(frames))) continue;
      auto msg = wire::decode(frames.back().to_string_view());
      if (msg && msg->type == type) return *msg;
    }
  }
  zmq::socket_t sub_, dealer_;
  m::Snapshot state_;
  std::uint64_t seq_ = 0;
  int gaps_ = 0;
};

prop::Flat read_snapshot(const m::Snapshot& s, const prop::Model& model) {
  prop::Flat f;
  for (const auto& [name, fig] : model.queues) {
    const m::QueueView* q = nullptr;
    for (const auto& v : s.queues)
      if (v.name == name) q = &v;
    if (!q) {
      f[prop::qk(name, "offered")] = std::nullopt;  // missing on the board
      continue;
    }
    const auto& t = q->total;
    const auto& today = q->windows[static_cast<int>(m::WindowKind::today)].counters;
    auto c = [](std::int64_t v) { return std::optional<double>(static_cast<double>(v)); };
    f[prop::qk(name, "offered")] = c(t.offered());
    f[prop::qk(name, "answered")] = c(t.answered);
    f[prop::qk(name, "abandoned")] = c(t.abandoned);
    f[prop::qk(name, "short_abandoned")] = c(t.short_abandoned);
    f[prop::qk(name, "timed_out")] = c(t.timed_out);
    f[prop::qk(name, "exited_empty")] = c(t.exited_empty);
    f[prop::qk(name, "exited_key")] = c(t.exited_key);
    f[prop::qk(name, "answered_within_sl")] = c(t.answered_within_sl);
    f[prop::qk(name, "abandoned_within_sl")] = c(t.abandoned_within_sl);
    f[prop::qk(name, "ring_noanswer")] = c(t.ring_noanswer);
    f[prop::qk(name, "handled")] = c(t.handled);
    f[prop::qk(name, "answer_wait_count")] = c(t.answered_with_wait);
    f[prop::qk(name, "answer_wait_sum_seconds")] = t.answer_wait_sum;
    f[prop::qk(name, "calls_waiting")] = c(q->calls_waiting);
    // The ratios a board shows: today's window, through the formulas the board uses.
    f[prop::qk(name, "sl.answered")] = m::service_level(today, m::SlFormula::answered);
    f[prop::qk(name, "sl.offered")] = m::service_level(today, m::SlFormula::offered);
    f[prop::qk(name, "sl.abandons_positive")] = m::service_level(today, m::SlFormula::abandons_positive);
    f[prop::qk(name, "sl.abandons_ignored")] = m::service_level(today, m::SlFormula::abandons_ignored);
    f[prop::qk(name, "asa_seconds")] = m::asa(today);
    f[prop::qk(name, "aht_seconds")] = m::aht(today);
    f[prop::qk(name, "max_wait_seconds")] = m::max_wait(today);
    for (std::size_t k = 1; k < prop::agent_states().size(); ++k)
      f[prop::qk(name, "agents." + prop::agent_states()[k])] = c(q->agents[k]);
  }
  for (const auto& [name, fig] : model.agents) {
    const m::AgentView* a = nullptr;
    for (const auto& v : s.agents)
      if (v.name == name) a = &v;
    if (!a) {
      f[prop::ak(name, "answered")] = std::nullopt;
      continue;
    }
    f[prop::ak(name, "answered")] = static_cast<double>(a->today.answered);
    f[prop::ak(name, "ring_noanswer")] = static_cast<double>(a->today.ring_noanswer);
    f[prop::ak(name, "handled")] = static_cast<double>(a->today.handled);
    f[prop::ak(name, "talk_seconds")] = a->today.talk_seconds;
    f[prop::ak(name, "aht_seconds")] = m::agent_aht(a->today);
    f[prop::ak(name, "state")] = static_cast<double>(static_cast<int>(a->state));
  }
  return f;
}

// ---- the report ------------------------------------------------------------------------------------

std::optional<double> jnum(simdjson::dom::element e) {
  if (e.is_null()) return std::nullopt;
  double d = 0;
  if (e.get(d) == simdjson::SUCCESS) return d;
  std::int64_t i = 0;
  if (e.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  std::uint64_t u = 0;
  if (e.get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nullopt;
}

// Reads the report JSON; names the report has and the model has not go to `extra`.
prop::Flat read_report(const std::string& json, const prop::Model& model, std::vector<std::string>& extra) {
  prop::Flat f;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) {
    extra.push_back("report output is not JSON");
    return f;
  }
  simdjson::dom::object queues, agents;
  if (root["queues"].get(queues) == simdjson::SUCCESS) {
    for (auto [k, v] : queues) {
      const std::string name(k);
      if (!model.queues.count(name)) extra.push_back("report names queue " + name + " that the model does not");
      for (const auto* key : {"offered", "answered", "abandoned", "short_abandoned", "timed_out", "exited_empty",
                              "exited_key", "answered_within_sl", "abandoned_within_sl", "asa_seconds",
                              "aht_seconds", "max_wait_seconds"})
        f[prop::qk(name, key)] = jnum(v[key]);
      for (const auto& fm : prop::sl_formulas()) f[prop::qk(name, "sl." + fm)] = jnum(v["service_level"][fm]);
    }
  }
  for (const auto& [name, fig] : model.queues)
    if (!f.count(prop::qk(name, "offered"))) f[prop::qk(name, "offered")] = std::nullopt;
  if (root["agents"].get(agents) == simdjson::SUCCESS) {
    for (auto [k, v] : agents) {
      const std::string name(k);
      if (!model.agents.count(name)) extra.push_back("report names agent " + name + " that the model does not");
      for (const auto* key : {"answered", "ring_noanswer", "talk_seconds", "paused_seconds", "handled", "aht_seconds"})
        f[prop::ak(name, key)] = jnum(v[key]);
    }
  }
  for (const auto& [name, fig] : model.agents)
    if (!f.count(prop::ak(name, "answered"))) f[prop::ak(name, "answered")] = std::nullopt;
  simdjson::dom::array intervals;
  std::set<std::string> seen;
  if (root["intervals"].get(intervals) == simdjson::SUCCESS) {
    for (auto iv : intervals) {
      std::string_view q, start;
      if (iv["queue"].get(q) != simdjson::SUCCESS || iv["start"].get(start) != simdjson::SUCCESS) continue;
      const std::string id = "interval[" + std::string(q) + "@" + std::string(start) + "].";
      seen.insert(id);
      const auto off = jnum(iv["offered"]), ans = jnum(iv["answered"]);
      // An interval with activity but no outcome (arrivals only) is listed with 0 offered.
      bool in_model = false;
      for (const auto& [k, v] : model.intervals)
        if ("interval[" + k.first + "@" + prop::utc_text(k.second) + "]." == id) in_model = true;
      if (!in_model && off.value_or(0) == 0 && ans.value_or(0) == 0) continue;
      f[id + "offered"] = off;
      f[id + "answered"] = ans;
    }
  }
  for (const auto& [k, v] : model.intervals) {
    const std::string id = "interval[" + k.first + "@" + prop::utc_text(k.second) + "].";
    if (!seen.count(id)) f[id + "offered"] = std::nullopt;
  }
  f["dq.events"] = jnum(root["data_quality"]["events"]);
  f["dq.rejected"] = jnum(root["data_quality"]["rejected"]);
  return f;
}

// ---- comparison ----------------------------------------------------------------------------------------

std::string show(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string("null"); }

struct Comparison {
  int compared = 0;
  std::vector<std::string> diffs;
};

bool close_enough(const std::string& key, double a, double b) {
  if (key.find("_seconds") != std::string::npos) return std::abs(a - b) <= 0.0015;  // report: ms
  return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a));
}

void compare(const std::string& label, const prop::Flat& want, const prop::Flat& got, Comparison& c) {
  for (const auto& [key, g] : got) {
    auto it = want.find(key);
    ++c.compared;
    if (it == want.end()) {
      c.diffs.push_back(fmt::format("{}: {}: not in the model, got {}", label, key, show(g)));
      continue;
    }
    const auto& w = it->second;
    const bool same = (!w && !g) || (w && g && close_enough(key, *w, *g));
    if (!same) c.diffs.push_back(fmt::format("{}: {}: model {} got {}", label, key, show(w), show(g)));
  }
}

// ---- one run ---------------------------------------------------------------------------------------------

std::string config_toml(long base) {
  // "today" began an hour before the day: every event lies in the daemon's today.
  const long day_start = base - 3600;
  const std::string hhmm = prop::utc_text(day_start).substr(11, 5);
  return fmt::format(
      "[general]\ntimezone = \"UTC\"\nday_start = \"{}\"\n\n[engine]\nmax_lateness_seconds = {}\n\n"
      "[[queue]]\nname = \"售后服务\"\nsl_threshold = 30\nshort_abandon = 3\n\n"
      "[[queue]]\nname = \"billing\"\nsl_threshold = 15\n",
      hhmm, prop::kLateness);
}

void write_lines(const std::filesystem::path& p, const std::vector<prop::Msg>& msgs) {
  std::ofstream out(p);
  for (const auto& x : msgs) out << x.text << '\n';
}

void write_flat(const std::filesystem::path& p, const prop::Flat& f) {
  std::ofstream out(p);
  for (const auto& [k, v] : f) out << k << " = " << show(v) << '\n';
}

void run_property(std::uint64_t seed, bool noisy, int calls) {
  const std::string mode = noisy ? "noisy" : "clean";
  INFO("seed " << seed << " (" << mode << ")");
  // The day: 65 minutes on the same phase of the 15-minute grid for a given seed, ending 30 s to
  // 15 min before now.
  prop::GenOptions go;
  go.calls = calls;
  const long phase = 60 + static_cast<long>(seed * 7919 % 600);
  const long span = go.minutes * 60;
  const long now = static_cast<long>(wall_now());
  const long base = (now - 30 - span - phase) / prop::kInterval * prop::kInterval + phase;
  REQUIRE(base + span <= now - 30);
  const std::string toml = config_toml(base);
  Daemon daemon({}, toml);
  const prop::Day day = prop::Generator(seed, base, go).run();
  prop::NoiseOptions no;
  no.enabled = noisy;
  const prop::Noisy noise = prop::add_noise(day, seed, no);
  const prop::Model model = prop::model_of(day, noise);
  const prop::Flat want = prop::flatten(model);

  // Self-checks of the generator: the clean stream has no identical lines, the noise stays
  // inside the lateness bound, the model's event count is the count of distinct valid lines.
  {
    std::set<std::string> texts;
    for (const auto& e : day.events) REQUIRE(texts.insert(prop::to_json(day.base, e)).second);
    std::set<std::string> valid;
    for (const auto& x : noise.msgs)
      if (x.kind != prop::MsgKind::malformed) valid.insert(x.text);
    REQUIRE(static_cast<long>(valid.size()) == model.events);
    REQUIRE(prop::max_lateness(noise.msgs) < prop::kLateness * prop::kTicks);
  }

  std::filesystem::path keep;
  if (const char* k = std::getenv("CALLWATCH_PROP_KEEP"); k && *k) {
    keep = std::filesystem::path(k) / fmt::format("seed{}-{}", seed, mode);
    std::filesystem::create_directories(keep);
  }
  const auto dir = keep.empty() ? daemon.dir : keep;
  const auto cfg = dir / "report.toml";
  std::ofstream(cfg) << toml;
  const auto file = dir / "noisy.jsonl";
  write_lines(file, noise.msgs);
  if (!keep.empty()) {
    std::vector<prop::Msg> clean;
    for (const auto& e : day.events) {
      prop::Msg x;
      x.text = prop::to_json(day.base, e);
      clean.push_back(std::move(x));
    }
    write_lines(keep / "clean.jsonl", clean);
    write_flat(keep / "model.txt", want);
    std::ofstream notes(keep / "noise.txt");
    for (const auto& x : noise.msgs)
      if (!x.note.empty()) notes << x.note << ": " << x.text << '\n';
  }

  // (a) live: a board first (it holds the state from deltas), then the lines over PUSH.
  zmq::context_t ctx;
  Board board(ctx, endpoint_of(daemon, "publish"), endpoint_of(daemon, "control"));
  board.sync();
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 5000);
  push.set(zmq::sockopt::sndhwm, 0);
  push.connect(daemon.feed_endpoint);
  for (const auto& x : noise.msgs) push.send(zmq::buffer(x.text), zmq::send_flags::none);

  // Settled: every message counted (accepted, rejected or dropped as a duplicate) and the
  // counters still for a second.
  std::string body;
  double last = -1;
  int still = 0;
  const double min_seen = static_cast<double>(noise.msgs.size() - static_cast<std::size_t>(noise.duplicates));
  const bool settled = cwtest::wait_for(
      [&] {
        body = daemon.scrape();
        const auto v = parse_prom(body);
        const double seen = prom_sum(v, "callwatch_feed_events_total", "feed", "native") +
                            prom_sum(v, "callwatch_feed_events_rejected_total", "feed", "native");
        still = seen == last ? still + 1 : 0;
        last = seen;
        std::this_thread::sleep_for(200ms);
        return seen >= min_seen && still >= 5;
      },
      30s);
  CHECK(settled);
  auto fresh = board.request_snapshot();
  REQUIRE(fresh);
  const bool caught_up = board.until(
      [&](const m::Snapshot& s) { return s.events_applied >= fresh->snapshot.events_applied; }, 5s);
  CHECK(caught_up);
  body = daemon.scrape();

  // The report on the same lines, in the same order.
  const std::string report_cmd = std::string(CALLWATCH_BIN_DIR) + "/callwatchd report --format native --json --interval 15m --config '" +
                                 cfg.string() + "' ";
  const RunResult rep = run(report_cmd + "'" + file.string() + "'");
  CHECK(rep.status == 0);
  std::vector<std::string> extra;
  const prop::Flat report = read_report(rep.out, model, extra);

  Comparison c;
  compare("report", want, report, c);
  compare("/metrics", want, read_metrics(body, model), c);
  compare("board (snapshot + deltas)", want, read_snapshot(board.state(), model), c);
  compare("snapshot", want, read_snapshot(fresh->snapshot, model), c);
  for (const auto& x : extra) c.diffs.push_back("report: " + x);
  if (board.gaps() > 0) c.diffs.push_back(fmt::format("board: {} sequence gap(s) in the deltas", board.gaps()));

  // (b) the same lines shuffled again inside L: the same report.
  if (noisy) {
    const auto again = prop::reshuffle(noise.msgs, seed + 1000);
    REQUIRE(prop::max_lateness(again) < prop::kLateness * prop::kTicks);
    const auto file2 = dir / "reshuffled.jsonl";
    write_lines(file2, again);
    const RunResult rep2 = run(report_cmd + "'" + file2.string() + "'");
    CHECK(rep2.status == 0);
    std::vector<std::string> extra2;
    const prop::Flat report2 = read_report(rep2.out, model, extra2);
    compare("report (reshuffled)", want, report2, c);
    for (const auto& [k, v] : report2) {
      auto it = report.find(k);
      if (it == report.end() || (it->second.has_value() != v.has_value()) ||
          (v && !close_enough(k, *v, *it->second)))
        c.diffs.push_back(fmt::format("report reshuffled vs report: {}: {} vs {}", k, show(v),
                                      it == report.end() ? "-" : show(it->second)));
    }
  }

  // (c) is in the comparisons above: dq.events of the report and of /metrics against the model.
  std::fprintf(stdout,
               "property seed %llu %s: %zu queues, %zu events, messages %zu (%ld duplicates, %ld repeats, %ld "
               "malformed; forced: %ld answer-before-enqueue, %ld end-before-answer, %ld across a boundary); "
               "%d figures compared, %zu differences\n",
               static_cast<unsigned long long>(seed), mode.c_str(), model.queues.size(), day.events.size(),
               noise.msgs.size(), noise.duplicates, noise.repeats, noise.malformed, noise.forced_answer_first,
               noise.forced_end_first, noise.forced_boundary, c.compared, c.diffs.size());
  if (!keep.empty()) {
    std::ofstream out(keep / "differences.txt");
    for (const auto& d : c.diffs) out << d << '\n';
    std::ofstream(keep / "report.json") << rep.out;
    std::ofstream(keep / "metrics.txt") << body;
  }
  std::string text;
  for (std::size_t i = 0; i < c.diffs.size() && i < 80; ++i) text += c.diffs[i] + "\n";
  if (c.diffs.size() > 80) text += fmt::format("... and {} more\n", c.diffs.size() - 80);
  INFO(fmt::format("seed {} {}: {} of {} figures differ from the model:\n{}", seed, mode, c.diffs.size(),
                   c.compared, text));
  CHECK(c.diffs.empty());
}

}  // namespace

TEST_CASE("property: a noisy day gives the model's figures on /metrics, the board and the report",
          "[integration][property]") {
  const bool noisy = noise_from_env();
  for (auto seed : seeds_from_env("1,2,3")) run_property(seed, noisy, calls_from_env(300));
}

TEST_CASE("property: the same days in order and without noise give the model's figures",
          "[integration][property][property_clean]") {
  for (auto seed : seeds_from_env("1,2,3")) run_property(seed, false, calls_from_env(300));
}

// The wide sweep: its own ctest target (label property_sweep), not part of the default run.
TEST_CASE("property sweep: many seeds", "[.property_sweep]") {
  const bool noisy = noise_from_env();
  for (auto seed : seeds_from_env("1-40")) run_property(seed, noisy, calls_from_env(400));
}
