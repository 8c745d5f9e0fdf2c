// A real Asterisk, live: the lab (tests/lab/asterisk) plays a story while two real daemons watch
// it, one through AMI and one tailing Asterisk's queue_log. /metrics, the wallboard snapshot and
// `callwatchd report` on what Asterisk wrote must give the figures worked out by hand from the
// story (tests/integration/asterisk_fixtures.sh works the same stories out line by line), and
// so agree with each other.
//
// Hidden tag: run by tests/integration/asterisk_lab.sh, which builds (or finds) the lab Asterisk
// and sets CALLWATCH_LAB_ASTERISK_ROOT or CALLWATCH_LAB_ASTERISK_BIN, CALLWATCH_LAB_DIR.
#include <catch2/catch.hpp>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>
#include <zmq.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "daemon_process.hpp"

extern char** environ;

using cwtest::Daemon;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace m = callwatch::metrics;
namespace wire = callwatch::metrics::wire;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The thresholds of tests/data/asterisk/callwatch.toml.
const char* kQueues = R"(
[[queue]]
name = "sales"
sl_threshold = 5
short_abandon = 4

[[queue]]
name = "support"
sl_threshold = 20
short_abandon = 8

[[queue]]
name = "billing"
sl_threshold = 20
short_abandon = 8
)";

struct QueueWant {
  std::string name;
  long offered, answered, abandoned, short_abandoned, timed_out, exited_empty, exited_key,
      within_sl;
};
struct AgentWant {
  std::string name;
  long answered, ring_noanswer;
  double talk;         // seconds; whole seconds stated by Asterisk, +-1 per call from run to run
  double paused = -1;  // a pause that ended during the story (others still run): seconds
  double paused_tol = 1.5;
};
struct StoryWant {
  std::string story;
  std::vector<QueueWant> queues;
  std::vector<AgentWant> agents;
};

// The `day` story (tests/lab/asterisk/stories/day.json), worked out from its steps:
//   sales  c1 answered (wait ~1), c3 hangs up after 3 s (short: < 4), c4 answered after ~9 s
//          (outside T = 5), c5 queue timeout 6 s, c6 presses 5 after 4 s, c9 answered (~1 s) and
//          blind-transferred: offered 6, answered 3, within T 2 (c1, c9).
//   support c2 answered by carol (dave rung too), c7 leaves empty (carol and dave paused),
//          c8 rings carol, dave and erin with no answer, then dave answers, c10 hangs up after
//          2 s while carol and dave ring (RINGCANCELED, not ring-no-answers): offered 4,
//          answered 2 (both within 20 s), abandoned 1 (short: < 8), empty 1.
//   billing c12 gives up after 14 s (frank paused): offered 1, abandoned 1, long.
//   alice: c1 talk 9, c4 talk 4, c9 talk 1 before the transfer = 14. carol: talk 5, 1 RNA;
//   dave: talk 5, 1 RNA; erin: 1 RNA. bob paused 0 -> 33 s; carol 9 -> 13 (4 s, after c2
//   ended at ~8.5 if not before); dave 9 -> 13 and then from c8's end (~26) to 29: 4 + 3 = 7.
StoryWant day_want() {
  return {"day",
          {{"sales", 6, 3, 1, 1, 1, 0, 1, 2},
           {"support", 4, 2, 1, 1, 0, 1, 0, 2},
           {"billing", 1, 0, 1, 0, 0, 0, 0, 0}},
          {{"alice", 3, 0, 14, -1},
           {"bob", 0, 0, 0, 33},
           {"carol", 1, 1, 5, 4},
           {"dave", 1, 1, 5, 7},
           {"erin", 0, 1, 0, 0}}};
}

