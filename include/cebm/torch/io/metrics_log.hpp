#pragma once
/// @file
/// `metrics_log`: one JSON object per line (`metrics.jsonl`), flushed per row so a crashed run
/// keeps its history. Values are numbers; non-finite ones are written as null (JSON has no NaN).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace cebm::train {

class metrics_log {
 public:
  metrics_log() = default;
  /// Appends to `path` (creating it), so a resumed run continues the same file.
  explicit metrics_log(const std::string& path) : out_(path, std::ios::app) {
    if (!out_) throw std::runtime_error(path + ": cannot open the metrics log for writing");
  }
  void write(const std::map<std::string, double>& row) {
    if (!out_.is_open()) return;
    out_ << format(row) << '\n';
    out_.flush();
  }
  static std::string format(const std::map<std::string, double>& row) {
    std::string s = "{";
    bool first = true;
    for (const auto& [key, value] : row) {
      s += (first ? "\"" : ", \"") + key + "\": ";
      first = false;
      if (std::isfinite(value)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", value);
        s += buf;
      } else {
        s += "null";
      }
    }
    return s + "}";
  }

 private:
  std::ofstream out_;
};

}  // namespace cebm::train
