// Start-up refusals (issue 13): every file the daemon refuses at start-up, `--check-config`
// refuses too, with the same words at the same file:line, and the daemon exits 2 (systemd's
// RestartPreventExitStatus=2: no restart loop). Real processes, temp files, no network.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "store_test_util.hpp"

using namespace cwtest;

namespace {

// 1-based line of the first line of `file` holding `needle`.
int line_of(const std::filesystem::path& file, const std::string& needle) {
  std::ifstream in(file);
  int n = 0;
  for (std::string l; std::getline(in, l);) {
    ++n;
    if (l.find(needle) != std::string::npos) return n;
  }
  return 0;
}

struct Verdict {
  int status = -1;
  std::string out;  // stdout and stderr
};

Verdict check_config(const Site& site) {
  const auto out = site.dir / "check.out";
  Verdict v;
  v.status = run(std::string(CALLWATCH_BIN_DIR) + "/callwatchd --check-config --config '" + site.config.string() +
                 "' > '" + out.string() + "' 2>&1");
  std::ifstream in(out);
  v.out.assign(std::istreambuf_iterator<char>(in), {});
  return v;
}

// The check refuses with `words` at `line`; the daemon exits 2 and prints the same line.
void refused_alike(Site& site, int line, const std::string& words) {
  REQUIRE(line > 0);
  const std::string where = site.config.string() + ":" + std::to_string(line) + ": ";
  const Verdict check = check_config(site);
  INFO("--check-config said:\n" << check.out);
  CHECK(check.status == 1);
  const auto at = check.out.find(where);
  REQUIRE(at != std::string::npos);
  const std::string said = check.out.substr(at, check.out.find('\n', at) - at);
  CHECK(said.find(words) != std::string::npos);
  site.start({}, /*wait_ready=*/false);
  CHECK(site.wait_exit(10s) == 2);
  INFO("the daemon said:\n" << site.log());
  CHECK(site.log().find(said) != std::string::npos);  // the same words, file and line
}

// A secret file with `text` that every user may read (mode 0644).
std::filesystem::path open_secret(const Site& site, const std::string& name, const std::string& text) {
  const auto path = site.dir / name;
  std::ofstream(path) << text;
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  return path;
}

}  // namespace

TEST_CASE("a feed's credentials file others can read: --check-config refuses it as the daemon does",
          "[integration][startup][config]") {
  Site site;
  const auto cred = open_secret(site, "pbx.cred", "username = cw\nsecret = s3cret\n");
  site.write_config("[[feed]]\nname = \"pbx\"\ntype = \"ami\"\naddress = \"127.0.0.1:5038\"\ncredentials_file = \"" +
                    cred.string() + "\"\n");
  refused_alike(site, line_of(site.config, "credentials_file"), "is readable by every user");
  CHECK(site.log().find("s3cret") == std::string::npos);
}

TEST_CASE("a metrics password file others can read: --check-config refuses it as the daemon does",
          "[integration][startup][config]") {
  Site site;
  const auto pass = open_secret(site, "metrics.pass", "s3cret\n");
  site.write_config("[metrics]\nbasic_auth_user = \"prom\"\nbasic_auth_password_file = \"" + pass.string() + "\"\n");
  refused_alike(site, line_of(site.config, "basic_auth_password_file"), "chmod 600");
}

TEST_CASE("a server key others can read: --check-config refuses it as the daemon does",
          "[integration][startup][config]") {
  Site site;
  const auto keys = site.dir / "keys";
  for (const char* name : {"server", "floor"}) {
    REQUIRE(run(std::string(CALLWATCH_BIN_DIR) + "/callwatchd keygen --out '" + keys.string() + "' --name " + name +
                " > /dev/null") == 0);
  }
  REQUIRE(::chmod((keys / "server.key").c_str(), 0644) == 0);
  site.write_config("[security]\nkeys_dir = \"" + keys.string() +
                    "\"\nserver_key = \"server\"\n[[security.client]]\nname = \"floor\"\nrole = \"kiosk\"\n");
  refused_alike(site, line_of(site.config, "server_key"), "chmod 600");
  // A client whose public key file is missing is named at its own [[security.client]].
  REQUIRE(::chmod((keys / "server.key").c_str(), 0600) == 0);
  std::filesystem::remove(keys / "floor.pub");
  refused_alike(site, line_of(site.config, "[[security.client]]"), "client \"floor\"");
}

TEST_CASE("a storage folder that does not exist: --check-config refuses it as the daemon does",
          "[integration][startup][config]") {
  Site site;
  const auto missing = site.dir / "no-such-folder" / "callwatch.db";
  site.write_config("[general]\nstorage_path = \"" + missing.string() + "\"\n", /*with_storage=*/false);
  refused_alike(site, line_of(site.config, "storage_path"), "does not exist");
  // A file that is not a database is refused alike; an empty one is not (a lost state, flagged).
  std::filesystem::create_directories(missing.parent_path());
  std::ofstream(missing) << "not a database, a text file\n";
  refused_alike(site, line_of(site.config, "storage_path"), "file is not a database");
  std::filesystem::resize_file(missing, 0);
  const Verdict check = check_config(site);
  INFO(check.out);
  CHECK(check.status == 0);
}
