#pragma once
/// @file
/// `vae_trainer<Model>`: maximum-ELBO training of a VAE or GMM-VAE (models/vae.hpp),
///
///   x = data batch in [0, 1];  L = −mean ELBO(x) (one reparameterised draw per image);  Adam step,
///
/// with the GMM prior's means and log-stds in the same optimiser. The run directory, loop,
/// checkpoints, resume, probe, data-parallel training and divergence guard are basic_trainer's,
/// the model's hooks model_trainer's;
/// `samples/samples.png` shows ancestral samples of fixed latents. A checkpoint holds `model` and
/// `optimizer` besides what basic_trainer writes.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <torch/serialize/archive.h>

#include "cebm/torch/variational/elbo.hpp"
#include "cebm/torch/train/model_trainer.hpp"
#include "cebm/torch/train/vae_trainer_options.hpp"

namespace cebm::train {

template <class Model>
class vae_trainer : public model_trainer<vae_trainer<Model>, vae_trainer_options, Model> {
  using base = model_trainer<vae_trainer<Model>, vae_trainer_options, Model>;

 public:
  using base::base;

  // --- the basic_trainer hooks model_trainer leaves ---------------------------------------------
  at::Tensor sample_images(std::int64_t n, at::Generator& gen) { return this->model_->sample(n, gen); }

  bool train_step(std::string& why) {
    const at::Tensor x = this->begin_step();
    // The encoder and decoder under the precision policy; the model takes the ELBO's terms in
    // float32 from their outputs (models/vae.hpp).
    const variational::elbo_terms terms = this->in_precision([&] { return this->model_->elbo(x, this->sample_gen_); });
    double loss = 0;
    if (!this->descend(-terms.elbo.mean(), why, &loss)) return false;
    last_ = {loss, terms.log_likelihood.detach().mean(), terms.kl.detach().mean()};
    return true;
  }

  std::map<std::string, double> step_values() const {
    return {{"loss", last_.loss},
            {"elbo", -last_.loss},
            {"log_likelihood", last_.log_likelihood.template item<double>()},
            {"kl", last_.kl.template item<double>()},
            {"lr", this->learning_rate()}};
  }

  std::string progress_text(const std::map<std::string, double>& r) const {
    char buf[120];
    std::snprintf(buf, sizeof buf, "ELBO %.5g  log p(x|z) %.5g  KL %.4g", r.at("elbo"), r.at("log_likelihood"), r.at("kl"));
    return buf;
  }

 private:
  struct step_result {
    double loss = 0;
    at::Tensor log_likelihood = at::zeros({}), kl = at::zeros({});
  };

  step_result last_;
};

}  // namespace cebm::train
