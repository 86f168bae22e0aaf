#pragma once
/// @file
/// A run's learning curve: whether more training would help, read off the run itself.
///
///   probe        the trainer's 1-NN accuracy of the representation (probe queries against probe
///                references, both training images), every `probe_every` iterations, from
///                metrics.jsonl (`probe_1nn`)
///   few-label    at each kept checkpoint (checkpoints/iter_N.pt, and last.pt), the few-label test
///                accuracy under the published protocol and on standardised features
///                (few_label.hpp), from `evaluate` with scope `learning_curve_point`
///   stuck        at the same checkpoints, the fraction of replay-buffer chains still stuck near
///                their noise initialisation (stuck_chains.hpp)
///
/// `learning_curve_point` keeps what a point's report holds; `learning_curve_section` writes the
/// chart (`learning_curve.png`: the probe, 10 labels per class under both protocols and the stuck
/// fraction against iterations) and returns the report's `learning_curve` key.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cebm/config.hpp"
#include "cebm/torch/eval/plot.hpp"
#include "cebm/torch/io/png.hpp"

namespace cebm::eval {

struct learning_curve {
  std::vector<std::pair<std::int64_t, double>> probe;  ///< (iteration, probe 1-NN accuracy), by iteration
  nlohmann::json points = nlohmann::json::array();     ///< learning_curve_point of each checkpoint, by iteration
};

/// The (iteration, value) pairs of `key` in metrics rows (metrics_log::read), in order; rows
/// without the key or with a NaN value are left out.
CEBM_INLINE std::vector<std::pair<std::int64_t, double>> metric_history(const std::vector<std::map<std::string, double>>& rows,
                                                                   const std::string& key);

/// A point of the curve from the report of `evaluate` (scope learning_curve_point) of the
/// checkpoint at `iteration`: {"iteration", "checkpoint", "few_label": {"representation": {setting:
/// {"mean", "std"}}, "representation_standardized": {…}}, "buffer_stuck": fraction or null}.
CEBM_INLINE nlohmann::json learning_curve_point(const nlohmann::json& report, std::int64_t iteration, const std::string& checkpoint);

/// The chart: the probe, few-label accuracy at `labels` per class under both protocols, and the
/// buffer's stuck fraction, against iterations (y from 0 to 1). Series without values are left out.
CEBM_INLINE at::Tensor learning_curve_chart(const learning_curve& c, const std::string& labels = "10");

/// Writes `learning_curve.png` into `dir` and returns the report's `learning_curve` key:
/// {"probe": [[iteration, accuracy], …], "points": […], "image": "learning_curve.png"}.
CEBM_INLINE nlohmann::json learning_curve_section(const learning_curve& c, const std::string& dir);

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/learning_curve_impl.hpp"
#endif
