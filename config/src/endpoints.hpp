// Listen and connect addresses: ZeroMQ endpoints ("tcp://127.0.0.1:7701", "ipc:///run/x") and
// plain host:port pairs (HTTP, AMI, ESL), checked before any socket is opened.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace callwatch::config {

struct Endpoint {
  std::string transport;  // "tcp" or "ipc"
  std::string host;       // tcp: "*", "" (all interfaces), name, IPv4 or IPv6 (without brackets)
  int port = 0;
  std::string path;  // ipc
};

// "tcp://HOST:PORT" (HOST may be "*") or "ipc://PATH".
tl::expected<Endpoint, std::string> parse_zmq_endpoint(std::string_view text);
// "HOST:PORT", "[V6]:PORT"; ":PORT" (all interfaces) only when allow_empty_host; a missing port
// takes default_port when one is given.
tl::expected<Endpoint, std::string> parse_host_port(std::string_view text, bool allow_empty_host,
                                                    std::optional<int> default_port);
// Two listeners that cannot both bind: the same ipc path, or the same tcp port on the same or a
// wildcard host.
bool endpoints_clash(const Endpoint& a, const Endpoint& b);
// "host:port" as a connect string, brackets around IPv6.
std::string to_host_port(const Endpoint& e);

}  // namespace callwatch::config
