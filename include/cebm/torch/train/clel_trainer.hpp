#pragma once
/// @file
/// `clel_trainer`: Contrastive Latent-guided Energy Learning (Lee et al., ICLR 2023, Algorithm 1;
/// the authors' `train.py` and `models/`, reference notes §3.4–3.5). One iteration s:
///
///   0. EMA of the whole model (f, g and h) at the *start* of the step, then the learning rates of s
///      (clel_trainer_options.hpp: θ warm-up, φ cosine);
///   1. x⁺: a data batch in [0, 1) with uniform dequantisation (not augmented);
///   2. x⁻: `batch` distinct chains from the replay buffer, each restarted from U[0, 1] with
///      probability 0.001, *strongly augmented*, then SGLD on the marginal energy e(x) = ½‖f(x)‖²
///      with the EBM in train mode (spectral norm power-iterates), written back;
///   3. f⁺ = f(x⁺), f⁻ = f(x⁻) (two forwards), g⁺ = g(f⁺), g⁻ = g(f⁻);
///   4. y⁺ = h(t(x⁺)), t ~ strong, under no-grad with h in train mode (BN batch statistics and
///      running-stat update);
///   5. L_EBM = mean e⁺ − mean e⁻ + α (mean e⁺² + mean e⁻²) − β mean cos(g⁺, y⁺)   (clel::ebm_loss);
///   6. L_LE = NT-Xent(h(t(x⁺ ‖ x⁺)) as one BN batch of 2n views, extra negatives sg(g⁻), τ)
///      (clel::nt_xent);
///   7. one backward of L_EBM + L_LE; Adam steps θ = (f, g), SGD steps φ = h. The losses share no
///      gradient path (y⁺ no-grad, g⁻ detached).
///
/// Evaluation uses the EMA model (`averaged_model()`, kept in eval mode): the 1-NN probe that picks
/// `best.pt` and `features()` use its encoder h, the long-run chains its marginal energy.
/// Augmentations and chains draw from the device generator, data order and dequantisation from the
/// CPU one (basic_trainer.hpp). A checkpoint holds, besides basic_trainer's fields: `model` (the
/// live Clel), `ema` (the averaged Clel, the same layout: both EMA networks), `optimizer_ebm`,
/// `optimizer_encoder`, `buffer` and `lr_scale` (the product of rollback scalings).
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/archive.h>

#include "cebm/sampling/persistent_langevin.hpp"
#include "cebm/torch/losses/clel_ebm_loss.hpp"
#include "cebm/torch/clel/ema.hpp"
#include "cebm/torch/losses/nt_xent.hpp"
#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/train/clel_trainer_options.hpp"
#include "cebm/torch/train/module_trainer.hpp"

namespace cebm::train {

class clel_trainer : public module_trainer<clel_trainer, clel_trainer_options, models::Clel> {
  using base = module_trainer<clel_trainer, clel_trainer_options, models::Clel>;

 public:
  /// `model` must take the images of `train` after `o.input()` (channels and size), e.g.
  /// models::Clel(o.model()) with the model options' geometry set from the data.
  clel_trainer(models::Clel model, data::image_dataset train, clel_trainer_options o, std::uint64_t seed,
               at::Device device = at::kCPU, std::string config_json = "")
      : base(std::move(model), train, std::move(o), seed, device, std::move(config_json)),
        ema_(model_, o_.ema()),
        ebm_optimizer_(model_->ebm_parameters(),
                       torch::optim::AdamOptions(o_.ebm_lr_at(0)).betas(std::make_tuple(o_.ebm_beta1(), o_.ebm_beta2()))),
        encoder_optimizer_(model_->encoder_parameters(), torch::optim::SGDOptions(o_.encoder_lr_at(0))
                                                             .momentum(o_.encoder_momentum())
                                                             .weight_decay(o_.encoder_weight_decay())),
        buffer_(o_.buffer(), base::sample_shape(train, o_.input()), at::TensorOptions().device(device), sample_gen_),
        augment_(data::augmentation_policy::strong(model_->options().image_size())) {
    if (o_.batch_size() < 2)
      throw std::invalid_argument("cebm::train::clel_trainer: batch_size must be at least 2 (batch norm, NT-Xent), got " +
                                  std::to_string(o_.batch_size()));
    check_geometry(base::sample_shape(train, o_.input()));
    ema_.module()->eval();
    buffer_.set_augmentation(augment_);
  }

