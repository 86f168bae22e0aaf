#pragma once
/// @file
/// Options of `bigan_trainer` (reference notes §4: the published BIGAN runs), with the presets:
///   paper  batch 100, 100 epochs of Fashion-MNIST (60,000 iterations), Adam lr 2e-4 with
///          β = (0.5, 0.999) for both steps, instance noise 0.1 annealed to 0, [−1, 1] pixels
///   demo   minutes on 2 CPU cores: batch 64, 1,500 iterations
///   ci     seconds: batch 16, 6 iterations, small probes
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cebm/core/arg.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/train/run_options.hpp"

namespace cebm::train {

struct bigan_trainer_options : run_options<bigan_trainer_options> {
  /// [−1, 1] pixels, the tanh range.
  bigan_trainer_options() : run_options(60000, 100, data::image_transform_options{}, "runs/bigan") {}

  CEBM_ARG(double, lr) = 2e-4;
  CEBM_ARG(double, beta1) = 0.5;
  CEBM_ARG(double, beta2) = 0.999;
  /// Std of the Gaussian noise added to both images the discriminator sees, at the first epoch;
  /// it falls linearly per epoch, noise·(T − epoch)/T over the run's T epochs.
  CEBM_ARG(double, instance_noise) = 0.1;

 public:
  static bigan_trainer_options preset(const std::string& preset) {
    bigan_trainer_options o;
    if (preset == "paper") return o;
    if (preset == "demo")
      return o.iterations(1500).batch_size(64).log_every(50).checkpoint_every(500).keep_every(100000).sample_every(500)
          .probe_every(500);
    if (preset == "ci")
      return o.iterations(6).batch_size(16).log_every(1).checkpoint_every(3).keep_every(3).sample_every(3).probe_every(3)
          .probe_reference(100).probe_query(50);
    throw std::invalid_argument("unknown preset '" + preset + "' (expected paper, demo or ci)");
  }
};

}  // namespace cebm::train
