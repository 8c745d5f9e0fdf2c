// Writes the current GL back buffer to a PNG (headless runs under Xvfb, docs, tests).
#pragma once

#include <string>

namespace callwatch::wallboard::app {

// Reads width x height pixels of the back buffer; false when the file cannot be written.
bool write_screenshot(const std::string& path, int width, int height);

}  // namespace callwatch::wallboard::app
