// Reading one TOML table with every problem collected instead of stopping at the first: each
// getter checks the value's type and remembers the key, so finish() can name the keys nobody
// asked for (typos) with the nearest known spelling.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "callwatch/config/config.hpp"

namespace callwatch::config {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void error(const toml::source_position& at, std::string message);
  void error(const toml::node& at, std::string message) {
    error(at.source().begin, std::move(message));
  }
  bool empty() const { return errors_.empty(); }
  // Sorted by line and column, so a long list reads top to bottom like the file.
  std::vector<ConfigError> take_sorted();
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// A value and the node it came from, so a range check can point at the value.
template <class T>
struct Field {
  T value;
  const toml::node* node;
};

std::string_view type_name(const toml::node& n);
// A value as it would be written in the file, for messages: 1.5, "abc", true.
std::string show(const toml::node& n);

class TableReader {
 public:
  // `where` prefixes messages: "[general]", "[[queue]] \"sales\"".
  TableReader(const toml::table& table, std::string where, Diagnostics& diag)
      : table_(table), where_(std::move(where)), diag_(diag) {}

  const toml::node* get(std::string_view key);  // marks the key as known; no type check
  std::optional<Field<std::string>> string(std::string_view key);
  std::optional<Field<double>> number(std::string_view key);  // integer or float, finite
  std::optional<Field<std::int64_t>> integer(std::string_view key);
  std::optional<Field<bool>> boolean(std::string_view key);
  // Each element must be a string; a bad element is reported and skipped.
  std::optional<Field<std::vector<std::string>>> string_array(std::string_view key);

  // Marks a key known without reading it (a key handled elsewhere).
  void know(std::string_view key) { known_.emplace_back(key); }
  // Reports every key of the table that no getter asked for, with the nearest known key.
  void finish();

  void error(const toml::node& at, std::string_view message);
  // Error about the table itself (a required key is missing): points at its header.
  void error_here(std::string_view message);
  void set_where(std::string where) { where_ = std::move(where); }
  const std::string& where() const { return where_; }
  const toml::table& table() const { return table_; }
  Diagnostics& diag() { return diag_; }
  const std::vector<std::string>& known() const { return known_; }

 private:
  void wrong_type(const toml::node& n, std::string_view key, std::string_view expected);

  const toml::table& table_;
  std::string where_;
  Diagnostics& diag_;
  std::vector<std::string> known_;
};

}  // namespace callwatch::config
