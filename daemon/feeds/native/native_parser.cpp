// Native JSON parsing: one pass over the object's fields with simdjson on-demand, into fixed
// slots, then a check of the slots against the event type's row of the DESIGN.md table. Fields
// may come in any order ("type" last is legal JSON), so the check runs after the pass.
#include "feeds/native/native_parser.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <simdjson.h>

namespace callwatch::daemon {

namespace {

namespace od = simdjson::ondemand;
using metrics::Event;
using metrics::EventType;

constexpr std::array<std::string_view, kRejectReasonCount> kReasonNames = {
    "not_json",  "not_object", "unknown_type",  "missing_field", "wrong_type",
    "bad_value", "too_large",  "name_too_long", "invalid_utf8"};

// Every field name the native table knows. Anything else is ignored (forward compatible).
enum class Field : std::uint8_t {
  type, ts, call, queue, agent, caller, priority, by, reason, queues, state, to_queue, to,
  wait_seconds, talk_seconds, hold_seconds, wrap_seconds, ring_ms, inferred, count, unknown,
};
constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::count);
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "type",   "ts",    "call",     "queue",        "agent",        "caller",       "priority",
    "by",     "reason", "queues",  "state",        "to_queue",     "to",           "wait_seconds",
    "talk_seconds", "hold_seconds", "wrap_seconds", "ring_ms", "inferred"};

enum class Kind : std::uint8_t { string, number, string_array, boolean };
constexpr Kind kind_of(Field f) {
  switch (f) {
    case Field::ts: case Field::priority: case Field::wait_seconds: case Field::talk_seconds:
    case Field::hold_seconds: case Field::wrap_seconds: case Field::ring_ms:
      return Kind::number;
    case Field::queues: return Kind::string_array;
    case Field::inferred: return Kind::boolean;
    default: return Kind::string;
  }
}

// Dispatch on length first: most keys differ in length, so one compare usually settles it.
Field lookup_field(std::string_view k) {
  auto is = [&](Field f) { return k == kFieldNames[static_cast<std::size_t>(f)] ? f : Field::unknown; };
  switch (k.size()) {
    case 2: return k[0] == 't' ? (k[1] == 's' ? Field::ts : is(Field::to)) : is(Field::by);
    case 4: return k[0] == 't' ? is(Field::type) : is(Field::call);
    case 5: return k[0] == 'q' ? is(Field::queue) : (k[0] == 'a' ? is(Field::agent) : is(Field::state));
    case 6:
      if (k[0] == 'c') return is(Field::caller);
      if (k[0] == 'r') return is(Field::reason);
      return is(Field::queues);
    case 7: return is(Field::ring_ms);
    case 8:
      if (k[0] == 'p') return is(Field::priority);
      if (k[0] == 't') return is(Field::to_queue);
      return is(Field::inferred);
    case 12:
      switch (k[0]) {
        case 'w': return k[1] == 'a' ? is(Field::wait_seconds) : is(Field::wrap_seconds);
        case 't': return is(Field::talk_seconds);
        case 'h': return is(Field::hold_seconds);
        default: return Field::unknown;
      }
    default: return Field::unknown;
  }
}

constexpr std::size_t kMaxQueuesPerEvent = 1024;
// Nesting of a value the event does not use (RFC 8259 lets a parser limit it): deeper is not_json.
constexpr int kMaxDepth = 64;

