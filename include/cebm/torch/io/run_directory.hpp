#pragma once
/// @file
/// `run_directory`: the files of one training run, shared by every trainer:
///
///   config.json                          the program's configuration (written when given)
///   metrics.jsonl                        one JSON row per logged iteration (appended on resume)
///   checkpoints/{last,best,iter_N}.pt    written atomically (checkpoint.hpp)
///   samples/<name>.png                   image grids
///   DIVERGED                             why a run stopped, with its last metrics row
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

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

  /// Creates the directories and, when `config_json` is not empty, writes config.json.
  void create(const std::string& config_json = "") const {
    std::filesystem::create_directories(root_ / "checkpoints");
    std::filesystem::create_directories(root_ / "samples");
    if (config_json.empty()) return;
    std::ofstream out(root_ / "config.json");
    if (!(out << config_json << '\n')) throw std::runtime_error(file("config.json") + ": cannot write");
  }

  /// metrics.jsonl, opened for appending.
  metrics_log metrics() const { return metrics_log(file("metrics.jsonl")); }

  /// samples/<name>.png: a grid of uint8 images [N, C, H, W] (8 columns).
  void write_grid(const std::string& name, const at::Tensor& pixels) const {
    data::write_png(sample(name), eval::make_grid(pixels.cpu()));
  }

  /// The DIVERGED note: the message and the last metrics row.
  void write_diverged(const std::string& message, const std::map<std::string, double>& last_row) const {
    std::ofstream(root_ / "DIVERGED") << message << '\n' << metrics_log::format(last_row) << '\n';
  }

 private:
  std::filesystem::path root_;
};

}  // namespace cebm::train
