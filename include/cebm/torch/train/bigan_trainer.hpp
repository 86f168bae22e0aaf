#pragma once
/// @file
/// `bigan_trainer`: adversarial training of a BIGAN (models/bigan.hpp) as the published runs
/// (reference notes §4). Per iteration, with x a data batch in [−1, 1], z̃ ~ N(0, I), ẑ = E(x)
/// (reparameterised), x̃ = G(z̃), n, n' ~ N(0, σ_t² I) instance noise, BCE on D's logits:
///
///   D step   L_D  = BCE(D(x + n, ẑ), 1) + BCE(D(x̃ + n', z̃), 0)        gradient for D only
///   GE step  L_GE = BCE(D(x + n, ẑ), 0) + BCE(D(x̃ + n', z̃), 1)        swapped labels, for G and E only
///
/// Both losses come from the same two discriminator passes and both players step together
/// (simultaneous updates): backward with explicit inputs routes each loss to its own parameters.
/// σ_t = instance_noise·(T − epoch)/T over the run's T epochs. Both steps use Adam with the same
/// options; the generator and encoder share one optimiser. Batch norm runs in training mode for
/// both steps; the probe and `representation` use the encoder in eval mode. The run directory,
/// checkpoints (`model`, `optimizer_d`, `optimizer_ge`), resume, data-parallel training and the
/// divergence guard (on L_D + L_GE) are basic_trainer's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>

#include "cebm/torch/models/bigan.hpp"
#include "cebm/torch/train/bigan_trainer_options.hpp"
#include "cebm/torch/train/detail/adam_learning_rate.hpp"
#include "cebm/torch/train/module_trainer.hpp"

namespace cebm::train {

class bigan_trainer : public module_trainer<bigan_trainer, bigan_trainer_options, models::Bigan> {
 public:
  using module_trainer::module_trainer;

  /// σ_t of the instance noise at the current iteration.
  double instance_noise_std() const {
    const double per_epoch = static_cast<double>(loader_.dataset().size()) / static_cast<double>(global_batch());
    const double epochs = std::max(1.0, std::ceil(static_cast<double>(o_.iterations()) / per_epoch));
    const double epoch = std::floor(static_cast<double>(iteration_) / per_epoch);
    return o_.instance_noise() * std::max(0.0, epochs - epoch) / epochs;
  }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  at::Tensor representation(const at::Tensor& x) {
    model_->encoder()->eval();
    at::Tensor r = model_->representation(x);
    model_->encoder()->train();
    return r;
  }
  at::Tensor sample_images(std::int64_t n, at::Generator& gen) {
    model_->generator()->eval();
    at::Tensor s = model_->sample(n, gen);
    model_->generator()->train();
    return s;
  }

  bool train_step(std::string& why) {
    model_->train();
    synchronize_buffers();
    const at::Tensor x = next_input();
    const double sigma = instance_noise_std();
    auto noisy = [&](const at::Tensor& v) {
      return sigma > 0 ? v + sigma * at::normal(0.0, 1.0, v.sizes(), sample_gen_, v.options()) : v;
    };
    const at::Tensor z_prior = at::normal(0.0, 1.0, {x.size(0), model_->latent_dim()}, sample_gen_, x.options());
    // The three networks under the precision policy; the logits and the losses in float32.
    const at::Tensor z_data = in_precision([&] { return model_->encode(x, sample_gen_); });
    const at::Tensor d_real = in_precision([&] { return model_->discriminate(noisy(x), z_data); });
    const at::Tensor x_fake = in_precision([&] { return model_->generate(z_prior); });
    const at::Tensor d_fake = in_precision([&] { return model_->discriminate(noisy(x_fake), z_prior); });
    const at::Tensor loss_d = bce(d_real, 1.0) + bce(d_fake, 0.0);
    const at::Tensor loss_ge = bce(d_real, 0.0) + bce(d_fake, 1.0);  // swapped labels
    // Both losses in one device read: the divergence guard's one sync per iteration.
    const at::Tensor both = at::stack({loss_d.detach(), loss_ge.detach()}).to(at::kCPU, at::kDouble);
    const double value_d = both[0].item<double>(), value_ge = both[1].item<double>();
    if (!loss_is_sane(value_d + value_ge, why)) return false;

    optimizer_d_.zero_grad();
    optimizer_ge_.zero_grad();
    // Each loss's gradient only for its own players: L_D for D, L_GE for G and E.
    const auto d_params = model_->discriminator()->parameters();
    const auto ge_params = generator_encoder_parameters();
    torch::autograd::backward({scaled_loss(loss_d)}, {}, /*keep_graph=*/true, /*create_graph=*/false, d_params);
    torch::autograd::backward({scaled_loss(loss_ge)}, {}, /*keep_graph=*/false, /*create_graph=*/false, ge_params);
    average_gradients();
    if (unscale_gradients()) {
      optimizer_d_.step();
      optimizer_ge_.step();
    }
    last_ = {value_d, value_ge, at::sigmoid(d_real.detach()).mean(), at::sigmoid(d_fake.detach()).mean(), sigma};
    return true;
  }

  std::map<std::string, double> step_values() const {
    return {{"loss", last_.loss_d + last_.loss_ge},
            {"loss_d", last_.loss_d},
            {"loss_ge", last_.loss_ge},
            {"d_real", last_.d_real.item<double>()},
            {"d_fake", last_.d_fake.item<double>()},
            {"instance_noise", last_.noise},
            {"lr", detail::adam_learning_rate(optimizer_d_)}};
  }

  std::string progress_text(const std::map<std::string, double>& r) const {
    char buf[140];
    std::snprintf(buf, sizeof buf, "L_D %.4g  L_GE %.4g  D(data) %.3f  D(gen) %.3f", r.at("loss_d"), r.at("loss_ge"),
                  r.at("d_real"), r.at("d_fake"));
    return buf;
  }

  void scale_learning_rates(double factor) {
    detail::scale_adam_learning_rate(optimizer_d_, factor);
    detail::scale_adam_learning_rate(optimizer_ge_, factor);
  }

  void save_state(torch::serialize::OutputArchive& a) {
    save_module(a, "optimizer_d", optimizer_d_, "optimizer_ge", optimizer_ge_);
  }
  void load_state(torch::serialize::InputArchive& a) {
    load_module(a, "optimizer_d", optimizer_d_, "optimizer_ge", optimizer_ge_);
  }

 private:
  torch::optim::AdamOptions adam() const {
    return torch::optim::AdamOptions(o_.lr()).betas(std::make_tuple(o_.beta1(), o_.beta2()));
  }
  std::vector<at::Tensor> generator_encoder_parameters() {
    std::vector<at::Tensor> p = model_->generator()->parameters();
    for (const auto& e : model_->encoder()->parameters()) p.push_back(e);
    return p;
  }
  std::int64_t global_batch() const { return o_.batch_size() * (group_ ? group_->world_size() : 1); }
  static at::Tensor bce(const at::Tensor& logits, double label) {
    return torch::nn::functional::binary_cross_entropy_with_logits(logits, at::full_like(logits, label));
  }

  struct step_result {
    double loss_d = 0, loss_ge = 0;
    at::Tensor d_real = at::zeros({}), d_fake = at::zeros({});
    double noise = 0;
  };

  torch::optim::Adam optimizer_d_{model_->discriminator()->parameters(), adam()};
  torch::optim::Adam optimizer_ge_{generator_encoder_parameters(), adam()};
  step_result last_;
};

}  // namespace cebm::train