// The `restart` story: r1 answered by alice (~1 s) and in talk at `core stop now`, r2 waiting
// then (Asterisk writes ABANDON after ~3 s: short), r3 after the start answered by bob (~1 s):
// offered 3, answered 2, abandoned 1 (short), both answers within T. bob paused from the start
// to the restart: queue_log ends it at the new QUEUESTART (~7 s), AMI at the Shutdown event or
// the dropped connection (~6 s); alice paused 10 -> 17 (7 s) after the restart.
StoryWant restart_want(bool ami) {
  return {"restart",
          {{"sales", 3, 2, 1, 1, 0, 0, 0, 2}},
          {{"alice", 1, 0, 3, 7}, {"bob", 1, 0, 3, ami ? 6.0 : 7.0, 1.6}}};
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string control_endpoint(const Daemon& d) {
  std::smatch mt;
  const std::string text = slurp(d.config);
  if (!std::regex_search(text, mt, std::regex("control = \"(tcp://[^\"]+)\"")))
    throw std::runtime_error("no control endpoint");
  return mt[1];
}

m::Snapshot snapshot_of(const Daemon& d) {
  zmq::context_t ctx;
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(control_endpoint(d));
  dealer.send(zmq::buffer(wire::encode_request("snapshot")), zmq::send_flags::none);
  std::vector<zmq::pollitem_t> items{{dealer.handle(), 0, ZMQ_POLLIN, 0}};
  if (zmq::poll(items, 5s) <= 0) throw std::runtime_error("no snapshot reply");
  zmq::message_t reply;
  if (!dealer.recv(reply, zmq::recv_flags::none)) throw std::runtime_error("no snapshot");
  auto msg = wire::decode(reply.to_string_view());
  if (!msg || msg->type != wire::MessageType::snapshot) throw std::runtime_error("not a snapshot");
  return msg->snapshot;
}

double metric(const std::string& body, const std::string& name, const std::string& queue) {
  const auto v = cwtest::sample(body, name + "{queue=\"" + queue + "\"}");
  return v ? *v : std::nan("");
}

// What one surface says of one queue and one agent, to compare with the wants and each other.
struct QueueSeen {
  long offered = -1, answered = -1, abandoned = -1, short_abandoned = -1, timed_out = -1,
       exited_empty = -1, exited_key = -1, within_sl = -1;
};
struct AgentSeen {
  long answered = -1, ring_noanswer = -1;
  double talk = std::nan(""), paused = std::nan("");
};
struct Seen {
  std::map<std::string, QueueSeen> queues;
  std::map<std::string, AgentSeen> agents;
};

Seen from_metrics(const std::string& body, const StoryWant& w) {
  Seen s;
  for (const auto& q : w.queues) {
    auto v = [&](const char* n) { return static_cast<long>(metric(body, n, q.name)); };
    s.queues[q.name] = {v("callwatch_queue_calls_offered_total"),
                        v("callwatch_queue_calls_answered_total"),
                        v("callwatch_queue_calls_abandoned_total"),
                        v("callwatch_queue_calls_short_abandoned_total"),
                        v("callwatch_queue_calls_timed_out_total"),
                        v("callwatch_queue_calls_exited_empty_total"),
                        v("callwatch_queue_calls_exited_key_total"),
                        v("callwatch_queue_calls_answered_within_sl_total")};
  }
  return s;
}

Seen from_snapshot(const m::Snapshot& snap) {
  Seen s;
  for (const auto& q : snap.queues) {
    const auto& c = q.windows[static_cast<int>(m::WindowKind::today)].counters;
    s.queues[q.name] = {c.offered(),  c.answered,     c.abandoned,  c.short_abandoned,
                        c.timed_out,  c.exited_empty, c.exited_key, c.answered_within_sl};
  }
  for (const auto& a : snap.agents) {
    s.agents[a.name] = {a.today.answered, a.today.ring_noanswer, a.today.talk_seconds,
                        a.today.paused_seconds()};
  }
  return s;
}

Seen from_report(const std::string& json) {
  Seen s;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(json).get(doc)) return s;
  for (auto [name, q] : doc["queues"].get_object()) {
    auto i = [&](const char* k) { return static_cast<long>(q[k].get_int64().value()); };
    s.queues[std::string(name)] = {i("offered"),   i("answered"),     i("abandoned"),
                                   i("short_abandoned"), i("timed_out"), i("exited_empty"),
                                   i("exited_key"), i("answered_within_sl")};
  }
  for (auto [name, a] : doc["agents"].get_object()) {
    AgentSeen x;
    x.answered = a["answered"].get_int64().value();
    x.ring_noanswer = a["ring_noanswer"].get_int64().value();
    x.talk = a["talk_seconds"].get_double().value();
    double pz = std::nan("");
    if (!a["paused_seconds"].is_null()) pz = a["paused_seconds"].get_double().value();
    x.paused = pz;
    s.agents[std::string(name)] = x;
  }
  return s;
}

void check_against(const Seen& s, const StoryWant& w, const std::string& surface, bool agents) {
  for (const auto& q : w.queues) {
    INFO(surface << ", queue " << q.name);
    const auto it = s.queues.find(q.name);
    REQUIRE(it != s.queues.end());
    const QueueSeen& g = it->second;
    CHECK(g.offered == q.offered);
    CHECK(g.answered == q.answered);
    CHECK(g.abandoned == q.abandoned);
    CHECK(g.short_abandoned == q.short_abandoned);
    CHECK(g.timed_out == q.timed_out);
    CHECK(g.exited_empty == q.exited_empty);
    CHECK(g.exited_key == q.exited_key);
    CHECK(g.within_sl == q.within_sl);
  }
  if (!agents) return;
  for (const auto& a : w.agents) {
    INFO(surface << ", agent " << a.name);
    const auto it = s.agents.find(a.name);
    REQUIRE(it != s.agents.end());
    CHECK(it->second.answered == a.answered);
    CHECK(it->second.ring_noanswer == a.ring_noanswer);
    CHECK(std::abs(it->second.talk - a.talk) <= 1.0 * std::max<long>(1, a.answered));
    if (a.paused >= 0) {
      CHECK(std::abs(it->second.paused - a.paused) <= a.paused_tol);
    }
  }
}