// RFC 8259 section 6 over a raw token (trailing whitespace allowed): -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
// simdjson's number parser reads "01" or "1." its own way; the grammar decides what is JSON, and a
// number of the grammar that does not fit a double (1e999) is a bad value, not bad JSON.
bool json_number(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  std::size_t i = 0;
  const auto digit = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  const auto digits = [&] {
    const std::size_t from = i;
    while (digit(i)) ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A value the event does not read must still be JSON: on-demand skips what it is not asked for
// without validating it (`tru`, `[1,,2]`, `"\q"` would pass), so every part of it is read once.
// Recursive, bounded by kMaxDepth; no allocation (strings unescape into the parser's buffer).
bool valid_json_value(od::value v, int depth) {
  if (depth > kMaxDepth) return false;
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o) != simdjson::SUCCESS) return false;
      for (auto field_result : o) {
        od::field f;
        std::string_view key;
        if (std::move(field_result).get(f) != simdjson::SUCCESS ||
            f.unescaped_key().get(key) != simdjson::SUCCESS || !valid_json_value(f.value(), depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a) != simdjson::SUCCESS) return false;
      for (auto item : a) {
        od::value x;
        if (item.get(x) != simdjson::SUCCESS || !valid_json_value(x, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) == simdjson::SUCCESS;
    }
    case od::json_type::number:
      return json_number(v.raw_json_token());
    case od::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b) == simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool n = false;
      return v.is_null().get(n) == simdjson::SUCCESS && n;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(RejectReason r) { return kReasonNames[static_cast<std::size_t>(r)]; }

static_assert(NativeParser::kPadding == simdjson::SIMDJSON_PADDING);

struct NativeParser::Impl {
  std::size_t max_message;
  std::size_t max_name;
  od::parser parser;
  std::vector<char> buffer;  // message copy + SIMDJSON_PADDING, reused across messages
  Event event;
  std::vector<std::string_view> queues;
  std::string error;
  std::string refused_error;  // a field's reject, said once the message is known to be JSON
  std::unique_ptr<simdjson::dom::parser> validator;  // created on first non-object message

  // Slots of the current message.
  std::array<bool, kFieldCount> present{};
  std::array<std::string_view, kFieldCount> str{};
  std::array<double, kFieldCount> num{};
  bool flag = false;

  Impl(std::size_t max_msg, std::size_t max_nm) : max_message(max_msg), max_name(max_nm) {
    buffer.resize(max_message + simdjson::SIMDJSON_PADDING);
    queues.reserve(16);
  }

  template <typename... Args>
  tl::unexpected<RejectReason> reject(RejectReason r, fmt::format_string<Args...> f, Args&&... args) {
    error.clear();
    fmt::format_to(std::back_inserter(error), f, std::forward<Args>(args)...);
    return tl::unexpected(r);
  }

  bool is_valid_json(const char* data, std::size_t len) {
    if (!validator) validator = std::make_unique<simdjson::dom::parser>();
    simdjson::dom::element root;
    return validator->parse(data, len, false).get(root) == simdjson::SUCCESS;
  }

  static std::string_view name(Field f) { return kFieldNames[static_cast<std::size_t>(f)]; }

  // Reads one known field's value into its slot. Returns a reject reason or nothing.
  std::optional<RejectReason> read_value(Field f, od::value v) {
    od::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) {
      reject(RejectReason::not_json, "bad value for \"{}\"", name(f));
      return RejectReason::not_json;
    }
    const auto i = static_cast<std::size_t>(f);
    if (t == od::json_type::null) {
      bool is_null = false;
      if (v.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {  // `nul`, `nulls`
        reject(RejectReason::not_json, "bad value for \"{}\"", name(f));
        return RejectReason::not_json;
      }
      present[i] = false;  // null is "absent": optional fields may be sent as null
      return std::nullopt;
    }
    switch (kind_of(f)) {
      case Kind::string: {
        if (t != od::json_type::string) break;
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) {
          reject(RejectReason::not_json, "bad string in \"{}\"", name(f));
          return RejectReason::not_json;
        }
        str[i] = s;
        present[i] = true;
        return std::nullopt;
      }
      case Kind::number: {
        if (t != od::json_type::number) break;
        double d = 0;
        if (v.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
          // simdjson reads numbers by the JSON grammar; one of the grammar it cannot hold (1e999)
          // is a bad value, anything else is not JSON.
          if (!json_number(v.raw_json_token())) {
            reject(RejectReason::not_json, "bad number in \"{}\"", name(f));
            return RejectReason::not_json;
          }
          reject(RejectReason::bad_value, "\"{}\" is not a finite number", name(f));
          return RejectReason::bad_value;
        }
        num[i] = d;
        present[i] = true;
        return std::nullopt;
      }
      case Kind::boolean: {
        if (t != od::json_type::boolean) break;
        bool b = false;
        if (v.get_bool().get(b) != simdjson::SUCCESS) {
          reject(RejectReason::not_json, "bad boolean in \"{}\"", name(f));
          return RejectReason::not_json;
        }
        flag = b;
        present[i] = true;
        return std::nullopt;
      }
      case Kind::string_array: {
        if (t != od::json_type::array) break;
        od::array arr;
        if (v.get_array().get(arr) != simdjson::SUCCESS) {
          reject(RejectReason::not_json, "bad array in \"{}\"", name(f));
          return RejectReason::not_json;
        }
        queues.clear();
        // Every item is read, also after a refused one: the rest must still be JSON.
        std::optional<RejectReason> refused;
        for (auto item : arr) {
          od::value iv;
          od::json_type it;
          if (item.get(iv) != simdjson::SUCCESS || iv.type().get(it) != simdjson::SUCCESS) {
            reject(RejectReason::not_json, "bad array in \"{}\"", name(f));
            return RejectReason::not_json;
          }
          if (refused || it != od::json_type::string) {
            if (!valid_json_value(iv, 2)) {
              reject(RejectReason::not_json, "bad array in \"{}\"", name(f));
              return RejectReason::not_json;
            }
            if (!refused) {
              reject(RejectReason::wrong_type, "\"{}\" must hold only strings", name(f));
              refused = RejectReason::wrong_type;
            }
            continue;
          }
          std::string_view s;
          if (iv.get_string().get(s) != simdjson::SUCCESS) {
            reject(RejectReason::not_json, "bad string in \"{}\"", name(f));
            return RejectReason::not_json;
          }
          if (queues.size() >= kMaxQueuesPerEvent) {
            reject(RejectReason::bad_value, "\"{}\" has more than {} entries", name(f), kMaxQueuesPerEvent);
            refused = RejectReason::bad_value;
            continue;
          }
          queues.push_back(s);
        }
        if (refused) return refused;
        present[i] = true;
        return std::nullopt;
      }
    }
    // The wrong kind of value: still JSON, or the message is not.
    if (!valid_json_value(v, 1)) {
      reject(RejectReason::not_json, "bad value for \"{}\"", name(f));
      return RejectReason::not_json;
    }
    static constexpr std::array<std::string_view, 4> kKindNames = {"a string", "a number",
                                                                   "an array of strings", "a boolean"};
    reject(RejectReason::wrong_type, "\"{}\" must be {}", name(f),
           kKindNames[static_cast<std::size_t>(kind_of(f))]);
    return RejectReason::wrong_type;
  }

  bool has(Field f) const { return present[static_cast<std::size_t>(f)]; }
  std::string_view s(Field f) const { return str[static_cast<std::size_t>(f)]; }
  double n(Field f) const { return num[static_cast<std::size_t>(f)]; }

  // A name the event needs: present, not empty, within the length cap.
  std::optional<RejectReason> required_name(Field f, std::string_view& out) {
    if (!has(f)) {
      reject(RejectReason::missing_field, "missing field \"{}\"", name(f));
      return RejectReason::missing_field;
    }
    return optional_name(f, out, /*allow_empty=*/false);
  }
  std::optional<RejectReason> optional_name(Field f, std::string_view& out, bool allow_empty = true) {
    if (!has(f)) return std::nullopt;
    const std::string_view v = s(f);
    if (v.empty() && !allow_empty) {
      reject(RejectReason::bad_value, "\"{}\" is empty", name(f));
      return RejectReason::bad_value;
    }
    if (v.size() > max_name) {
      reject(RejectReason::name_too_long, "\"{}\" is {} bytes, the limit is {}", name(f), v.size(), max_name);
      return RejectReason::name_too_long;
    }
    out = v;
    return std::nullopt;
  }
  // An optional duration or count: finite and >= 0.
  std::optional<RejectReason> optional_amount(Field f, double& out) {
    if (!has(f)) return std::nullopt;
    if (n(f) < 0) {
      reject(RejectReason::bad_value, "\"{}\" is negative", name(f));
      return RejectReason::bad_value;
    }
    out = n(f);
    return std::nullopt;
  }

  tl::expected<const Event*, RejectReason> parse(std::string_view json) {
    error.clear();
    if (json.size() > max_message) {
      return reject(RejectReason::too_large, "message is {} bytes, the limit is {}", json.size(), max_message);
    }
    std::memcpy(buffer.data(), json.data(), json.size());
    // simdjson may read (never use) the padding; zero it so runs are deterministic under tools.
    std::memset(buffer.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return parse_at(buffer.data(), json.size(), buffer.size());
  }

  tl::expected<const Event*, RejectReason> parse_in_place(std::string_view json, std::size_t readable) {
    if (readable < json.size() + simdjson::SIMDJSON_PADDING) return parse(json);
    error.clear();
    if (json.size() > max_message) {
      return reject(RejectReason::too_large, "message is {} bytes, the limit is {}", json.size(), max_message);
    }
    return parse_at(json.data(), json.size(), readable);
  }

  // `data` holds the message (`len` bytes) and `readable` >= len + SIMDJSON_PADDING bytes may be read.
  tl::expected<const Event*, RejectReason> parse_at(const char* data, std::size_t len, std::size_t readable) {
    od::document doc;
    // Stage 1 validates UTF-8 over the whole message (no separate pass needed).
    if (auto err = parser.iterate(data, len, readable).get(doc); err != simdjson::SUCCESS) {
      if (err == simdjson::UTF8_ERROR) return reject(RejectReason::invalid_utf8, "message is not valid UTF-8");
      return reject(RejectReason::not_json, "not JSON");
    }
    od::object obj;
    if (auto err = doc.get_object().get(obj); err != simdjson::SUCCESS) {
      // On-demand does not validate what it does not read: a full parse (rare path) tells valid
      // JSON that is not an object from text that is not JSON at all.
      if (err == simdjson::INCORRECT_TYPE && is_valid_json(data, len)) {
        return reject(RejectReason::not_object, "not a JSON object");
      }
      return reject(RejectReason::not_json, "not JSON ({})", simdjson::error_message(err));
    }

    present.fill(false);
    queues.clear();
    std::optional<RejectReason> refused;  // a field's own reject, the first one (refused_error)
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) {
        return reject(RejectReason::not_json, "not JSON (bad object)");
      }
      // Keys are read raw (no copy): stage 1 validated the document, so the key's closing quote
      // lies inside the buffer. A key with an escape (rare) is unescaped the slow way.
      const char* raw = field.key().raw();
      const auto* end = static_cast<const char*>(
          std::memchr(raw, '"', static_cast<std::size_t>(data + len - raw)));
      std::string_view key(raw, end ? static_cast<std::size_t>(end - raw) : 0);
      if (!end || key.find('\\') != std::string_view::npos) {
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
          return reject(RejectReason::not_json, "not JSON (bad key)");
        }
      }
      const Field f = lookup_field(key);
      if (f == Field::unknown || refused) {
        // Forward compatible, but never a hole in the validation: the value is read through.
        if (!valid_json_value(field.value(), 1)) {
          return reject(RejectReason::not_json, "not JSON (in the value of \"{}\", or nested over {} levels)",
                        key.substr(0, 40), kMaxDepth);
        }
        continue;
      }
      if (auto r = read_value(f, field.value())) {
        if (*r == RejectReason::not_json) return tl::unexpected(*r);
        // Said once the whole message is known to be JSON (else it is not_json).
        refused = r;
        refused_error.swap(error);
      }
    }
    // Past the object's closing brace the iterator must be at the end: `{..}{..}` is not JSON.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      return reject(RejectReason::not_json, "not JSON (trailing content)");
    }
    if (refused) {
      error.swap(refused_error);
      return tl::unexpected(*refused);
    }

    return build();
  }

  tl::expected<const Event*, RejectReason> build() {
    event = Event{};
    if (!has(Field::type)) return reject(RejectReason::missing_field, "missing field \"type\"");
    if (!metrics::parse_event_type(s(Field::type), event.type)) {
      // Cut: the type string is untrusted and may be long.
      return reject(RejectReason::unknown_type, "unknown type \"{}\"", s(Field::type).substr(0, 40));
    }
    if (!has(Field::ts)) return reject(RejectReason::missing_field, "missing field \"ts\"");
    if (!(n(Field::ts) > 0)) return reject(RejectReason::bad_value, "\"ts\" must be > 0");
    event.ts = n(Field::ts);
    if (has(Field::inferred)) event.inferred = flag;

    std::optional<RejectReason> r;
    auto need = [&](Field f, std::string_view& out) {
      if (!r) r = required_name(f, out);
    };
    auto may = [&](Field f, std::string_view& out) {
      if (!r) r = optional_name(f, out);
    };
    auto amount = [&](Field f, double& out) {
      if (!r) r = optional_amount(f, out);
    };

    switch (event.type) {
      case EventType::call_enqueued:
        need(Field::call, event.call);
        need(Field::queue, event.queue);
        may(Field::caller, event.caller);
        if (!r && has(Field::priority)) {
          const double p = n(Field::priority);
          if (p != std::floor(p) || std::abs(p) > std::numeric_limits<int>::max()) {
            return reject(RejectReason::bad_value, "\"priority\" must be an integer");
          }
          event.priority = static_cast<int>(p);
        }
        break;
      case EventType::call_answered:
        need(Field::call, event.call);
        need(Field::queue, event.queue);
        need(Field::agent, event.agent);
        amount(Field::wait_seconds, event.wait);
        break;
      case EventType::call_ended:
        need(Field::call, event.call);
        need(Field::agent, event.agent);
        may(Field::queue, event.queue);
        amount(Field::talk_seconds, event.talk);
        amount(Field::hold_seconds, event.hold);
        amount(Field::wrap_seconds, event.wrap);
        if (!r && has(Field::by)) {
          const std::string_view by = s(Field::by);
          if (by == "caller") event.by = metrics::EndedBy::caller;
          else if (by == "agent") event.by = metrics::EndedBy::agent;
          else if (by == "transfer") event.by = metrics::EndedBy::transfer;
          else return reject(RejectReason::bad_value, "\"by\" must be caller or agent");
        }
        break;
      case EventType::call_abandoned:
        need(Field::call, event.call);
        need(Field::queue, event.queue);
        amount(Field::wait_seconds, event.wait);
        break;
      case EventType::call_exited:
        need(Field::call, event.call);
        need(Field::queue, event.queue);
        amount(Field::wait_seconds, event.wait);
        if (!r) {
          if (!has(Field::reason)) return reject(RejectReason::missing_field, "missing field \"reason\"");
          if (!metrics::parse_exit_reason(s(Field::reason), event.exit_reason)) {
            return reject(RejectReason::bad_value, "\"reason\" must be timeout, empty or key");
          }
        }
        break;
      case EventType::call_transferred:
        need(Field::call, event.call);
        may(Field::agent, event.agent);
        may(Field::queue, event.queue);
        may(Field::to_queue, event.to_queue);
        may(Field::to, event.to);
        amount(Field::wait_seconds, event.wait);
        amount(Field::talk_seconds, event.talk);
        if (!r && event.agent.empty() && event.queue.empty()) {
          return reject(RejectReason::missing_field, "missing field \"agent\" or \"queue\"");
        }
        if (!r && event.to_queue.empty() && event.to.empty()) {
          return reject(RejectReason::missing_field, "missing field \"to_queue\" or \"to\"");
        }
        break;
      case EventType::agent_ring_noanswer:
        need(Field::call, event.call);
        need(Field::queue, event.queue);
        need(Field::agent, event.agent);
        amount(Field::ring_ms, event.ring_ms);
        break;
      case EventType::agent_state:
        need(Field::agent, event.agent);
        if (!r) {
          if (!has(Field::state)) return reject(RejectReason::missing_field, "missing field \"state\"");
          if (!metrics::parse_agent_state(s(Field::state), event.state)) {
            return reject(RejectReason::bad_value, "\"state\" is not an agent state");
          }
        }
        may(Field::reason, event.reason);
        // Optional: the call a ringing agent is rung for (boards list who is rung per caller).
        if (event.state == metrics::AgentState::ringing) may(Field::call, event.call);
        if (!r && has(Field::queues)) {
          for (std::string_view q : queues) {
            if (q.empty()) return reject(RejectReason::bad_value, "\"queues\" holds an empty name");
            if (q.size() > max_name) {
              return reject(RejectReason::name_too_long, "a queue in \"queues\" is {} bytes, the limit is {}",
                            q.size(), max_name);
            }
          }
          event.queues = queues;
        }
        break;
      case EventType::feed_restart:
        return reject(RejectReason::unknown_type, "unknown type \"feed_restart\"");
    }
    if (r) return tl::unexpected(*r);
    return &event;
  }
};

