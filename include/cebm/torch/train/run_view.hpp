#pragma once
/// @file
/// `trained_run`: any cebm trainer seen through what a program reports once it has trained
/// (iteration, last metrics, best probe, representations, run directory), so that code which
/// writes summaries needs no trainer type. `view_of(trainer)` refers to the trainer, which must
/// outlive the view.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <ATen/ATen.h>

namespace cebm::train {

/// A trainer seen through what a program reports after training (any trainer type).
struct trained_run {
  std::function<std::int64_t()> iteration;
  std::function<const std::map<std::string, double>&()> last_metrics;
  std::function<double()> best_probe;
  std::function<at::Tensor(const at::Tensor& images)> features;  ///< representations of uint8 images (CPU)
  std::function<std::string()> out_dir;
  std::function<bool()> resumed_with_fresh_noise;
  bool main_rank = true;
};

template <class Trainer>
trained_run view_of(Trainer& t) {
  return {[&t] { return t.iteration(); },
          [&t]() -> const std::map<std::string, double>& { return t.last_metrics(); },
          [&t] { return t.best_probe(); },
          [&t](const at::Tensor& images) { return t.features(images); },
          [&t] { return t.options().out_dir(); },
          [&t] { return t.resumed_with_fresh_noise(); },
          t.is_main_rank()};
}

}  // namespace cebm::train