  /// The EMA copy of f, g and h (eval mode): what evaluation uses.
  models::Clel averaged_model() const { return ema_.module(); }
  torch::optim::Adam& ebm_optimizer() { return ebm_optimizer_; }
  torch::optim::SGD& encoder_optimizer() { return encoder_optimizer_; }
  /// The learning rates the last (or next, before any step) update used.
  double ebm_lr() const { return static_cast<const torch::optim::AdamOptions&>(ebm_optimizer_.param_groups()[0].options()).lr(); }
  double encoder_lr() const {
    return static_cast<const torch::optim::SGDOptions&>(encoder_optimizer_.param_groups()[0].options()).lr();
  }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  replay_buffer& buffer() { return buffer_; }
  at::Tensor representation(const at::Tensor& x) { return ema_.module()->representation(x); }
  at::Tensor sampling_energy(const at::Tensor& x) { return ema_.module()->energy(x); }
  std::vector<at::Tensor> replicated_state() {
    std::vector<at::Tensor> state = model_->parameters();
    for (const auto& m : {model_, ema_.module()}) {
      if (m.get() != model_.get())
        for (const auto& p : m->parameters()) state.push_back(p);
      for (const auto& b : m->buffers()) state.push_back(b);
    }
    return state;
  }

  bool train_step(std::string& why) {
    const std::int64_t s = iteration_;
    synchronize_buffers();  // before the EMA copies them
    ema_.update(model_, s);
    set_learning_rates(s);
    model_->train();

    const at::Tensor x_pos = next_input();
    // The networks f, g and h under the precision policy; energies, chains and losses in float32.
    auto energy = [this](const at::Tensor& x) { return in_precision([&] { return model_->energy(x); }); };
    const langevin_result chains = persistent_langevin(buffer_, energy, x_pos.size(0), o_.sgld(), sample_gen_);

    auto f = [this](const at::Tensor& x) { return in_precision([&] { return model_->features(x); }); };
    auto g = [this](const at::Tensor& x) { return in_precision([&] { return model_->ebm_g()->forward(x); }); };
    auto h = [this](const at::Tensor& x) { return in_precision([&] { return model_->representation(x); }); };
    const at::Tensor f_pos = f(x_pos), f_neg = f(chains.samples);
    const at::Tensor g_pos = g(f_pos), g_neg = g(f_neg);
    at::Tensor y_pos;
    {
      c10::NoGradGuard no_grad;
      y_pos = h(augment_(x_pos, sample_gen_));
    }
    const clel::ebm_loss_terms ebm = clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, model_->options().beta(), o_.loss());
    const at::Tensor views = h(augment_(at::cat({x_pos, x_pos}), sample_gen_));
    const at::Tensor encoder_loss = clel::nt_xent(views, g_neg.detach(), o_.temperature());
    const at::Tensor total = ebm.loss + encoder_loss;

    const double loss = total.item<double>();  // the divergence guard's one read per iteration
    if (!loss_is_sane(loss, why)) return false;
    ebm_optimizer_.zero_grad();
    encoder_optimizer_.zero_grad();
    scaled_loss(total).backward();
    average_gradients();
    if (unscale_gradients()) {
      ebm_optimizer_.step();
      encoder_optimizer_.step();
    }
    last_step_ = {loss, ebm, encoder_loss.detach(), chains.diagnostics, f_pos.detach(), f_neg.detach()};
    last_step_.ebm.loss = ebm.loss.detach();  // keep the values, not the graph
    return true;
  }