NativeParser::NativeParser(std::size_t max_message_bytes, std::size_t max_name_bytes)
    : impl_(std::make_unique<Impl>(max_message_bytes, max_name_bytes)) {}
NativeParser::~NativeParser() = default;

tl::expected<const metrics::Event*, RejectReason> NativeParser::parse(std::string_view json) {
  return impl_->parse(json);
}
tl::expected<const metrics::Event*, RejectReason> NativeParser::parse_in_place(std::string_view json,
                                                                               std::size_t readable) {
  return impl_->parse_in_place(json, readable);
}
std::string_view NativeParser::last_error() const { return impl_->error; }
std::size_t NativeParser::max_message_bytes() const { return impl_->max_message; }

// ---------------------------------------------------------------------------------------------
// Writing

void append_json_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {

void append_number(double v, std::string& out) {
  // Shortest text that reads back to the same double: timestamps keep their microseconds.
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc{}) {
    out.append("0");
    return;
  }
  out.append(buf.data(), end);
}

void append_string_field(std::string_view key, std::string_view value, std::string& out) {
  out.append(",\"").append(key).append("\":");
  append_json_string(value, out);
}
void append_number_field(std::string_view key, double value, std::string& out) {
  out.append(",\"").append(key).append("\":");
  append_number(value, out);
}

}  // namespace

