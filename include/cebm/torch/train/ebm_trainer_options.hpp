#pragma once
/// @file
/// Options of `ebm_trainer`, with the presets:
///   paper  the published runs (reference notes §1.5–1.7): batch 100, 100 epochs of Fashion-MNIST
///          (60,000 iterations), SGLD 60 steps of step 1.0 and noise 0.0075 from a 5000-chain buffer
///          (5% restarts), data noise 0.03, Adam (default betas); lr 1e-4 and L2 0.1 on both energies
///          for CEBM, lr 5e-5 and L2 0.1 on the data energy for GMM-CEBM, lr 5e-5 and L2 5e-3 for IGEBM;
///          the harmonium (Gaussian–Bernoulli RBM, appendix A; the paper trains none) takes CEBM's
///   demo   minutes on 2 CPU cores: batch 64, 20 SGLD steps, 150 iterations
///   ci     seconds: batch 16, 5 SGLD steps, 6 iterations, small buffer and probes
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cebm/core/arg.hpp"
#include "cebm/sampling/langevin_options.hpp"
#include "cebm/sampling/replay_buffer.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"
#include "cebm/torch/train/run_options.hpp"

namespace cebm::train {

struct ebm_trainer_options : run_options<ebm_trainer_options> {
  ebm_trainer_options() : run_options(60000, 100, data::image_transform_options::cebm(), "runs/cebm") {}

  CEBM_ARG(double, lr) = 1e-4;
  CEBM_ARG(double, beta1) = 0.9;
  CEBM_ARG(double, beta2) = 0.999;
  CEBM_ARG(cd_options, loss) = cd_options{}.l2(0.1);
  CEBM_ARG(langevin_options, sgld) = langevin_options::cebm();
  CEBM_ARG(replay_buffer_options, buffer) = replay_buffer_options::cebm();
  CEBM_ARG(std::int64_t, long_run_steps) = 500;     ///< steps of the fresh long-run chains at the end
  CEBM_ARG(std::int64_t, long_run_chains) = 64;

 public:
  /// `preset` is paper, demo or ci; `model` is the kind the run trains, which names its default
  /// run directory (runs/<model>). gmm_cebm and igebm take their papers' learning rate and L2
  /// coefficient; every other kind (cebm, the harmonium, a kind of one's own) the CEBM's.
  static ebm_trainer_options preset(const std::string& preset, const std::string& model) {
    if (model.empty()) throw std::invalid_argument("ebm_trainer_options::preset: no model kind (it names runs/<kind>)");
    ebm_trainer_options o;
    if (model == "gmm_cebm") o.lr(5e-5).loss(cd_options{}.l2(0.1).regularize(cd_regularizer::data_only));
    if (model == "igebm") o.lr(5e-5).loss(cd_options{}.l2(5e-3));
    o.out_dir("runs/" + model);
    if (preset == "paper") return o;
    if (preset == "demo")
      return o.iterations(150).batch_size(64).sgld(langevin_options::cebm().steps(20)).log_every(10).checkpoint_every(50)
          .keep_every(1000).sample_every(50).probe_every(50).long_run_steps(200);
    if (preset == "ci")
      return o.iterations(6).batch_size(16).sgld(langevin_options::cebm().steps(5)).buffer(replay_buffer_options::cebm().capacity(200))
          .log_every(1).checkpoint_every(3).keep_every(3).sample_every(3).probe_every(3).probe_reference(100).probe_query(50)
          .long_run_steps(10).long_run_chains(16);
    throw std::invalid_argument("unknown preset '" + preset + "' (expected paper, demo or ci)");
  }
};

}  // namespace cebm::train
