// callwatch-sim as a process: what it sends over a real PUSH socket is what it dumps, the same
// seed gives the same bytes, pacing follows --speed, SIGTERM stops it cleanly, and a real
// callwatchd counts every simulated event and call.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "daemon_process.hpp"

namespace {

using namespace std::chrono_literals;

struct Proc {
  pid_t pid = -1;
  int status = 0;
  std::filesystem::path out;

  Proc(const std::vector<std::string>& args, std::filesystem::path stdout_path) : out(std::move(stdout_path)) {
    std::vector<std::string> full = {std::string(CALLWATCH_BIN_DIR) + "/callwatch-sim"};
    full.insert(full.end(), args.begin(), args.end());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (out.string() + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Proc() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
  }
  bool exited() {
    if (pid <= 0) return true;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return true;
    }
    return false;
  }
  bool wait(std::chrono::milliseconds timeout) { return cwtest::wait_for([&] { return exited(); }, timeout); }
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  std::string output() const {
    std::ifstream in(out);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/callwatch-sim-it-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The "ts" of a native JSON line (the simulator writes it right after "type").
double ts_of(const std::string& line) {
  const auto p = line.find("\"ts\":");
  return p == std::string::npos ? -1 : std::stod(line.substr(p + 5));
}

}  // namespace

TEST_CASE("callwatch-sim sends over PUSH exactly the events it dumps", "[integration][sim]") {
  TempDir tmp;
  zmq::context_t ctx;
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.set(zmq::sockopt::rcvtimeo, 200);
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);

  const auto dump = tmp.path / "events.jsonl";
  Proc sim({"--connect", endpoint, "--queues", "4", "--agents", "20", "--rate", "0.2", "--duration", "1800",
            "--drain", "--speed", "0", "--seed", "5", "--start", "1767600000", "--dump", dump.string()},
           tmp.path / "out.txt");
  REQUIRE(sim.pid > 0);
  std::vector<std::string> got;
  for (;;) {
    zmq::message_t m;
    if (pull.recv(m)) {
      got.push_back(m.to_string());
      continue;
    }
    if (sim.exited()) break;  // nothing for 200 ms and the sender is gone
  }
  CHECK(sim.exit_code() == 0);
  const auto dumped = read_lines(dump);
  // 1800 s at 0.2 calls/s is 360 calls expected; with 20 logins and ~7 events a call, thousands.
  REQUIRE(dumped.size() > 1000);
  CHECK(got == dumped);
  // The summary counts what was sent.
  CHECK_THAT(sim.output(), Catch::Contains("sent " + std::to_string(dumped.size()) + " events"));
  // --start fixes the clock: the first event (a login) is at the start time.
  CHECK(ts_of(dumped.front()) == 1767600000.0);
}

TEST_CASE("callwatch-sim: same seed same bytes, another seed other bytes", "[integration][sim]") {
  TempDir tmp;
  const auto run = [&](const std::string& seed, const std::string& name) {
    Proc p({"--dump", (tmp.path / name).string(), "--duration", "900", "--drain", "--speed", "0", "--seed", seed,
            "--start", "1767600000", "--surge", "3@300"},
           tmp.path / (name + ".out"));
    REQUIRE(p.wait(30s));
    CHECK(p.exit_code() == 0);
    return read_lines(tmp.path / name);
  };
  const auto a = run("9", "a.jsonl");
  const auto b = run("9", "b.jsonl");
  const auto c = run("10", "c.jsonl");
  REQUIRE(a.size() > 100);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("callwatch-sim paces events in real time by --speed", "[integration][sim]") {
  TempDir tmp;
  // 60 simulated seconds at 30x: about 2 s of wall time; the run stops at --duration.
  const double t0 = wall_now();
  Proc p({"--dump", (tmp.path / "e.jsonl").string(), "--rate", "2", "--duration", "60", "--speed", "30"},
         tmp.path / "out.txt");
  REQUIRE(p.wait(20s));
  const double took = wall_now() - t0;
  CHECK(p.exit_code() == 0);
  CHECK(took >= 1.9);
  CHECK(took < 10.0);  // generous: a loaded CI machine
  const auto lines = read_lines(tmp.path / "e.jsonl");
  REQUIRE(lines.size() > 50);
  // Start time = now, and no event beyond the 60 simulated seconds.
  const double first = ts_of(lines.front());
  CHECK(std::abs(first - t0) < 2.0);
  CHECK(ts_of(lines.back()) <= first + 60.0);
}

TEST_CASE("callwatch-sim stops on SIGTERM with its summary", "[integration][sim]") {
  TempDir tmp;
  Proc p({"--dump", (tmp.path / "e.jsonl").string(), "--rate", "5"}, tmp.path / "out.txt");
  REQUIRE(p.pid > 0);
  std::this_thread::sleep_for(800ms);
  REQUIRE_FALSE(p.exited());  // no --duration: runs until told
  ::kill(p.pid, SIGTERM);
  REQUIRE(p.wait(3s));
  CHECK(p.exit_code() == 0);
  CHECK_THAT(p.output(), Catch::Contains("(interrupted)"));
  CHECK(read_lines(tmp.path / "e.jsonl").size() >= 50);  // at least the 50 logins
}

TEST_CASE("callwatch-sim refuses bad options with exit code 2", "[integration][sim]") {
  TempDir tmp;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--dump", "-", "--surge", "3x"}, std::vector<std::string>{"--rate", "1"},
        std::vector<std::string>{"--dump", "-", "--rate", "-1"},
        std::vector<std::string>{"--dump", "-", "--queues", "0"}}) {
    Proc p(args, tmp.path / "out.txt");
    REQUIRE(p.wait(10s));
    INFO(args[args.size() - 2] << " " << args.back());
    CHECK(p.exit_code() != 0);
    CHECK(p.exit_code() == 2);
  }
}

