#pragma once
/// @file
/// `run_directory`: the files of one training run, shared by every trainer:
///
///   .lock                                held by the process running in it (run_lock.hpp)
///   config.json                          the program's configuration, as the run started
///   config_history.jsonl                 a row per resume that changed it: the iteration and the new one
///   metrics.jsonl                        one JSON row per logged iteration (cut back to the
///                                        checkpoint's iteration on resume and rollback)
///   checkpoints/{last,best,iter_N}.pt    written atomically (checkpoint.hpp)
///   samples/<name>.png                   image grids
///   DIVERGED                             why a run stopped, with its last metrics row
///   events.out.tfevents.*                TensorBoard event files (io/tensorboard/event_file.hpp);
///   projector_config.pbtxt, embeddings/  with the projector's embeddings (summary_writer.hpp)
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/io/png.hpp"
#include "cebm/torch/io/image_grid.hpp"
#include "cebm/torch/io/metrics_log.hpp"

namespace cebm::train {

class run_directory {
 public:
  explicit run_directory(std::string root) : root_(std::move(root)) {
    if (root_.empty()) throw std::invalid_argument("cebm::train::run_directory: the directory name is empty");
  }

  const std::filesystem::path& root() const { return root_; }
  std::string checkpoint(const std::string& name) const { return (root_ / "checkpoints" / (name + ".pt")).string(); }
  std::string sample(const std::string& name) const { return (root_ / "samples" / (name + ".png")).string(); }
  std::string file(const std::string& name) const { return (root_ / name).string(); }

  /// Creates the directories and, when `config_json` is not empty, records the configuration: a
  /// new run (`resumed_at` < 0) writes config.json; a resumed one keeps it and appends the new
  /// configuration to config_history.jsonl when it differs from the last one recorded.
  void create(const std::string& config_json = "", std::int64_t resumed_at = -1) const {
    std::filesystem::create_directories(root_ / "checkpoints");
    std::filesystem::create_directories(root_ / "samples");
    if (config_json.empty()) return;
    if (resumed_at < 0 || !std::filesystem::exists(root_ / "config.json")) {
      write_text("config.json", config_json + '\n', std::ios::trunc);
      return;
    }
    std::string line = config_json;  // JSON: a line break outside strings is only white space
    for (char& c : line)
      if (c == '\n') c = ' ';
    const std::string last = last_recorded_config();
    if (last == line) return;
    write_text("config_history.jsonl", "{\"resumed_at_iteration\": " + std::to_string(resumed_at) + ", \"config\": " + line + "}\n",
               std::ios::app);
  }

  /// Whether a run has written here: a checkpoint, metrics or a configuration.
  bool holds_run() const {
    namespace fs = std::filesystem;
    std::error_code ec;
    return fs::exists(root_ / "checkpoints" / "last.pt", ec) || fs::exists(root_ / "config.json", ec) ||
           (fs::exists(root_ / "metrics.jsonl", ec) && fs::file_size(root_ / "metrics.jsonl", ec) > 0);
  }

  /// Removes what a run writes (checkpoints, samples, metrics, configuration, notes, summary,
  /// event files, embeddings),
  /// nothing else: a deliberate fresh start in the same directory.
  void clear() const {
    std::error_code ec;
    std::vector<std::string> names = {"checkpoints", "samples", "metrics.jsonl", "config.json", "config_history.jsonl",
                                      "DIVERGED", "summary.json", "summary.md", "projector_config.pbtxt", "embeddings"};
    for (const auto& entry : std::filesystem::directory_iterator(root_, ec))
      if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) names.push_back(entry.path().filename().string());
    for (const auto& name : names) {
      std::filesystem::remove_all(root_ / name, ec);
      if (ec) throw std::runtime_error(file(name) + ": cannot remove (" + ec.message() + ")");
    }
  }

  /// Removes the temporary files of writes a process did not finish (`*.tmp` here and in
  /// checkpoints/: a checkpoint, the metrics log or a summary being replaced when it ended).
  void remove_partial_writes() const {
    std::error_code ec;
    std::vector<std::filesystem::path> partial;
    for (const auto& folder : {root_, root_ / "checkpoints"})
      for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
        if (entry.path().extension() == ".tmp" && entry.is_regular_file(ec)) partial.push_back(entry.path());
    for (const auto& p : partial) std::filesystem::remove(p, ec);
  }

  /// The kept checkpoints (checkpoints/iter_N.pt) as (N, path), by N.
  std::vector<std::pair<std::int64_t, std::string>> kept_checkpoints() const {
    std::vector<std::pair<std::int64_t, std::string>> kept;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root_ / "checkpoints", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= 8 || name.rfind("iter_", 0) != 0 || name.substr(name.size() - 3) != ".pt") continue;
      const std::string digits = name.substr(5, name.size() - 8);
      if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
      kept.emplace_back(std::stoll(digits), entry.path().string());
    }
    std::sort(kept.begin(), kept.end());
    return kept;
  }

  /// metrics.jsonl, opened for appending.
  metrics_log metrics() const { return metrics_log(file("metrics.jsonl")); }

  /// samples/<name>.png: a grid of uint8 images [N, C, H, W] (8 columns); returns the grid.
  at::Tensor write_grid(const std::string& name, const at::Tensor& pixels) const {
    at::Tensor grid = eval::make_grid(pixels.cpu());
    data::write_png(sample(name), grid);
    return grid;
  }

  /// The DIVERGED note: the message and the last metrics row.
  void write_diverged(const std::string& message, const std::map<std::string, double>& last_row) const {
    write_text("DIVERGED", message + '\n' + metrics_log::format(last_row) + '\n', std::ios::trunc);
  }

 private:
  void write_text(const std::string& name, const std::string& text, std::ios::openmode mode) const {
    std::ofstream out(root_ / name, mode);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(file(name) + ": cannot write (" + std::strerror(errno) + ")");
  }

  /// The configuration the run last recorded (config.json, or the last history row's), one line.
  std::string last_recorded_config() const {
    std::string last, line;
    std::ifstream history(root_ / "config_history.jsonl");
    while (std::getline(history, line))
      if (!line.empty()) last = line;
    if (!last.empty()) {
      const std::size_t at = last.find("\"config\": ");
      return at == std::string::npos ? std::string() : last.substr(at + 10, last.size() - at - 11);
    }
    std::ifstream config(root_ / "config.json");
    std::string text((std::istreambuf_iterator<char>(config)), std::istreambuf_iterator<char>());
    while (!text.empty() && text.back() == '\n') text.pop_back();
    for (char& c : text)
      if (c == '\n') c = ' ';
    return text;
  }

  std::filesystem::path root_;
};

}  // namespace cebm::train
