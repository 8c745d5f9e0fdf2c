#include "feeds/queue_log/queue_log_parser.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace callwatch::daemon {

namespace m = callwatch::metrics;

namespace {

// Asterisk's own queue_log buffer is a few kB; anything far beyond is not a queue_log line.
constexpr std::size_t kMaxLineBytes = 8192;
constexpr int kUnlimited = -1;

// Most data fields any Asterisk version (1.4 .. 22) writes for the verb (FEED-SPEC 2.3). Verbs
// written by dialplans (2.4) carry whatever the dialplan wrote: unlimited.
struct VerbInfo {
  std::string_view name;
  int max_data;
};
constexpr VerbInfo kVerbs[] = {
    {"QUEUESTART", 0},       {"CONFIGRELOAD", 0},     {"ENTERQUEUE", 4},
    {"RINGNOANSWER", 1},     {"RINGCANCELED", 1},     {"CONNECT", 3},
    {"COMPLETECALLER", 3},   {"COMPLETEAGENT", 3},    {"TRANSFER", 5},
    {"BLINDTRANSFER", 5},    {"ATTENDEDTRANSFER", 6}, {"ABANDON", 3},
    {"EXITWITHTIMEOUT", 3},  {"EXITEMPTY", 3},        {"EXITWITHKEY", 4},
    {"WITHDRAW", 4},         {"AGENTDUMP", 0},        {"SYSCOMPAT", 0},
    {"ADDMEMBER", 1},        {"REMOVEMEMBER", 0},     {"PAUSE", 1},
    {"UNPAUSE", 1},          {"PAUSEALL", 1},         {"UNPAUSEALL", 1},
    {"PENALTY", 1},          {"RINGINUSE", 1},        {"AGENTLOGIN", 1},
    {"AGENTLOGOFF", 2},      {"AGENTCALLBACKLOGIN", 1}, {"AGENTCALLBACKLOGOFF", 3},
    {"OUTCALL", 3},
    // Dialplan / distribution verbs (FEED-SPEC 2.4).
    {"DID", kUnlimited},     {"INFO", kUnlimited},
    {"FULL", kUnlimited},    {"JOINEMPTY", kUnlimited}, {"CLOSED", kUnlimited},
    {"DIVERT_CA_RATIO", kUnlimited}, {"DIVERT_HOLDTIME", kUnlimited},
    {"OUTDIAL", kUnlimited}, {"OUTANSWER", kUnlimited}, {"OUTCANCEL", kUnlimited},
    {"OUTCHANUNAVAIL", kUnlimited}, {"OUTCONGESTION", kUnlimited}, {"OUTTRANSFER", kUnlimited},
};

const VerbInfo* find_verb(std::string_view v) {
  for (const auto& info : kVerbs) {
    if (info.name == v) return &info;
  }
  return nullptr;
}

bool is_refused_on_join(std::string_view v) {
  return v == "FULL" || v == "JOINEMPTY" || v == "CLOSED" || v == "DIVERT_CA_RATIO" ||
         v == "DIVERT_HOLDTIME";
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid (overlongs, surrogates
// and code points above U+10FFFF are invalid too).
std::size_t utf8_seq_len(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 == 0xE0) { n = 3; lo = 0xA0; }
  else if (b0 >= 0xE1 && b0 <= 0xEC) n = 3;
  else if (b0 == 0xED) { n = 3; hi = 0x9F; }
  else if (b0 >= 0xEE && b0 <= 0xEF) n = 3;
  else if (b0 == 0xF0) { n = 4; lo = 0x90; }
  else if (b0 >= 0xF1 && b0 <= 0xF3) n = 4;
  else if (b0 == 0xF4) { n = 4; hi = 0x8F; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned l = (k == 1) ? lo : 0x80, h = (k == 1) ? hi : 0xBF;
    if (b < l || b > h) return 0;
  }
  return n;
}

// Names reach JSON, Prometheus labels and the wallboard: invalid bytes become U+FFFD.
void assign_utf8(std::string& out, std::string_view in) {
  out.clear();
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t n = utf8_seq_len(in, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
  }
}

}  // namespace

bool parse_queue_log_number(std::string_view s, double& out) {
  if (s.empty()) return false;
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return false;
  if (i < s.size()) {
    if (s[i] != '.' || i + 1 == s.size()) return false;
    for (std::size_t k = i + 1; k < s.size(); ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
    }
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

QueueLogParser::QueueLogParser() : QueueLogParser(Options{}) {}

QueueLogParser::QueueLogParser(Options opts, WarningSink sink)
    : opts_(opts), sink_(std::move(sink)), seen_(opts_.duplicates), times_(opts_.times) {
  events_.reserve(8);
  line_events_.reserve(4);
  fields_.reserve(16);
}

void QueueLogParser::reject(std::string_view reason, std::string detail) {
  out_.status = QueueLogLineStatus::rejected;
  out_.reject_reason = reason;
  out_.reject_detail = std::move(detail);
  out_.events = {};
}

void QueueLogParser::warn(std::uint64_t line, std::string_view kind, std::string message) {
  if (sink_) sink_(QueueLogWarning{line, kind, std::move(message)});
}

void QueueLogParser::warn_once(std::uint64_t line, std::string_view kind, std::string_view verb,
                               std::string message) {
  if (warned_verbs_.insert(std::string(verb)).second) warn(line, kind, std::move(message));
}

// Moves the PAUSEALL/UNPAUSEALL lines whose 1 s window is over (or all) into events_; those that
// per-queue lines covered are dropped. released_ is filled completely before any event views it.
void QueueLogParser::release_pending(double now, bool all) {
  released_.clear();
  auto keep = pending_.begin();
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (all || it->ts + 1.0 < now) {
      if (!it->covered) released_.push_back(std::move(*it));
    } else {
      if (keep != it) *keep = std::move(*it);
      ++keep;
    }
  }
  pending_.erase(keep, pending_.end());
  for (const Pending& p : released_) {
    m::Event e;
    e.type = m::EventType::agent_state;
    e.ts = p.ts;
    e.agent = p.agent;
    e.state = p.pause ? m::AgentState::paused : m::AgentState::available;
    e.reason = p.pause ? std::string_view(p.reason) : std::string_view();
    // queues stays empty: every queue of the agent.
    events_.push_back(e);
  }
}

std::span<const metrics::Event> QueueLogParser::flush() {
  events_.clear();
  release_pending(0, true);
  return events_;
}

const QueueLogLine& QueueLogParser::parse(std::string_view raw, std::uint64_t line_no) {
  out_ = QueueLogLine{};
  out_.line = line_no;
  events_.clear();
  line_events_.clear();

  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
  if (is_blank(raw)) return out_;  // status blank

  if (raw.size() > kMaxLineBytes) {
    reject("line_too_long", fmt::format("line of {} bytes (limit {})", raw.size(), kMaxLineBytes));
    return out_;
  }
  assign_utf8(text_, raw);

  fields_.clear();
  std::string_view rest = text_;
  for (;;) {
    const auto bar = rest.find('|');
    fields_.push_back(rest.substr(0, bar));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  if (fields_.size() < 5) {
    reject("too_few_fields", fmt::format("{} fields, a queue_log line has at least 5 "
                                         "(epoch|callid|queue|agent|verb)", fields_.size()));
    return out_;
  }
  double ts = 0;
  if (!parse_queue_log_number(fields_[0], ts)) {
    reject("bad_epoch", fmt::format("epoch '{}' is not a number", fields_[0]));
    return out_;
  }
  const double now = opts_.live_clock ? opts_.live_clock->now() : m::kNoValue;
  if (std::string why = times_.check(ts, now, "epoch"); !why.empty()) {
    reject("bad_epoch", std::move(why));
    return out_;
  }
  out_.ts = ts;
  for (int k = 1; k <= 3; ++k) {
    if (fields_[k].size() > opts_.max_name_bytes) {
      reject("name_too_long", fmt::format("{} of {} bytes (limit {})",
                                          k == 1 ? "callid" : k == 2 ? "queue" : "agent",
                                          fields_[k].size(), opts_.max_name_bytes));
      return out_;
    }
  }
  const std::string_view verb = fields_[4];
  std::span<const std::string_view> data(fields_.data() + 5, fields_.size() - 5);
  // Exports padded to data1..data5 leave empty trailing fields: they are not data.
  while (!data.empty() && data.back().empty()) data = data.first(data.size() - 1);

  const VerbInfo* info = find_verb(verb);
  if (info != nullptr && info->max_data != kUnlimited &&
      data.size() > static_cast<std::size_t>(info->max_data)) {
    reject("too_many_fields", fmt::format("{} with {} data fields; Asterisk writes at most {}",
                                          verb, data.size(), info->max_data));
    return out_;
  }

  // Checked before mapping so a dropped copy neither warns nor counts twice.
  const std::uint64_t print = fingerprint(raw);
  if (seen_.contains(print, ts)) {
    out_.status = QueueLogLineStatus::duplicate;
    warn(line_no, "duplicate", "duplicate of an earlier line, dropped");
    return out_;
  }
  if (!map_verb(verb, info != nullptr, data, line_no)) return out_;  // rejected
  // A stated wait or talk time reaching back out of the window (the epoch itself passed above).
  for (const m::Event& e : line_events_) {
    if (std::string why = times_.check(e, now); !why.empty()) {
      reject("bad_number", std::move(why));
      return out_;
    }
  }
  seen_.insert(print, ts);

  out_.status = QueueLogLineStatus::accepted;
  out_.verb = verb;
  out_.queue = fields_[2] == "NONE" ? std::string_view() : fields_[2];

  // A per-queue PAUSE/UNPAUSE covers a PAUSEALL/UNPAUSEALL of the same direction held back
  // within the last second: for the same agent, or for any agent when the PAUSEALL names an
  // interface (Asterisk 11 writes the interface there and the member name on PAUSE, P7).
  if (verb == "PAUSE" || verb == "UNPAUSE") {
    const bool pause = verb == "PAUSE";
    const std::string_view agent = fields_[3];
    for (Pending& p : pending_) {
      if (p.pause == pause && ts >= p.ts && ts <= p.ts + 1.0 &&
          (p.agent == agent || p.agent.find('/') != std::string::npos)) {
        p.covered = true;
      }
    }
  }
  // A PAUSEALL/UNPAUSEALL held back is decided before a restart: it happened before it.
  release_pending(ts, verb == "QUEUESTART");
  if (verb == "PAUSEALL" || verb == "UNPAUSEALL") {
    if (fields_[3].empty() || fields_[3] == "NONE") {
      warn(line_no, "agent_missing", fmt::format("{} without an agent, ignored", verb));
    } else {
      pending_.push_back(Pending{std::string(fields_[3]),
                                 data.empty() ? std::string() : std::string(data[0]), ts,
                                 verb == "PAUSEALL", false});
    }
  }
  events_.insert(events_.end(), line_events_.begin(), line_events_.end());
  out_.events = events_;
  return out_;
}

// Fills line_events_ for one valid line; false when a number the event needs is malformed (then
// out_ says rejected).
bool QueueLogParser::map_verb(std::string_view verb, bool known,
                              std::span<const std::string_view> data, std::uint64_t line_no) {
  const double ts = out_.ts;
  const std::string_view call = fields_[1];
  const std::string_view queue = fields_[2] == "NONE" ? std::string_view() : fields_[2];
  const std::string_view agent_col = fields_[3];
  const std::string_view agent = agent_col == "NONE" ? std::string_view() : agent_col;
  auto field = [&](std::size_t i) { return i < data.size() ? data[i] : std::string_view(); };

  // A stated duration: absent (old version, empty) = not stated, the engine uses timestamps;
  // present but not a number = the line is rejected, never read as 0.
  bool bad = false;
  auto opt_number = [&](std::size_t i, std::string_view what) {
    const std::string_view s = field(i);
    double v = m::kNoValue;
    if (s.empty() || bad) return m::kNoValue;
    if (!parse_queue_log_number(s, v)) {
      reject("bad_number", fmt::format("{} {} '{}' is not a number", verb, what, s));
      bad = true;
      return m::kNoValue;
    }
    return v;
  };
  auto base = [&](m::EventType t) {
    m::Event e;
    e.type = t;
    e.ts = ts;
    e.call = call;
    e.queue = queue;
    return e;
  };
  auto agent_state = [&](m::AgentState st, std::string_view reason, bool per_queue) {
    if (agent.empty()) {
      warn(line_no, "agent_missing", fmt::format("{} without an agent, ignored", verb));
      return;
    }
    m::Event e = base(m::EventType::agent_state);
    e.call = {};
    e.agent = agent;
    e.state = st;
    e.reason = reason;
    if (per_queue && !queue.empty()) {
      queue_slot_[0] = queue;
      e.queues = queue_slot_;
    }
    line_events_.push_back(e);
  };

  if (!known) {
    warn_once(line_no, "unknown_verb", verb,
              fmt::format("unknown queue_log verb '{}': lines kept out of every figure", verb));
    return true;
  }

  if (verb == "ENTERQUEUE") {
    m::Event e = base(m::EventType::call_enqueued);
    e.caller = field(1);  // url|callerid[|origpos[|calleridname]]
    if (e.caller.empty()) e.caller = field(3);  // number withheld: the name, when logged
    line_events_.push_back(e);
  } else if (verb == "CONNECT") {
    m::Event e = base(m::EventType::call_answered);
    e.agent = agent;
    e.wait = opt_number(0, "holdtime");
    if (bad) return false;
    line_events_.push_back(e);
  } else if (verb == "COMPLETECALLER" || verb == "COMPLETEAGENT") {
    m::Event e = base(m::EventType::call_ended);
    e.agent = agent;
    e.wait = opt_number(0, "holdtime");
    e.talk = opt_number(1, "calltime");
    if (bad) return false;
    e.by = verb == "COMPLETECALLER" ? m::EndedBy::caller : m::EndedBy::agent;
    line_events_.push_back(e);
  } else if (verb == "TRANSFER" || verb == "BLINDTRANSFER" || verb == "ATTENDEDTRANSFER") {
    m::Event ended = base(m::EventType::call_ended);
    ended.agent = agent;
    ended.by = m::EndedBy::transfer;
    m::Event xfer = base(m::EventType::call_transferred);
    xfer.agent = agent;
    if (verb == "ATTENDEDTRANSFER") {
      // method|method-data...|holdtime|calltime|origpos: LINK has two method-data fields, so
      // the numbers are taken from the right.
      const std::size_t n = data.size();
      if (n < 4) {
        reject("missing_field", fmt::format("ATTENDEDTRANSFER with {} data fields; needs "
                                            "method|data|holdtime|calltime|origpos", n));
        return false;
      }
      ended.wait = opt_number(n - 3, "holdtime");
      ended.talk = opt_number(n - 2, "calltime");
      if (bad) return false;
      if (n > 4) {
        const char* b = data[1].data();
        const char* end = data[n - 4].data() + data[n - 4].size();
        xfer.to = std::string_view(b, static_cast<std::size_t>(end - b));
      } else {
        xfer.to = data[0];
      }
    } else {
      // extension|context|holdtime|calltime[|origpos]
      ended.wait = opt_number(2, "holdtime");
      ended.talk = opt_number(3, "calltime");
      if (bad) return false;
      to_storage_.assign(field(0));
      if (!field(1).empty()) {
        to_storage_ += '@';
        to_storage_ += field(1);
      }
      xfer.to = to_storage_;
    }
    line_events_.push_back(ended);
    line_events_.push_back(xfer);
  } else if (verb == "ABANDON" || verb == "SYSCOMPAT") {
    m::Event e = base(m::EventType::call_abandoned);
    // pos|origpos|waittime, by position: padded exports make "the last field" wrong.
    e.wait = verb == "ABANDON" ? opt_number(2, "waittime") : m::kNoValue;
    if (bad) return false;
    if (verb == "SYSCOMPAT") {
      warn(line_no, "syscompat",
           fmt::format("SYSCOMPAT (media incompatible) for call {} in {}: counted as abandoned",
                       call, queue));
    }
    line_events_.push_back(e);
  } else if (verb == "EXITWITHTIMEOUT" || verb == "EXITEMPTY" || verb == "EXITWITHKEY" ||
             verb == "WITHDRAW") {
    m::Event e = base(m::EventType::call_exited);
    if (verb == "EXITWITHKEY") {
      e.exit_reason = m::ExitReason::key;
      e.wait = opt_number(3, "waittime");  // key|pos|origpos|waittime
    } else {
      e.exit_reason = verb == "EXITWITHTIMEOUT" ? m::ExitReason::timeout : m::ExitReason::empty;
      e.wait = opt_number(2, "waittime");  // pos|origpos|waittime[|info]
    }
    if (bad) return false;
    if (verb == "WITHDRAW") {
      warn(line_no, "withdraw",
           fmt::format("WITHDRAW (caller withdrawn by AMI) for call {} in {}: counted as "
                       "exited_empty", call, queue));
    }
    line_events_.push_back(e);
  } else if (verb == "RINGNOANSWER") {
    // Ring time is milliseconds (P1) and has no timestamp fallback: it must be there.
    const std::string_view s = field(0);
    double ms = 0;
    if (s.empty()) {
      reject("missing_number", "RINGNOANSWER without its ring time");
      return false;
    }
    if (!parse_queue_log_number(s, ms)) {
      reject("bad_number", fmt::format("RINGNOANSWER ringtime '{}' is not a number", s));
      return false;
    }
    if (agent.empty()) {
      warn(line_no, "agent_missing", "RINGNOANSWER without an agent, ignored");
      return true;
    }
    m::Event e = base(m::EventType::agent_ring_noanswer);
    e.agent = agent;
    e.ring_ms = ms;  // 0: the device refused at once; the engine counts it apart
    line_events_.push_back(e);
  } else if (verb == "QUEUESTART") {
    m::Event e = base(m::EventType::feed_restart);
    e.call = {};
    line_events_.push_back(e);
  } else if (verb == "PAUSE") {
    agent_state(m::AgentState::paused, field(0), true);
  } else if (verb == "UNPAUSE") {
    agent_state(m::AgentState::available, {}, true);
  } else if (verb == "ADDMEMBER") {
    const bool paused = field(0) == "PAUSED";
    agent_state(paused ? m::AgentState::paused : m::AgentState::available, {}, true);
  } else if (verb == "REMOVEMEMBER") {
    agent_state(m::AgentState::logged_out, {}, true);
  } else if (verb == "AGENTLOGIN" || verb == "AGENTCALLBACKLOGIN") {
    agent_state(m::AgentState::available, {}, false);
  } else if (verb == "AGENTLOGOFF" || verb == "AGENTCALLBACKLOGOFF") {
    agent_state(m::AgentState::logged_out, {}, false);
  } else if (is_refused_on_join(verb)) {
    ++refused_on_join_[std::string(verb)];
    warn_once(line_no, "refused_on_join", verb,
              fmt::format("{}: callers refused before entering the queue are not offered "
                          "(counted apart)", verb));
  }
  // PAUSEALL/UNPAUSEALL are handled by the caller (held back); every other known verb
  // (DID, INFO, AGENTDUMP, RINGCANCELED, CONFIGRELOAD, PENALTY, RINGINUSE, OUTCALL, OUT*) is
  // accepted and changes no figure.
  return true;
}

}  // namespace callwatch::daemon
