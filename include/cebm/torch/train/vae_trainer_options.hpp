#pragma once
/// @file
/// Options of `vae_trainer` (VAE and GMM-VAE; reference notes §4), with the presets:
///   paper     batch 100, 100 epochs of Fashion-MNIST (60,000 iterations), Adam lr 1e-4 (the paper's
///             "all models", App. C), latent 128 (the paper's text), [0, 1] pixels
///   commands  the authors' run commands (reference notes §4): as paper with lr 1e-3 and latent 50
///             (their commands for MNIST and CIFAR-10 use latent 50 and lr 1e-3 or 1e-4)
///   demo      minutes on 2 CPU cores: batch 64, 1,500 iterations, lr 1e-3, latent 128
///   ci        seconds: batch 16, 6 iterations, small probes
/// The latent size is the model's (`models::vae_options`); `preset_latent_dim` gives each preset's.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cebm/core/arg.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/train/run_options.hpp"

namespace cebm::train {

struct vae_trainer_options : run_options<vae_trainer_options> {
  /// [0, 1] pixels, no noise: the Bernoulli likelihood's domain, as published.
  vae_trainer_options()
      : run_options(60000, 100, data::image_transform_options{}.scale(data::pixel_scale::unit), "runs/vae") {}

  CEBM_ARG(double, lr) = 1e-4;
  CEBM_ARG(double, beta1) = 0.9;
  CEBM_ARG(double, beta2) = 0.999;

 public:
  /// `preset` is paper, commands, demo or ci; `model` is vae or gmm_vae.
  static vae_trainer_options preset(const std::string& preset, const std::string& model) {
    if (model != "vae" && model != "gmm_vae")
      throw std::invalid_argument("unknown model '" + model + "' (expected vae or gmm_vae)");
    vae_trainer_options o;
    o.out_dir("runs/" + model);
    if (preset == "paper") return o;
    if (preset == "commands") return o.lr(1e-3);
    if (preset == "demo")
      return o.iterations(1500).batch_size(64).lr(1e-3).log_every(50).checkpoint_every(500).keep_every(100000).sample_every(500)
          .probe_every(500);
    if (preset == "ci")
      return o.iterations(6).batch_size(16).lr(1e-3).log_every(1).checkpoint_every(3).keep_every(3).sample_every(3)
          .probe_every(3).probe_reference(100).probe_query(50);
    throw std::invalid_argument("unknown preset '" + preset + "' (expected paper, commands, demo or ci)");
  }

  /// The latent size that goes with a preset: 50 for the run commands, the paper text's 128 otherwise.
  static std::int64_t preset_latent_dim(const std::string& preset) { return preset == "commands" ? 50 : 128; }
};

}  // namespace cebm::train