TEST_CASE("a real callwatchd counts every event and call callwatch-sim sends", "[integration][sim]") {
  cwtest::Daemon d;
  TempDir tmp;
  const auto dump = tmp.path / "events.jsonl";
  // Simulated time ends before now, so the daemon's clock is never behind the events.
  const std::string start = std::to_string(static_cast<long long>(wall_now()) - 4000);
  Proc sim({"--connect", d.feed_endpoint, "--queues", "5", "--agents", "30", "--rate", "0.3", "--duration", "1800",
            "--drain", "--speed", "0", "--seed", "21", "--start", start, "--dump", dump.string()},
           tmp.path / "out.txt");
  REQUIRE(sim.wait(30s));
  CHECK(sim.exit_code() == 0);
  const auto lines = read_lines(dump);
  REQUIRE(lines.size() > 1000);
  std::map<std::string, int> offered;  // queue -> visits with an outcome, from the dump itself
  for (const auto& l : lines) {
    if (l.find("\"type\":\"call_answered\"") == std::string::npos &&
        l.find("\"type\":\"call_abandoned\"") == std::string::npos &&
        l.find("\"type\":\"call_exited\"") == std::string::npos)
      continue;
    const auto q = l.find("\"queue\":\"") + 9;
    ++offered[l.substr(q, l.find('"', q) - q)];
  }
  const std::string total = "callwatch_feed_events_total{feed=\"native\"}";
  const bool all_in = cwtest::wait_for(
      [&] {
        const auto v = cwtest::sample(d.scrape(), total);
        return v && *v + 0.5 >= static_cast<double>(lines.size());
      },
      15s);
  const std::string body = d.scrape();
  INFO(body.substr(0, 2000));
  REQUIRE(all_in);
  CHECK(cwtest::sample(body, total) == Approx(static_cast<double>(lines.size())));
  CHECK(cwtest::sample(body, "callwatch_feed_events_rejected_total{feed=\"native\",reason=\"not_json\"}").value_or(0) ==
        0);
  REQUIRE(offered.size() == 5);
  for (const auto& [q, n] : offered) {
    INFO(q);
    CHECK(cwtest::sample(body, "callwatch_queue_calls_offered_total{queue=\"" + q + "\"}") ==
          Approx(static_cast<double>(n)));
  }
}
