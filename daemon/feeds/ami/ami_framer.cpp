#include "feeds/ami/ami_framer.hpp"

#include "feeds/feed_common.hpp"

namespace callwatch::daemon {

namespace {
constexpr std::string_view kBanner = "Asterisk Call Manager/";
constexpr std::string_view kEndCommand = "--END COMMAND--";

bool blank(std::string_view l) { return trim(l).empty(); }
}  // namespace

std::string_view AmiMessage::get(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

bool AmiMessage::has(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

AmiFramer::AmiFramer() : AmiFramer(Options{}) {}
AmiFramer::AmiFramer(Options opts) : opts_(opts) {}

void AmiFramer::reset() {
  pending_.clear();
  discarding_line_ = false;
  block_.clear();
  spans_.clear();
  raw_.clear();
  malformed_ = 0;
  in_block_ = follows_ = raw_mode_ = too_large_ = false;
}

void AmiFramer::feed(std::string_view bytes, const Callback& cb) {
  while (!bytes.empty()) {
    const auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (!discarding_line_) {
        pending_.append(bytes);
        if (pending_.size() > opts_.max_line_bytes) {
          // Never buffer an endless line: drop it and the message it belongs to.
          pending_.clear();
          discarding_line_ = true;
          too_large_ = in_block_ = true;
        }
      }
      return;
    }
    std::string_view piece = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (discarding_line_) {
      discarding_line_ = false;
      continue;
    }
    if (!pending_.empty()) {
      pending_.append(piece);
      if (pending_.size() > opts_.max_line_bytes) {
        pending_.clear();
        too_large_ = in_block_ = true;
        continue;
      }
      std::string l = std::move(pending_);
      pending_.clear();
      std::string_view lv = l;
      if (!lv.empty() && lv.back() == '\r') lv.remove_suffix(1);
      line(lv, cb);
    } else {
      if (piece.size() > opts_.max_line_bytes) {
        too_large_ = in_block_ = true;
        continue;
      }
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      line(piece, cb);
    }
  }
}

void AmiFramer::finish(const Callback& cb) {
  if (!pending_.empty() && !discarding_line_) {
    std::string l = std::move(pending_);
    pending_.clear();
    std::string_view lv = l;
    if (!lv.empty() && lv.back() == '\r') lv.remove_suffix(1);
    line(lv, cb);
  }
  pending_.clear();
  discarding_line_ = false;
  if (in_block_) end_block(cb);
}

void AmiFramer::line(std::string_view l, const Callback& cb) {
  if (raw_mode_) {
    // Raw CLI output: blank lines and colons are output too, until the end marker. Asterisk 1.4
    // glues the marker to the last output line when that line has no newline.
    if (l.size() >= kEndCommand.size() && l.substr(l.size() - kEndCommand.size()) == kEndCommand) {
      l.remove_suffix(kEndCommand.size());
      if (!l.empty() && !too_large_) {
        raw_.emplace_back(block_.size(), l.size());
        block_.append(l);
      }
      raw_mode_ = false;
      end_block(cb);
      return;
    }
    if (block_.size() + l.size() > opts_.max_message_bytes) too_large_ = true;
    if (too_large_) return;
    raw_.emplace_back(block_.size(), l.size());
    block_.append(l);
    return;
  }
  if (l.rfind("####", 0) == 0) {
    ++annotations_;
    return;
  }
  if (blank(l)) {
    if (in_block_) end_block(cb);
    return;
  }
  if (!in_block_ && l.rfind(kBanner, 0) == 0) {
    msg_.kind = AmiKind::banner;
    msg_.headers.clear();
    msg_.output.clear();
    msg_.malformed_lines = 0;
    msg_.version = trim(l.substr(kBanner.size()));
    cb(msg_);
    return;
  }
  if (in_block_ && l.rfind(kBanner, 0) == 0 && !follows_) {
    // A banner can only start a connection: the block before it was cut by a disconnect. Its
    // missing headers could change its meaning, so it is dropped, not delivered.
    ++cut_blocks_;
    block_.clear();
    spans_.clear();
    raw_.clear();
    malformed_ = 0;
    in_block_ = follows_ = raw_mode_ = too_large_ = false;
    line(l, cb);
    return;
  }
  in_block_ = true;
  if (too_large_) return;
  if (spans_.size() >= opts_.max_headers || block_.size() + l.size() > opts_.max_message_bytes) {
    too_large_ = true;
    return;
  }
  if (follows_) {
    // After `Response: Follows` only Privilege/ActionID/Message headers may precede the output.
    const auto colon = l.find(": ");
    const std::string_view name = colon == std::string_view::npos ? l : l.substr(0, colon);
    if (!(iequals(name, "Privilege") || iequals(name, "ActionID") || iequals(name, "Message")) ||
        colon == std::string_view::npos) {
      raw_mode_ = true;
      this->line(l, cb);
      return;
    }
  }
  add_header_line(l);
  if (spans_.size() == 1) {
    const Span& s = spans_[0];
    const std::string_view name(block_.data() + s.name_at, s.name_len);
    const std::string_view value(block_.data() + s.value_at, s.value_len);
    follows_ = iequals(name, "Response") && iequals(value, "Follows");
  }
}

void AmiFramer::add_header_line(std::string_view l) {
  std::size_t colon = l.find(": ");
  std::size_t value_from = 0;
  if (colon != std::string_view::npos) {
    value_from = colon + 2;
  } else {
    // `AccountCode:` (empty value, no space) is common in Asterisk 11 captures.
    colon = l.find(':');
    if (colon == std::string_view::npos) {
      ++malformed_;
      return;
    }
    value_from = colon + 1;
  }
  const std::string_view name = trim(l.substr(0, colon));
  const std::string_view value = trim(l.substr(value_from));
  if (name.empty()) {
    ++malformed_;
    return;
  }
  Span s{};
  s.name_at = block_.size();
  s.name_len = name.size();
  block_.append(name);
  s.value_at = block_.size();
  s.value_len = value.size();
  block_.append(value);
  spans_.push_back(s);
}

void AmiFramer::end_block(const Callback& cb) {
  const bool drop = too_large_;
  if (drop) ++dropped_too_large_;
  if (!drop && (!spans_.empty() || !raw_.empty())) {
    msg_.headers.clear();
    msg_.output.clear();
    msg_.version = {};
    msg_.malformed_lines = malformed_;
    for (const Span& s : spans_) {
      msg_.headers.push_back({std::string_view(block_.data() + s.name_at, s.name_len),
                              std::string_view(block_.data() + s.value_at, s.value_len)});
    }
    for (const auto& [at, len] : raw_) msg_.output.emplace_back(block_.data() + at, len);
    msg_.kind = AmiKind::other;
    if (!msg_.headers.empty()) {
      const auto& first = msg_.headers[0].name;
      if (iequals(first, "Event"))
        msg_.kind = AmiKind::event;
      else if (iequals(first, "Response"))
        msg_.kind = AmiKind::response;
      else if (iequals(first, "Action"))
        msg_.kind = AmiKind::action;
    }
    cb(msg_);
  }
  block_.clear();
  spans_.clear();
  raw_.clear();
  malformed_ = 0;
  in_block_ = follows_ = raw_mode_ = too_large_ = false;
}

}  // namespace callwatch::daemon
