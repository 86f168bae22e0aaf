#pragma once
/// @file
/// `metrics_log`: one JSON object per line (`metrics.jsonl`), flushed per row so a crashed run
/// keeps its history. Values are numbers, written exactly (the shortest text that reads back as
/// the same double); non-finite ones are written as null (JSON has no NaN).
/// `read(path)` gives the rows back (null as NaN).
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cebm::train {

class metrics_log {
 public:
  metrics_log() = default;
  /// Appends to `path` (creating it), so a resumed run continues the same file.
  explicit metrics_log(const std::string& path) : path_(path), out_(path, std::ios::app) {
    if (!out_) throw std::runtime_error(path + ": cannot open the metrics log for writing (" + std::strerror(errno) + ")");
  }
  void write(const std::map<std::string, double>& row) {
    if (!out_.is_open()) return;
    out_ << format(row) << '\n';
    out_.flush();
    if (!out_) throw std::runtime_error(path_ + ": cannot write the metrics log (" + std::strerror(errno) + ")");
  }

  /// Keeps the rows of the log at `path` up to iteration `last` (those of the model a checkpoint
  /// at `last` holds) and drops the later ones, which a resumed or rolled-back run is about to
  /// redo, and any line that is not a whole row (a write the process did not finish: a full disk,
  /// a kill); the file is replaced atomically. No file: nothing to do.
  static void truncate_after(const std::string& path, std::int64_t last) {
    std::ifstream in(path);
    if (!in) return;
    std::string kept, line;
    bool dropped = false;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
      const auto it = row.is_object() ? row.find("iteration") : row.end();
      if (it == row.end() || !it->is_number() || it->get<double>() > static_cast<double>(last) || in.eof()) {
        // in.eof(): the last line lacks its line break, so its write did not end either
        dropped = true;
        continue;
      }
      kept += line + '\n';
    }
    in.close();
    if (!dropped) return;
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << kept;
      out.flush();
      if (!out) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": cannot rewrite the metrics log (" + std::strerror(errno) + ")");
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw std::runtime_error(path + ": cannot replace the metrics log (" + std::strerror(errno) + ")");
    }
  }
  static std::string format(const std::map<std::string, double>& row) {
    std::string s = "{";
    bool first = true;
    for (const auto& [key, value] : row) {
      s += (first ? "\"" : ", \"") + key + "\": ";
      first = false;
      if (std::isfinite(value)) {
        char buf[32];  // the shortest text that reads back as the same double
        s.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
      } else {
        s += "null";
      }
    }
    return s + "}";
  }

  /// The rows of the log at `path`, in order; a null value is NaN. Refuses a missing file or a line
  /// that is not a JSON object of numbers, naming the file and the line.
  static std::vector<std::map<std::string, double>> read(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open the metrics log (" + std::strerror(errno) + ")");
    std::vector<std::map<std::string, double>> rows;
    std::string line;
    for (std::int64_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object())
        throw std::runtime_error(path + ": line " + std::to_string(n) + " is not a JSON object (a metrics row)");
      std::map<std::string, double> row;
      for (const auto& [key, value] : j.items()) {
        if (!value.is_number() && !value.is_null())
          throw std::runtime_error(path + ": line " + std::to_string(n) + ": '" + key + "' is not a number");
        row[key] = value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace cebm::train