// Plays `story` on the lab Asterisk with a daemon on its AMI and one on its queue_log, then
// checks every surface.
void play_and_check(const std::string& story) {
  const std::string lab = env("CALLWATCH_LAB_DIR");
  const std::string root = env("CALLWATCH_LAB_ASTERISK_ROOT");
  const std::string bin = env("CALLWATCH_LAB_ASTERISK_BIN");
  char tmpl[] = "/tmp/callwatch-lab-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const fs::path dir = tmpl;
  const fs::path out = dir / "out";
  const int ami_port = cwtest::free_tcp_port();
  const fs::path queue_log = out / "conf" / "run" / "log" / "queue_log";
  const fs::path cred = dir / "ami.cred";
  std::ofstream(cred) << "username = lab\nsecret = lab-secret\n";
  fs::permissions(cred, fs::perms::owner_read | fs::perms::owner_write);

  Daemon via_ami({}, std::string(kQueues) + fmt::format(R"(
[[feed]]
name = "pbx"
type = "ami"
address = "127.0.0.1:{}"
credentials_file = "{}"
)",
                                                        ami_port, cred.string()));
  Daemon via_log({}, std::string(kQueues) + fmt::format(R"(
[[feed]]
name = "pbx-log"
type = "queue_log"
path = "{}"
)",
                                                        queue_log.string()));

  std::vector<std::string> args = {"python3",
                                   lab + "/astlab.py",
                                   "play",
                                   lab + "/stories/" + story + ".json",
                                   "--out",
                                   out.string(),
                                   "--ami-port",
                                   std::to_string(ami_port),
                                   "--ready-file",
                                   (dir / "ready").string(),
                                   "--go-file",
                                   (dir / "go").string(),
                                   "--done-file",
                                   (dir / "done").string(),
                                   "--linger",
                                   "4"};
  if (!root.empty()) args.insert(args.end(), {"--root", root});
  if (!bin.empty()) args.insert(args.end(), {"--asterisk", bin});
  const pid_t lab_pid = spawn(args, dir / "astlab.log");
  auto lab_log = [&] { return slurp(dir / "astlab.log") + slurp(out / "asterisk.log"); };

  INFO("story " << story);
  REQUIRE(cwtest::wait_for([&] { return fs::exists(dir / "ready"); }, 60s));
  // The story starts once the AMI daemon is connected and has its QueueStatus rebuild (the
  // queue_log daemon reads the file from its first line: it did not exist at its start).
  const bool up = cwtest::wait_for(
      [&] {
        const auto v = cwtest::sample(via_ami.scrape(), "callwatch_feed_up{feed=\"pbx\"}");
        return v && *v == 1.0;
      },
      30s);
  INFO(via_ami.log());
  REQUIRE(up);
  std::this_thread::sleep_for(500ms);
  std::ofstream(dir / "go") << "go\n";
  const bool done = cwtest::wait_for([&] { return fs::exists(dir / "done"); }, 150s);
  INFO(lab_log());
  REQUIRE(done);

  // While Asterisk still runs (--linger): every surface of both daemons.
  const std::string ami_body = via_ami.scrape(), log_body = via_log.scrape();
  const m::Snapshot ami_snap = snapshot_of(via_ami), log_snap = snapshot_of(via_log);

  int status = 0;
  ::waitpid(lab_pid, &status, 0);
  INFO(lab_log());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(fs::exists(out / "queue_log"));
  REQUIRE(fs::exists(out / "ami.raw"));

  const fs::path cfg = dir / "queues.toml";
  std::ofstream(cfg) << kQueues;
  const std::string report_bin = std::string(CALLWATCH_BIN_DIR) + "/callwatchd report --json --config " +
                                 cfg.string();
  const std::string ql_report = run(report_bin + " --format queue_log " + (out / "queue_log").string() + " 2>/dev/null");
  const std::string ami_report = run(report_bin + " --format ami " + (out / "ami.raw").string() + " 2>/dev/null");

  const bool restart = story == "restart";
  const StoryWant w_log = restart ? restart_want(false) : day_want();
  const StoryWant w_ami = restart ? restart_want(true) : day_want();
  {
    INFO("daemon log (AMI):\n" << via_ami.log());
    check_against(from_metrics(ami_body, w_ami), w_ami, "/metrics of the AMI daemon", false);
    check_against(from_snapshot(ami_snap), w_ami, "snapshot of the AMI daemon", true);
  }
  {
    INFO("daemon log (queue_log):\n" << via_log.log());
    check_against(from_metrics(log_body, w_log), w_log, "/metrics of the queue_log daemon", false);
    check_against(from_snapshot(log_snap), w_log, "snapshot of the queue_log daemon", true);
  }
  INFO("queue_log:\n" << slurp(out / "queue_log"));
  check_against(from_report(ql_report), w_log, "report on Asterisk's queue_log", true);
  check_against(from_report(ami_report), w_ami, "report on the AMI recording", true);
  CHECK(cwtest::sample(ami_body, "callwatch_feed_events_rejected_total{feed=\"pbx\",reason=\"not_ami\"}")
            .value_or(0) == 0);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

TEST_CASE("a real Asterisk plays every outcome; AMI and queue_log daemons and report agree",
          "[.asterisk_lab]") {
  play_and_check("day");
}

TEST_CASE("a real Asterisk restarts mid-call; the restart ends calls and pauses on every path",
          "[.asterisk_lab]") {
  play_and_check("restart");
}