void append_native_json(const metrics::Event& e, std::string& out) {
  out.append("{\"type\":\"").append(metrics::to_string(e.type)).append("\",\"ts\":");
  append_number(e.ts, out);
  auto str = [&](std::string_view key, std::string_view v) {
    if (!v.empty()) append_string_field(key, v, out);
  };
  auto amount = [&](std::string_view key, double v) {
    if (metrics::has_value(v)) append_number_field(key, v, out);
  };
  str("call", e.call);
  str("queue", e.queue);
  str("agent", e.agent);
  switch (e.type) {
    case EventType::call_enqueued:
      str("caller", e.caller);
      if (e.priority != 0) append_number_field("priority", e.priority, out);
      break;
    case EventType::call_ended:
      amount("talk_seconds", e.talk);
      amount("hold_seconds", e.hold);
      amount("wrap_seconds", e.wrap);
      if (e.by == metrics::EndedBy::caller) str("by", "caller");
      else if (e.by == metrics::EndedBy::agent) str("by", "agent");
      else if (e.by == metrics::EndedBy::transfer) str("by", "transfer");
      break;
    case EventType::call_exited:
      str("reason", metrics::to_string(e.exit_reason));
      break;
    case EventType::call_transferred:
      str("to_queue", e.to_queue);
      str("to", e.to);
      amount("talk_seconds", e.talk);
      break;
    case EventType::agent_ring_noanswer:
      amount("ring_ms", e.ring_ms);
      break;
    case EventType::agent_state:
      str("state", metrics::to_string(e.state));
      // An empty pause reason is meaningful (METRICS.md: reason or ""), so it is written.
      if (e.state == metrics::AgentState::paused || !e.reason.empty()) {
        append_string_field("reason", e.reason, out);
      }
      if (!e.queues.empty()) {
        out.append(",\"queues\":[");
        for (std::size_t i = 0; i < e.queues.size(); ++i) {
          if (i) out.push_back(',');
          append_json_string(e.queues[i], out);
        }
        out.push_back(']');
      }
      break;
    default:
      break;
  }
  amount("wait_seconds", e.wait);
  if (e.inferred) out.append(",\"inferred\":true");
  out.push_back('}');
}

}  // namespace callwatch::daemon