  std::map<std::string, double> step_values() const {
    std::map<std::string, double> row = last_step_.chains.to_map();
    row["loss"] = last_step_.loss;
    row["loss_ebm"] = last_step_.ebm.loss.item<double>();
    row["loss_encoder"] = last_step_.encoder_loss.item<double>();
    row["energy_pos"] = last_step_.ebm.energy_pos.item<double>();
    row["energy_neg"] = last_step_.ebm.energy_neg.item<double>();
    row["gap"] = row["energy_pos"] - row["energy_neg"];
    row["regularizer"] = last_step_.ebm.regularizer.item<double>();
    row["alignment"] = last_step_.ebm.alignment.item<double>();
    row["lr_ebm"] = ebm_lr();
    row["lr_encoder"] = encoder_lr();
    return row;
  }

  /// The last step's marginal energies ½‖f(x)‖² of the data batch and of the chains' samples.
  std::map<std::string, at::Tensor> step_distributions() const {
    if (!last_step_.f_pos.defined()) return {};
    return {{"data", 0.5 * last_step_.f_pos.square().sum(1)}, {"samples", 0.5 * last_step_.f_neg.square().sum(1)}};
  }

  std::string progress_text(const std::map<std::string, double>& r) const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "L_EBM %.4g  L_LE %.4g  e+ %.4g  e- %.4g  cos %.3f  |de/dx| %.3g", r.at("loss_ebm"),
                  r.at("loss_encoder"), r.at("energy_pos"), r.at("energy_neg"), r.at("alignment"),
                  r.count("grad_norm") ? r.at("grad_norm") : NAN);
    return buf;
  }

  void scale_learning_rates(double factor) { lr_scale_ *= factor; }

  void save_state(torch::serialize::OutputArchive& a) {
    save_module(a, "ema", ema_, "optimizer_ebm", ebm_optimizer_, "optimizer_encoder", encoder_optimizer_, "buffer", buffer_);
    a.write("lr_scale", at::tensor(lr_scale_, at::kDouble), true);
  }
  void load_state(torch::serialize::InputArchive& a) {
    load_module(a, "ema", ema_, "optimizer_ebm", ebm_optimizer_, "optimizer_encoder", encoder_optimizer_, "buffer", buffer_);
    ema_.module()->to(device_);
    at::Tensor scale;
    a.read("lr_scale", scale, true);
    lr_scale_ = scale.item<double>();
  }

 private:
  void check_geometry(const std::vector<std::int64_t>& shape) const {
    const auto& mo = model_->options();
    if (shape[0] != mo.in_channels() || shape[1] != mo.image_size() || shape[2] != mo.image_size())
      throw std::invalid_argument("cebm::train::clel_trainer: the model takes " + std::to_string(mo.in_channels()) + "x" +
                                  std::to_string(mo.image_size()) + "x" + std::to_string(mo.image_size()) +
                                  " images, the data (after the input options) are " + std::to_string(shape[0]) + "x" +
                                  std::to_string(shape[1]) + "x" + std::to_string(shape[2]));
  }

  void set_learning_rates(std::int64_t s) {
    for (auto& group : ebm_optimizer_.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr_scale_ * o_.ebm_lr_at(s));
    for (auto& group : encoder_optimizer_.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr_scale_ * o_.encoder_lr_at(s));
  }

  /// One iteration's values, kept as 0-dim tensors until a row needs them.
  struct step_result {
    double loss = 0;
    clel::ebm_loss_terms ebm;
    at::Tensor encoder_loss;
    langevin_diagnostics chains;
    at::Tensor f_pos, f_neg;  ///< f(x) of the data batch and of the chains' samples, detached
  };

  clel::ema<models::Clel> ema_;
  torch::optim::Adam ebm_optimizer_;
  torch::optim::SGD encoder_optimizer_;
  replay_buffer buffer_;
  data::augmentation_policy augment_;
  double lr_scale_ = 1.0;
  step_result last_step_;
};

}  // namespace cebm::train
