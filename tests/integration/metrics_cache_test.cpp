// /metrics renders its state part once per published frame (issue 14, scrape_100k): every scrape
// of the same frame, gzip or not, reads the same text; the listener's own samples are read at
// every scrape; a new frame renders anew. Real HTTP on loopback against the daemon's HttpServer.
#include <catch2/catch.hpp>
#include <thread>

#include "daemon_process.hpp"
#include "runtime/snapshot_hub.hpp"
#include "serve/http_server.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;

namespace {

std::shared_ptr<const m::Snapshot> one_queue(int waiting, double now) {
  auto s = std::make_shared<m::Snapshot>();
  s->now = now;
  m::QueueView q;
  q.name = "sales";
  q.calls_waiting = waiting;
  s->queues.push_back(q);
  return s;
}

int port_of(const cd::HttpServer& s) {
  const std::string& a = s.address();
  return std::stoi(a.substr(a.rfind(':') + 1));
}

}  // namespace

TEST_CASE("/metrics renders a frame once for all its scrapes; the listener's samples are live",
          "[integration][http][cache]") {
  cd::SnapshotHub hub;
  hub.publish(one_queue(3, 1000));
  cd::HttpOptions opts;
  opts.listen = "127.0.0.1:0";
  std::atomic<std::uint64_t> store_errors{7};
  opts.export_options.store_health = [&] { return cd::StoreHealthSample{.errors = store_errors.load()}; };
  auto server = cd::HttpServer::start(opts, hub);
  REQUIRE(server);
  const int port = port_of(**server);
  const std::string waiting = "callwatch_queue_calls_waiting{queue=\"sales\"}";

  const auto plain = cwtest::http_get(port, "/metrics");
  REQUIRE(plain.status == 200);
  CHECK(cwtest::sample(plain.body, waiting) == 3.0);
  CHECK(cwtest::sample(plain.body, "callwatch_store_errors_total") == 7.0);
  CHECK(cwtest::sample(plain.body, "callwatch_http_connections") == 1.0);  // this scrape's
  store_errors = 9;
  const auto gz = cwtest::http_get(port, "/metrics", "Accept-Encoding: gzip\r\n");
  REQUIRE(gz.has_header("Content-Encoding: gzip"));
  const std::string body = cwtest::gunzip(gz.body);  // throws unless one whole gzip member
  CHECK(cwtest::sample(body, waiting) == 3.0);
  CHECK(cwtest::sample(body, "callwatch_store_errors_total") == 9.0);  // read at this scrape
  CHECK(body.find("# TYPE callwatch_build_info gauge") != std::string::npos);
  // The same text but the live sample: 7 -> 9 errors.
  std::string expect = plain.body;
  const auto at = expect.find("callwatch_store_errors_total 7");
  REQUIRE(at != std::string::npos);
  expect[at + std::string("callwatch_store_errors_total ").size()] = '9';
  CHECK(body == expect);
  CHECK((*server)->state_renders() == 1);
  CHECK(cwtest::promtool_check(body, std::filesystem::temp_directory_path()) == 0);

  // Eight scrapers of a new frame at once: one render, all see 5.
  hub.publish(one_queue(5, 1001));
  std::vector<std::thread> scrapers;
  std::atomic<int> saw_five{0};
  for (int i = 0; i < 8; ++i) {
    scrapers.emplace_back([&, i] {
      const auto r = cwtest::http_get(port, "/metrics", i % 2 ? "Accept-Encoding: gzip\r\n" : "");
      const std::string b = r.has_header("Content-Encoding: gzip") ? cwtest::gunzip(r.body) : r.body;
      if (cwtest::sample(b, waiting) == 5.0) ++saw_five;
    });
  }
  for (auto& t : scrapers) t.join();
  CHECK(saw_five == 8);
  CHECK((*server)->state_renders() == 2);
}
