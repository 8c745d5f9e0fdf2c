// Issue 13, the HTTP listener against clients that misbehave, each against a real callwatchd on
// loopback: silent connections (4 of them used to stall every scrape for 10 s), more connections
// than the limit, paths that only look like /metrics, Accept-Encoding spelt other ways, and
// password guessing.
#include <poll.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "store_test_util.hpp"

using namespace cwtest;

namespace {

// A TCP connection to the port that never sends a byte; -1 when the connect fails.
int silent_connection(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server closes the connection (EOF or reset) within `timeout`.
bool closed_by_server(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

struct Sockets {
  std::vector<int> fds;
  ~Sockets() {
    for (int fd : fds) ::close(fd);
  }
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

HttpResponse timed_get(int port, const std::string& path, double& seconds,
                       const std::string& headers = {}) {
  const auto t = std::chrono::steady_clock::now();
  auto r = http_get(port, path, headers);
  seconds = seconds_since(t);
  return r;
}

}  // namespace

TEST_CASE("200 silent connections leave /healthz and /metrics answering at once",
          "[integration][http][hostile]") {
  Site site;
  site.write_config("", false);
  site.start();
  Sockets idle;
  for (int i = 0; i < 200; ++i) {
    idle.fds.push_back(silent_connection(site.http_port));
    REQUIRE(idle.fds.back() >= 0);
  }
  // Before the fix 4 worker threads each sat 10 s on a silent connection: 200 of them were
  // 200 / 4 x 10 s = 500 s of waiting ahead of any scrape (the client below gives up after 10).
  // Now they hold no thread: a scrape costs one render, milliseconds.
  double healthz_s = 0, metrics_s = 0;
  CHECK(timed_get(site.http_port, "/healthz", healthz_s).status == 200);
  const auto scrape = timed_get(site.http_port, "/metrics", metrics_s);
  REQUIRE(scrape.status == 200);
  CHECK(healthz_s < 1.0);
  CHECK(metrics_s < 1.0);
  // 200 silent + the scrape that reads this: 201 open (once the kernel handed all 200 over).
  CHECK(wait_for([&] { return sample(site.scrape(), "callwatch_http_connections") == 201.0; }, 5s));
  CHECK(sample(scrape.body, "callwatch_http_refused_total{reason=\"connection_limit\"}") == 0.0);
}

TEST_CASE("connections over max_connections are closed at accept and counted; silent ones time out",
          "[integration][http][hostile]") {
  Site site;
  site.write_config("[metrics]\nmax_connections = 20\nidle_timeout_seconds = 4\n", false);
  site.start();
  Sockets idle;
  for (int i = 0; i < 20; ++i) idle.fds.push_back(silent_connection(site.http_port));
  std::this_thread::sleep_for(500ms);  // all 20 accepted: every slot taken
  Sockets extra;
  for (int i = 0; i < 5; ++i) {
    extra.fds.push_back(silent_connection(site.http_port));
    // Closed at accept: well before the 4 s idle timeout (an extra given a slot by mistake would
    // stay open that long). 2.5 s leaves a loaded machine time to run the accept.
    CHECK(closed_by_server(extra.fds.back(), 2500ms));
  }
  CHECK(http_get(site.http_port, "/healthz").status == 0);  // a 26th is refused as well
  // The 20 silent ones are closed after 4 s without a byte; the slots are free again.
  for (int fd : idle.fds) CHECK(closed_by_server(fd, 6s));
  // A probe may still find a slot not yet given back (a loaded machine): it is refused too.
  int refused_probes = 0;
  REQUIRE(wait_for([&] {
    const int status = http_get(site.http_port, "/healthz").status;
    if (status == 0) ++refused_probes;
    return status == 200;
  }, 3s));
  // Open now: the scrape alone, once the server has seen the probe's close (the client reads
  // the end of the answer a moment before the server counts the connection gone).
  std::string body;
  CHECK(wait_for([&] {
    body = site.scrape();
    return sample(body, "callwatch_http_connections") == 1.0;
  }, 3s));
  // Refused: the 5 extra connections and the one /healthz above = 6, and any probe refused while
  // the slots came free.
  INFO("probes refused while the slots came free: " << refused_probes);
  CHECK(sample(body, "callwatch_http_refused_total{reason=\"connection_limit\"}").value_or(-1) ==
        6.0 + refused_probes);
  CHECK(site.log().find("refused a connection from 127.0.0.1") != std::string::npos);
}

TEST_CASE("only the exact path reaches /metrics; Accept-Encoding is read as RFC 9110 says",
          "[integration][http][hostile]") {
  Site site;
  site.write_config("", false);
  site.start();
  for (const char* path : {"/METRICS", "//metrics", "/metrics%00", "/metrics/", "/Metrics",
                           "/./metrics", "/metrics%2f", "/healthz%00"}) {
    INFO(path);
    CHECK(http_get(site.http_port, path).status == 404);
  }
  CHECK(http_get(site.http_port, "/metrics").status == 200);
  CHECK(http_get(site.http_port, "/metrics?x=1").status == 200);  // a query string is not the path

  auto gzipped = [&](const std::string& accept) {
    const auto r = http_get(site.http_port, "/metrics", "Accept-Encoding: " + accept + "\r\n");
    REQUIRE(r.status == 200);
    if (!r.has_header("Content-Encoding: gzip")) return false;
    CHECK(gunzip(r.body).rfind("# HELP ", 0) == 0);
    return true;
  };
  CHECK(gzipped("GZIP"));                 // coding names are case-insensitive
  CHECK(gzipped("deflate, GZip;Q=0.5"));  // and so is the weight's q
  CHECK(gzipped("x-gzip"));
  CHECK(gzipped("*"));
  CHECK_FALSE(gzipped("gzip;q=0"));
  CHECK_FALSE(gzipped("gzip;q=0.000"));
  CHECK_FALSE(gzipped("*;q=0.5, gzip;q=0"));  // a listed gzip wins over "*"
  CHECK_FALSE(gzipped("identity"));
  CHECK_FALSE(gzipped("gzipped"));
}

TEST_CASE(
    "wrong passwords are counted, logged without the password and answered late, holding no thread",
    "[integration][http][auth][hostile]") {
  Site site;
  // One thread: if a delayed answer held it, /healthz below would wait behind the delays.
  site.write_config(metrics_basic_auth(site, "prom", "s3cret pass") +
                        "threads = 1\nauth_failure_delay_seconds = 0.2\n",
                    false);
  site.start();
  // base64("prom:guess1") = cHJvbTpndWVzczE=
  const std::string wrong = "Authorization: Basic cHJvbTpndWVzczE=\r\n";
  // base64("prom:s3cret pass") = cHJvbTpzM2NyZXQgcGFzcw== (the two '=' are part of it)
  const std::string right = "Authorization: Basic cHJvbTpzM2NyZXQgcGFzcw==\r\n";

  // Failures in a row from 127.0.0.1 wait 0.2, 0.4, 0.8 s (0.2 x 2^(n-1)).
  for (double expect : {0.2, 0.4, 0.8}) {
    double took = 0;
    CHECK(timed_get(site.http_port, "/metrics", took, wrong).status == 401);
    CHECK(took >= expect - 0.02);
    CHECK(took < expect + 0.5);
  }
  // Four more at once: failures 4 to 7, each 1.6 s (the cap, 8 x 0.2). Meanwhile the only thread
  // answers /healthz at once.
  std::atomic<int> refused{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < 4; ++i) {
    guessers.emplace_back([&] {
      if (http_get(site.http_port, "/metrics", wrong).status == 401) ++refused;
    });
  }
  std::this_thread::sleep_for(300ms);
  double healthz_s = 0;
  CHECK(timed_get(site.http_port, "/healthz", healthz_s).status == 200);
  CHECK(healthz_s < 0.3);
  for (auto& t : guessers) t.join();
  CHECK(refused == 4);

  // The right password answers at once and ends the streak.
  double took = 0;
  CHECK(timed_get(site.http_port, "/metrics", took, right).status == 200);
  CHECK(took < 0.3);
  // Unpadded or loosely padded base64 of the right credentials is not the right credentials.
  for (const char* loose :
       {"cHJvbTpzM2NyZXQgcGFzcw", "cHJvbTpzM2NyZXQgcGFzcw=", "cHJvbTpzM2NyZXQgcGFzcx=="}) {
    INFO(loose);
    CHECK(
        http_get(site.http_port, "/metrics", std::string("Authorization: Basic ") + loose + "\r\n")
            .status == 401);
  }
  // No credentials is a challenge, not a guess: not counted, not delayed.
  CHECK(timed_get(site.http_port, "/metrics", took).status == 401);
  CHECK(took < 0.3);

  const auto ok = http_get(site.http_port, "/metrics", right);
  REQUIRE(ok.status == 200);
  // 3 + 4 wrong passwords + 3 malformed credentials = 10.
  CHECK(sample(ok.body, "callwatch_http_auth_failures_total") == 10.0);
  const std::string log = site.log();
  CHECK(log.find("wrong password for user \"prom\" from 127.0.0.1:") != std::string::npos);
  CHECK(log.find("malformed basic auth credentials from 127.0.0.1:") != std::string::npos);
  CHECK(log.find("guess1") == std::string::npos);
  CHECK(log.find("s3cret") == std::string::npos);
}
