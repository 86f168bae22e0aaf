#pragma once
/// @file
/// `run_options<Self>`: the options of basic_trainer's run loop, written once. A trainer's options
/// derive from it (`struct ebm_trainer_options : run_options<ebm_trainer_options>`), so its setters
/// chain with the trainer's own: `ebm_trainer_options::preset("ci", "cebm").iterations(6).lr(1e-3)`.
///
///   iterations, batch_size     the run's length and the per-rank batch
///   input                      how uint8 images become model inputs (data/transforms.hpp)
///   out_dir                    the run directory (io/run_directory.hpp)
///   log_every … probe_every    how often a metrics row, `last.pt`, a kept `iter_N.pt`, the sample
///                              grids and the 1-NN probe that picks `best.pt` are written
///   probe_reference, probe_query   training images of that probe (references, queries)
///   divergence_threshold … rollback_lr_scale   the divergence guard (divergence_policy.hpp)
///   tensorboard                TensorBoard event files in out_dir beside metrics.jsonl
///   precision                  the networks' arithmetic: fp32, tf32, bf16, fp16
///                              (precision/precision_policy.hpp)
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "cebm/core/arg.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/precision/precision_mode.hpp"
#include "cebm/torch/train/divergence_policy.hpp"

namespace cebm::train {

template <class Self>
struct run_options {
  CEBM_SELF_ARG(std::int64_t, iterations) = 60000;
  CEBM_SELF_ARG(std::int64_t, batch_size) = 100;
  CEBM_SELF_ARG(data::image_transform_options, input) = {};
  CEBM_SELF_ARG(std::string, out_dir) = "runs/run";
  CEBM_SELF_ARG(std::int64_t, log_every) = 10;
  CEBM_SELF_ARG(std::int64_t, checkpoint_every) = 1000;  ///< last.pt (and iter_N.pt when keep_every divides N)
  CEBM_SELF_ARG(std::int64_t, keep_every) = 10000;       ///< iter_N.pt kept every this many iterations
  CEBM_SELF_ARG(std::int64_t, sample_every) = 1000;      ///< PNG grids of data and samples
  CEBM_SELF_ARG(std::int64_t, probe_every) = 1000;       ///< 1-NN probe that picks best.pt
  CEBM_SELF_ARG(std::int64_t, probe_reference) = 2000;   ///< training images used as probe references
  CEBM_SELF_ARG(std::int64_t, probe_query) = 1000;       ///< other training images classified by 1-NN
  CEBM_SELF_ARG(double, divergence_threshold) = 1e8;     ///< |loss| above this (or non-finite) diverges
  CEBM_SELF_ARG(divergence_policy, on_divergence) = divergence_policy::abort;
  CEBM_SELF_ARG(std::int64_t, max_rollbacks) = 3;
  CEBM_SELF_ARG(double, rollback_lr_scale) = 0.5;
  CEBM_SELF_ARG(bool, tensorboard) = true;  ///< event files: the metrics, grids, histograms, configuration
  CEBM_SELF_ARG(precision_mode, precision) = precision_mode::fp32;

 public:
  /// Throws std::invalid_argument naming the first setting the loop cannot run with.
  void validate() const {
    auto positive = [](std::int64_t v, const char* name) {
      if (v <= 0) throw std::invalid_argument(std::string("cebm::train: ") + name + " must be positive, got " + std::to_string(v));
    };
    if (iterations_ < 0) throw std::invalid_argument("cebm::train: iterations must be >= 0, got " + std::to_string(iterations_));
    positive(batch_size_, "batch_size");
    positive(log_every_, "log_every");
    positive(checkpoint_every_, "checkpoint_every");
    positive(keep_every_, "keep_every");
    positive(sample_every_, "sample_every");
    positive(probe_every_, "probe_every");
  }

 protected:
  run_options() = default;
  /// What differs between trainers: the default length, batch, input convention and directory.
  run_options(std::int64_t iterations, std::int64_t batch_size, data::image_transform_options input, std::string out_dir)
      : iterations_(iterations), batch_size_(batch_size), input_(std::move(input)), out_dir_(std::move(out_dir)) {}
};

}  // namespace cebm::train
