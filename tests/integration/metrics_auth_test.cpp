// /metrics with basic auth: no credentials or wrong ones get 401 with a challenge, the configured
// user and password get the body, /healthz stays open for probes, and a password file other users
// can read stops the daemon at start.
#include <catch2/catch.hpp>

#include "store_test_util.hpp"

using namespace cwtest;

TEST_CASE("basic auth guards /metrics and nothing else", "[integration][security][auth]") {
  Site site;
  site.write_config(metrics_basic_auth(site, "prom", "s3cret pass"));
  site.start();
  INFO(site.log());

  const auto none = http_get(site.http_port, "/metrics");
  CHECK(none.status == 401);
  CHECK(none.has_header("WWW-Authenticate: Basic"));
  CHECK(none.body.empty());
  // base64("prom:s3cret pass") = cHJvbTpzM2NyZXQgcGFzcw==
  const auto good =
      http_get(site.http_port, "/metrics", "Authorization: Basic cHJvbTpzM2NyZXQgcGFzcw==\r\n");
  CHECK(good.status == 200);
  CHECK(good.body.find("callwatch_build_info") != std::string::npos);
  // base64("prom:s3cret") = cHJvbTpzM2NyZXQ=
  CHECK(http_get(site.http_port, "/metrics", "Authorization: Basic cHJvbTpzM2NyZXQ=\r\n").status ==
        401);
  CHECK(http_get(site.http_port, "/healthz").status == 200);
  CHECK(site.log().find("s3cret") == std::string::npos);
}

TEST_CASE("a metrics password file others can read stops the daemon at start",
          "[integration][security][auth]") {
  Site site;
  site.write_config(metrics_basic_auth(site, "prom", "s3cret", 0644));
  site.start({}, false);
  CHECK(site.wait_exit(10s) == 2);  // a configuration problem: not restarted by systemd
  CHECK(site.log().find("chmod 600") != std::string::npos);
  CHECK(site.log().find("s3cret") == std::string::npos);
}
