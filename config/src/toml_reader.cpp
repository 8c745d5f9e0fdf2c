#include "toml_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "suggest.hpp"

namespace callwatch::config {

void Diagnostics::error(const toml::source_position& at, std::string message) {
  errors_.push_back(ConfigError{file_, static_cast<int>(at.line), static_cast<int>(at.column),
                                std::move(message)});
}

std::vector<ConfigError> Diagnostics::take_sorted() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return std::move(errors_);
}

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string show(const toml::node& n) {
  if (auto s = n.as_string()) return fmt::format("\"{}\"", s->get());
  if (auto i = n.as_integer()) return fmt::format("{}", i->get());
  if (auto f = n.as_floating_point()) return fmt::format("{}", f->get());
  if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
  return std::string(type_name(n));
}

const toml::node* TableReader::get(std::string_view key) {
  known_.emplace_back(key);
  return table_.get(key);
}

void TableReader::error(const toml::node& at, std::string_view message) {
  diag_.error(at, fmt::format("{}: {}", where_, message));
}

void TableReader::error_here(std::string_view message) {
  diag_.error(table_.source().begin, fmt::format("{}: {}", where_, message));
}

void TableReader::wrong_type(const toml::node& n, std::string_view key, std::string_view expected) {
  error(n, fmt::format("{} must be {}, not {}", key, expected, type_name(n)));
}

std::optional<Field<std::string>> TableReader::string(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  if (auto s = n->as_string()) return Field<std::string>{s->get(), n};
  wrong_type(*n, key, "a string");
  return std::nullopt;
}

std::optional<Field<double>> TableReader::number(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  double v = 0;
  if (auto i = n->as_integer()) {
    v = static_cast<double>(i->get());
  } else if (auto f = n->as_floating_point()) {
    v = f->get();
  } else {
    wrong_type(*n, key, "a number");
    return std::nullopt;
  }
  if (!std::isfinite(v)) {
    error(*n, fmt::format("{} must be a finite number, not {}", key, v));
    return std::nullopt;
  }
  return Field<double>{v, n};
}

std::optional<Field<std::int64_t>> TableReader::integer(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  if (auto i = n->as_integer()) return Field<std::int64_t>{i->get(), n};
  wrong_type(*n, key, "an integer");
  return std::nullopt;
}

std::optional<Field<bool>> TableReader::boolean(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  if (auto b = n->as_boolean()) return Field<bool>{b->get(), n};
  wrong_type(*n, key, "true or false");
  return std::nullopt;
}

std::optional<Field<std::vector<std::string>>> TableReader::string_array(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    wrong_type(*n, key, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const toml::node& e : *arr) {
    if (auto s = e.as_string()) {
      out.push_back(s->get());
    } else {
      error(e, fmt::format("{} must hold strings only, not {}", key, type_name(e)));
    }
  }
  return Field<std::vector<std::string>>{std::move(out), n};
}

void TableReader::finish() {
  for (auto&& [key, node] : table_) {
    const std::string_view k = key.str();
    if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
    std::string msg = fmt::format("{}: unknown key '{}'", where_, k);
    if (auto s = closest_match(k, known_)) msg += fmt::format(" (did you mean '{}'?)", *s);
    diag_.error(key.source().begin, std::move(msg));
  }
}

}  // namespace callwatch::config
