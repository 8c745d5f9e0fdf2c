// A real PBX, live (tests/lab/asterisk, tests/lab/freeswitch): the lab plays a story while real
// daemons watch it (Asterisk: one on its AMI, one tailing its queue_log; FreeSWITCH: one on its
// event socket). /metrics, the wallboard snapshot and `callwatchd report` on what the PBX wrote
// must give the figures worked out by hand from the story (tests/integration/*_fixtures.sh work
// the same stories out event by event), and so agree with each other.
//
// Hidden tags: run by tests/integration/asterisk_lab.sh and freeswitch_lab.sh, which build (or
// find) the lab PBX and set the CALLWATCH_LAB_* variables.
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

std::string run(const std::string& cmd) { return cwtest::run_command(cmd); }

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
  for (auto [name, qv] : doc["queues"].get_object()) {
    const simdjson::dom::element q = qv;  // a lambda cannot capture a structured binding (clang 14)
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

// One surface of the lab to watch: a daemon with one feed on the PBX, and the recording of the
// same feed that `report` reads afterwards.
struct Watch {
  std::string name;           // feed name
  std::string feed_toml;      // the [[feed]] table
  bool connects = false;      // a connection (AMI, ESL): the story waits until it is up
  std::string format;         // report --format
  std::string recording;      // file in the lab's out folder
  StoryWant want;
  std::unique_ptr<Daemon> daemon;
};

// Plays `story` with `script` (astlab.py or fslab.py, with `lab_args`) while each watch's daemon
// follows the PBX, then checks every surface of every watch against its wants.
void play_and_check(const std::string& script, const std::vector<std::string>& lab_args,
                    const std::string& story, const fs::path& dir, int port,
                    std::vector<Watch>& watches) {
  const fs::path out = dir / "out";
  for (auto& w : watches) w.daemon = std::make_unique<Daemon>(std::vector<std::string>{}, std::string(kQueues) + w.feed_toml);

  std::vector<std::string> args = {"python3", script, "play", story, "--out", out.string(),
                                   "--ready-file", (dir / "ready").string(), "--go-file",
                                   (dir / "go").string(), "--done-file", (dir / "done").string(),
                                   "--linger", "4"};
  args.insert(args.end(), lab_args.begin(), lab_args.end());
  (void)port;
  const pid_t lab_pid = spawn(args, dir / "lab.log");
  auto lab_log = [&] {
    return slurp(dir / "lab.log") + slurp(out / "asterisk.log") + slurp(out / "freeswitch.out");
  };

  INFO("story " << story);
  REQUIRE(cwtest::wait_for([&] { return fs::exists(dir / "ready"); }, 90s));
  // The story starts once every connecting feed is up (with its rebuild); a queue_log daemon
  // reads the file from its first line (it did not exist at the daemon's start).
  for (auto& w : watches) {
    if (!w.connects) continue;
    const bool up = cwtest::wait_for(
        [&] {
          const auto v = cwtest::sample(w.daemon->scrape(), "callwatch_feed_up{feed=\"" + w.name + "\"}");
          return v && *v == 1.0;
        },
        30s);
    INFO(w.daemon->log());
    REQUIRE(up);
  }
  std::this_thread::sleep_for(500ms);
  std::ofstream(dir / "go") << "go\n";
  const bool done = cwtest::wait_for([&] { return fs::exists(dir / "done"); }, 150s);
  INFO(lab_log());
  REQUIRE(done);

  // While the PBX still runs (--linger): every surface of every daemon.
  std::vector<std::string> bodies;
  std::vector<m::Snapshot> snaps;
  for (auto& w : watches) {
    bodies.push_back(w.daemon->scrape());
    snaps.push_back(snapshot_of(*w.daemon));
  }

  int status = 0;
  ::waitpid(lab_pid, &status, 0);
  INFO(lab_log());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  const fs::path cfg = dir / "queues.toml";
  std::ofstream(cfg) << kQueues;
  for (std::size_t i = 0; i < watches.size(); ++i) {
    Watch& w = watches[i];
    INFO("feed " << w.name << "; daemon log:\n" << w.daemon->log());
    check_against(from_metrics(bodies[i], w.want), w.want, "/metrics", false);
    check_against(from_snapshot(snaps[i]), w.want, "snapshot", true);
    for (const auto& q : w.want.queues) {
      INFO("queue " << q.name);
      CHECK(metric(bodies[i], "callwatch_queue_calls_waiting", q.name) == 0.0);  // nobody left waiting
    }
    REQUIRE(fs::exists(out / w.recording));
    const std::string report = run(std::string(CALLWATCH_BIN_DIR) + "/callwatchd report --json --config " +
                                   cfg.string() + " --format " + w.format + " " +
                                   (out / w.recording).string() + " 2>/dev/null");
    INFO("recording " << w.recording);
    check_against(from_report(report), w.want, "report", true);
  }
}

struct LabDir {
  fs::path dir;
  LabDir() {
    char tmpl[] = "/tmp/callwatch-lab-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir = tmpl;
  }
  ~LabDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

fs::path credentials(const fs::path& dir, const std::string& text) {
  const fs::path cred = dir / "pbx.cred";
  std::ofstream(cred) << text;
  fs::permissions(cred, fs::perms::owner_read | fs::perms::owner_write);
  return cred;
}

// The lab Asterisk: one daemon on its AMI, one tailing its queue_log.
void asterisk_story(const std::string& story) {
  const std::string lab = env("CALLWATCH_LAB_DIR");
  if (lab.empty()) FAIL("CALLWATCH_LAB_DIR is not set: run tests/integration/asterisk_lab.sh");
  LabDir t;
  const int port = cwtest::free_tcp_port();
  const fs::path cred = credentials(t.dir, "username = lab\nsecret = lab-secret\n");
  const fs::path queue_log = t.dir / "out" / "conf" / "run" / "log" / "queue_log";
  const bool restart = story == "restart";
  std::vector<Watch> w(2);
  w[0].name = "pbx";
  w[0].feed_toml = fmt::format("\n[[feed]]\nname = \"pbx\"\ntype = \"ami\"\naddress = \"127.0.0.1:{}\"\ncredentials_file = \"{}\"\n", port, cred.string());
  w[0].connects = true;
  w[0].format = "ami";
  w[0].recording = "ami.raw";
  w[0].want = restart ? restart_want(true) : day_want();
  w[1].name = "pbx-log";
  w[1].feed_toml = fmt::format("\n[[feed]]\nname = \"pbx-log\"\ntype = \"queue_log\"\npath = \"{}\"\n", queue_log.string());
  w[1].format = "queue_log";
  w[1].recording = "queue_log";
  w[1].want = restart ? restart_want(false) : day_want();
  std::vector<std::string> args = {"--ami-port", std::to_string(port)};
  if (!env("CALLWATCH_LAB_ASTERISK_ROOT").empty()) args.insert(args.end(), {"--root", env("CALLWATCH_LAB_ASTERISK_ROOT")});
  if (!env("CALLWATCH_LAB_ASTERISK_BIN").empty()) args.insert(args.end(), {"--asterisk", env("CALLWATCH_LAB_ASTERISK_BIN")});
  play_and_check(lab + "/astlab.py", args, lab + "/stories/" + story + ".json", t.dir, port, w);
}

// The FreeSWITCH `day` story (tests/lab/freeswitch/stories/day.json; worked out event by event
// in tests/integration/freeswitch_fixtures.sh): sales c1 answered by alice (~1 s), c3 hangs up
// after 3 s (short), c5 presses 5, c6 rings alice past leg_timeout (a ring-no-answer) and bob
// answers after ~8 s (outside T = 5): offered 4, answered 2, within T 1. support (ring-all):
// c2 answered by carol, dave's leg loses the race (not a no-answer). billing: c4 times out
// (max-wait-time 8). bob On Break 0 -> 14, carol 24 -> 28.
StoryWant fs_day_want() {
  return {"day",
          {{"sales", 4, 2, 1, 1, 0, 0, 1, 1},
           {"support", 1, 1, 0, 0, 0, 0, 0, 1},
           {"billing", 1, 0, 0, 0, 1, 0, 0, 0}},
          {{"alice", 1, 1, 6, 0},
           {"bob", 1, 0, 3, 14},
           {"carol", 1, 0, 5, 4},
           {"dave", 0, 0, 0, 0}}};
}

// The FreeSWITCH `restart` story: r1 answered by alice and bridged at `fsctl shutdown` (talk
// ~4), r2 waiting then (BREAK_OUT after ~2 s: short), r3 answered by bob after the start; bob On
// Break until the connection drops (~5.8 s), alice On Break 12 -> 19.
StoryWant fs_restart_want() {
  return {"restart",
          {{"sales", 3, 2, 1, 1, 0, 0, 0, 2}},
          {{"alice", 1, 0, 4, 7}, {"bob", 1, 0, 3, 5.8, 1.6}}};
}

void freeswitch_story(const std::string& story) {
  const std::string lab = env("CALLWATCH_LAB_FS_DIR");
  const std::string prefix = env("CALLWATCH_LAB_FS_PREFIX");
  if (lab.empty() || prefix.empty()) FAIL("CALLWATCH_LAB_FS_DIR/PREFIX not set: run tests/integration/freeswitch_lab.sh");
  LabDir t;
  const int port = cwtest::free_tcp_port();
  const fs::path cred = credentials(t.dir, "password = lab-secret\n");
  std::vector<Watch> w(1);
  w[0].name = "fs";
  w[0].feed_toml = fmt::format("\n[[feed]]\nname = \"fs\"\ntype = \"esl\"\naddress = \"127.0.0.1:{}\"\ncredentials_file = \"{}\"\n", port, cred.string());
  w[0].connects = true;
  w[0].format = "esl";
  w[0].recording = "esl.raw";
  w[0].want = story == "restart" ? fs_restart_want() : fs_day_want();
  play_and_check(lab + "/fslab.py", {"--esl-port", std::to_string(port), "--prefix", prefix},
                 lab + "/stories/" + story + ".json", t.dir, port, w);
}

}  // namespace

TEST_CASE("a real Asterisk plays every outcome; AMI and queue_log daemons and report agree",
          "[.asterisk_lab]") {
  asterisk_story("day");
}

TEST_CASE("a real Asterisk restarts mid-call; the restart ends calls and pauses on every path",
          "[.asterisk_lab]") {
  asterisk_story("restart");
}

TEST_CASE("a real FreeSWITCH plays every outcome; the ESL daemon and report agree",
          "[.freeswitch_lab]") {
  freeswitch_story("day");
}

TEST_CASE("a real FreeSWITCH restarts mid-call; the restart ends calls and pauses",
          "[.freeswitch_lab]") {
  freeswitch_story("restart");
}
