// A small, exact text codec for engine state: numbers with full precision, strings
// length-prefixed (any bytes, including separators and CJK), so restore(serialize()) round-trips.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace callwatch::metrics::internal {

class StateWriter {
 public:
  void num(double v) {
    char buf[40];
    if (std::isnan(v)) {
      out_ += "nan ";
      return;
    }
    const int n = std::snprintf(buf, sizeof buf, "%.17g ", v);
    out_.append(buf, static_cast<std::size_t>(n));
  }
  void i(std::int64_t v) {
    out_ += std::to_string(v);
    out_ += ' ';
  }
  void b(bool v) { out_ += v ? "1 " : "0 "; }
  void str(std::string_view s) {
    out_ += std::to_string(s.size());
    out_ += ':';
    out_.append(s);
    out_ += ' ';
  }
  void tag(std::string_view t) {
    out_.append(t);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }

  double num() {
    const std::string_view t = token();
    if (t == "nan") return std::nan("");
    std::string tmp(t);
    char* end = nullptr;
    const double v = std::strtod(tmp.c_str(), &end);
    if (tmp.empty() || end != tmp.c_str() + tmp.size()) ok_ = false;
    return v;
  }
  std::int64_t i() {
    const std::string_view t = token();
    std::string tmp(t);
    char* end = nullptr;
    const long long v = std::strtoll(tmp.c_str(), &end, 10);
    if (tmp.empty() || end != tmp.c_str() + tmp.size()) ok_ = false;
    return v;
  }
  bool b() { return i() != 0; }
  std::string str() {
    skip_space();
    const std::size_t colon = in_.find(':', pos_);
    if (colon == std::string_view::npos) {
      ok_ = false;
      return {};
    }
    std::string len_text(in_.substr(pos_, colon - pos_));
    char* end = nullptr;
    const unsigned long long len = std::strtoull(len_text.c_str(), &end, 10);
    if (len_text.empty() || end != len_text.c_str() + len_text.size() ||
        colon + 1 + len > in_.size()) {
      ok_ = false;
      pos_ = in_.size();
      return {};
    }
    std::string s(in_.substr(colon + 1, len));
    pos_ = colon + 1 + len;
    return s;
  }
  void expect(std::string_view tag) {
    if (token() != tag) ok_ = false;
  }
  // A count that bounds a loop: reject absurd values from a corrupt file.
  std::size_t count(std::size_t max = 50'000'000) {
    const std::int64_t n = i();
    if (n < 0 || static_cast<std::uint64_t>(n) > max) {
      ok_ = false;
      return 0;
    }
    return static_cast<std::size_t>(n);
  }

 private:
  void skip_space() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n')) ++pos_;
  }
  std::string_view token() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] != ' ' && in_[pos_] != '\n') ++pos_;
    if (start == pos_) ok_ = false;
    return in_.substr(start, pos_ - start);
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace callwatch::metrics::internal
