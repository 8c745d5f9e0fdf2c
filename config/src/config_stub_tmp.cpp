// TEMPORARY STUB: replaced by the TOML loader.
#include "callwatch/config/config.hpp"
namespace callwatch::config {
std::string ConfigError::to_string() const { return file + ":" + std::to_string(line) + ": " + message; }
Config default_config() { Config c; c.source = "<defaults>"; return c; }
ConfigResult parse_config(std::string_view, const std::string&) { return default_config(); }
ConfigResult load_config_file(const std::string&) { return default_config(); }
tl::expected<metrics::TimeZone, std::string> load_timezone(const std::string&) { return metrics::TimeZone::utc(); }
}
