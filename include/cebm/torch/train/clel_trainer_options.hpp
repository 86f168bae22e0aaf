#pragma once
/// @file
/// Options of `clel_trainer` (reference notes §3.4–3.5; CLEL paper App. B), with the presets:
///   paper  the published CIFAR-10 run: base model, batch 64, 100k iterations, replay buffer of
///          10000 chains (0.1% restarts, distinct draws, strong augmentation), 60 SGLD steps of
///          step 100 and noise 0.001 (clip ±100, clamp [0, 1]), α = 1, β = 0.01, τ = 0.2;
///          θ: Adam lr 1e-4, betas (0, 0.999), linear warm-up over 2000 iterations;
///          φ: SGD lr 0.03, momentum 0.9, weight decay 5e-4, cosine annealing to 0;
///          EMA half-life 20000 images (copies for the first 20000 / 64 = 312.5 iterations)
///   demo   minutes on 2 CPU cores (Fashion-MNIST 28×28×1): small model, batch 32, 10 SGLD steps,
///          80 iterations (≈ 2.3 s each at 2 threads, ≈ 3.5 min in all), warm-up 20, EMA half-life
///          640 images (copies for 20 iterations), 2000 chains; half of an iteration is the
///          ResNet-18 encoder on 2 × 32 views
///   ci     seconds: small model, batch 8, 2 SGLD steps, 4 iterations, 200 chains
///
/// The learning rates at iteration s = 0, 1, … (set before that iteration's update):
///   θ:  ebm_lr · min(1, (s + 1) / warmup_iterations)                (1 when warmup_iterations = 0)
///   φ:  encoder_lr · ½ (1 + cos(π s / iterations))                  (PyTorch's CosineAnnealingLR)
/// The presets leave the model's image geometry at CIFAR-10's (3×32×32); set it from the data, e.g.
/// `o.model(models::clel_options(o.model()).in_channels(1).image_size(28))`.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cebm/core/arg.hpp"
#include "cebm/sampling/langevin_options.hpp"
#include "cebm/sampling/replay_buffer.hpp"
#include "cebm/torch/losses/clel_ebm_loss.hpp"
#include "cebm/torch/clel/ema.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/train/run_options.hpp"

namespace cebm::train {

struct clel_trainer_options : run_options<clel_trainer_options> {
  clel_trainer_options() : run_options(100000, 64, data::image_transform_options::clel(), "runs/clel") { probe_every(2000); }

  CEBM_ARG(models::clel_options, model) = {};
  /// θ = (f, g): Adam.
  CEBM_ARG(double, ebm_lr) = 1e-4;
  CEBM_ARG(double, ebm_beta1) = 0.0;
  CEBM_ARG(double, ebm_beta2) = 0.999;
  /// Iterations of θ's linear learning-rate warm-up (0: none).
  CEBM_ARG(std::int64_t, warmup_iterations) = 2000;
  /// φ = h: SGD with momentum and weight decay, cosine-annealed to 0 over `iterations`.
  CEBM_ARG(double, encoder_lr) = 0.03;
  CEBM_ARG(double, encoder_momentum) = 0.9;
  CEBM_ARG(double, encoder_weight_decay) = 5e-4;
  /// α (energy L2) and β (latent alignment) of L_EBM.
  CEBM_ARG(clel::ebm_loss_options, loss) = {};
  /// τ of the encoder's NT-Xent loss.
  CEBM_ARG(double, temperature) = 0.2;
  CEBM_ARG(langevin_options, sgld) = langevin_options::clel();
  CEBM_ARG(replay_buffer_options, buffer) = replay_buffer_options::clel();
  /// EMA of the networks: images after which an old value's weight halves; plain copies while the
  /// iteration is below ema_half_life_images / batch_size (the published 20000 / 64 = 312.5).
  CEBM_ARG(double, ema_half_life_images) = 20000.0;
  CEBM_ARG(std::int64_t, long_run_steps) = 600;     ///< steps of the EMA EBM's fresh chains at the end
  CEBM_ARG(std::int64_t, long_run_chains) = 64;

 public:
  /// θ's learning rate at iteration s (before any rollback scaling).
  double ebm_lr_at(std::int64_t s) const {
    if (warmup_iterations() <= 0) return ebm_lr();
    return ebm_lr() * std::min(1.0, static_cast<double>(s + 1) / static_cast<double>(warmup_iterations()));
  }
  /// φ's learning rate at iteration s (before any rollback scaling).
  double encoder_lr_at(std::int64_t s) const {
    if (iterations() <= 0) return encoder_lr();
    const double pi = std::acos(-1.0);
    return encoder_lr() * 0.5 * (1.0 + std::cos(pi * static_cast<double>(s) / static_cast<double>(iterations())));
  }
  /// The EMA options these settings imply.
  clel::ema_options ema() const {
    return clel::ema_options{}
        .batch(batch_size())
        .half_life_images(ema_half_life_images())
        .warmup_iterations(ema_half_life_images() / static_cast<double>(batch_size()));
  }

  /// `preset` is paper, demo or ci.
  static clel_trainer_options preset(const std::string& preset) {
    clel_trainer_options o;
    if (preset == "paper") return o;
    const auto small = models::clel_options{}.size(nn::spherical_ebm_size::small);
    if (preset == "demo")
      return o.model(small).iterations(80).batch_size(32).warmup_iterations(20).ema_half_life_images(640)
          .sgld(langevin_options::clel().steps(10)).buffer(replay_buffer_options::clel().capacity(2000))
          .log_every(5).checkpoint_every(20).keep_every(1000).sample_every(20).probe_every(40).probe_reference(500)
          .probe_query(250).long_run_steps(60).long_run_chains(64);
    if (preset == "ci")
      return o.model(small).iterations(4).batch_size(8).warmup_iterations(2).ema_half_life_images(16)
          .sgld(langevin_options::clel().steps(2)).buffer(replay_buffer_options::clel().capacity(200))
          .log_every(1).checkpoint_every(2).keep_every(2).sample_every(2).probe_every(2).probe_reference(100)
          .probe_query(50).long_run_steps(4).long_run_chains(16);
    throw std::invalid_argument("unknown preset '" + preset + "' (expected paper, demo or ci)");
  }
};

}  // namespace cebm::train
