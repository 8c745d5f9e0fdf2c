// The store's figures in /metrics: callwatch_store_errors_total and the time of the last saved
// checkpoint, present only when the daemon runs with a store.
#include <catch2/catch.hpp>
#include <sstream>

#include "serve/exporter.hpp"

using namespace callwatch;
using callwatch::daemon::ExportOptions;
using callwatch::daemon::render_metrics;
using callwatch::daemon::StoreHealthSample;

namespace {
bool has_line(const std::string& body, const std::string& line) {
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}
bool has_prefix(const std::string& body, const std::string& prefix) {
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("store errors and the last checkpoint time are exported when a store runs",
          "[store][exporter]") {
  ExportOptions opts;
  int calls = 0;
  opts.store_health = [&] {
    ++calls;
    return StoreHealthSample{3, 1767600041.5};
  };
  std::string out;
  render_metrics(metrics::Snapshot{}, {}, opts, out);
  CHECK(calls == 1);  // read once per scrape
  CHECK(has_line(out, "# TYPE callwatch_store_errors_total counter"));
  CHECK(has_line(out, "callwatch_store_errors_total 3"));
  CHECK(has_line(out, "callwatch_store_last_checkpoint_timestamp_seconds 1767600041.5"));

  // Before the first checkpoint is on disk there is no time to show; the error count is 0.
  opts.store_health = [] { return StoreHealthSample{0, 0}; };
  render_metrics(metrics::Snapshot{}, {}, opts, out);
  CHECK(has_line(out, "callwatch_store_errors_total 0"));
  CHECK_FALSE(has_prefix(out, "callwatch_store_last_checkpoint_timestamp_seconds "));
}

TEST_CASE("without a store the store families have no samples", "[store][exporter]") {
  std::string out;
  render_metrics(metrics::Snapshot{}, {}, ExportOptions{}, out);
  CHECK(has_line(out, "# TYPE callwatch_store_errors_total counter"));
  CHECK_FALSE(has_prefix(out, "callwatch_store_errors_total "));
}
