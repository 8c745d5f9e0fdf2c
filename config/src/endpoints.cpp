#include "endpoints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace callwatch::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    const std::size_t dot = std::min(s.find('.', i), s.size());
    const std::string_view p = s.substr(i, dot - i);
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), is_digit)) return false;
    if (std::stoi(std::string(p)) > 255) return false;
    ++parts;
    i = dot + 1;
  }
  return parts == 4;
}

bool is_ipv6(std::string_view s) {
  if (s.size() < 2 || s.find(':') == std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

// RFC 1123 host name; ZeroMQ also takes an interface name ("eth0"), which has the same shape.
bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  const bool all_numeric =
      std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c) || c == '.'; });
  if (all_numeric) return false;  // "10.0.0" or "300.1.1.1" are broken addresses, not names
  std::size_t i = 0;
  while (i <= s.size()) {
    const std::size_t dot = std::min(s.find('.', i), s.size());
    const std::string_view label = s.substr(i, dot - i);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    i = dot + 1;
  }
  return true;
}

tl::expected<int, std::string> parse_port(std::string_view p) {
  if (p.empty()) return tl::unexpected(std::string("the port is missing"));
  if (p.size() > 5 || !std::all_of(p.begin(), p.end(), is_digit)) {
    return tl::unexpected(fmt::format("port '{}' is not a number", p));
  }
  const int v = std::stoi(std::string(p));
  if (v < 1 || v > 65535) return tl::unexpected(fmt::format("port {} is outside 1-65535", v));
  return v;
}

bool wildcard(const std::string& h) { return h.empty() || h == "*" || h == "0.0.0.0" || h == "::"; }

}  // namespace

tl::expected<Endpoint, std::string> parse_host_port(std::string_view text, bool allow_empty_host,
                                                    std::optional<int> default_port) {
  Endpoint e;
  e.transport = "tcp";
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      return tl::unexpected(std::string("unclosed '[' around an IPv6 address"));
    host = text.substr(1, close - 1);
    const std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return tl::unexpected(fmt::format("unexpected '{}' after ']'", after));
      port = after.substr(1);
      has_port = true;
    }
    if (!is_ipv6(host)) return tl::unexpected(fmt::format("'{}' is not an IPv6 address", host));
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      has_port = true;
      if (host.find(':') != std::string_view::npos) {
        return tl::unexpected(std::string("write an IPv6 address in brackets: [::1]:9747"));
      }
    } else {
      host = text;
    }
    if (host.empty()) {
      if (!allow_empty_host) return tl::unexpected(std::string("the host is missing"));
    } else if (!is_ipv4(host) && !is_hostname(host)) {
      return tl::unexpected(fmt::format("'{}' is neither a host name nor an IPv4 address", host));
    }
  }
  e.host = std::string(host);
  if (has_port) {
    auto p = parse_port(port);
    if (!p) return tl::unexpected(p.error());
    e.port = *p;
  } else if (default_port) {
    e.port = *default_port;
  } else {
    return tl::unexpected(std::string("expected HOST:PORT (the port is missing)"));
  }
  return e;
}

tl::expected<Endpoint, std::string> parse_zmq_endpoint(std::string_view text) {
  constexpr std::string_view kTcp = "tcp://";
  constexpr std::string_view kIpc = "ipc://";
  if (text.starts_with(kIpc)) {
    Endpoint e;
    e.transport = "ipc";
    e.path = std::string(text.substr(kIpc.size()));
    if (e.path.empty()) return tl::unexpected(std::string("ipc:// needs a socket path"));
    return e;
  }
  if (!text.starts_with(kTcp)) {
    return tl::unexpected(
        std::string("expected a ZeroMQ endpoint like \"tcp://127.0.0.1:7701\" or "
                    "\"ipc:///run/callwatch/feed\""));
  }
  std::string_view rest = text.substr(kTcp.size());
  // ZeroMQ's "*" (every interface) is no host name, so it is taken apart here.
  const bool any = rest.starts_with("*:");
  auto e =
      parse_host_port(any ? std::string("localhost").append(rest.substr(1)) : std::string(rest),
                      false, std::nullopt);
  if (!e) return tl::unexpected(e.error());
  if (any) e->host = "*";
  return e;
}

bool endpoints_clash(const Endpoint& a, const Endpoint& b) {
  if (a.transport != b.transport) return false;
  if (a.transport == "ipc") return a.path == b.path;
  return a.port == b.port && (a.host == b.host || wildcard(a.host) || wildcard(b.host));
}

std::string to_host_port(const Endpoint& e) {
  if (e.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", e.host, e.port);
  return fmt::format("{}:{}", e.host, e.port);
}

}  // namespace callwatch::config
