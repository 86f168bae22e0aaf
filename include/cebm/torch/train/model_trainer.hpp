#pragma once
/// @file
/// `model_trainer<Derived, Options, Model>`: a module_trainer (one torch module: its kind,
/// parameters, buffers and replicated state) with one Adam optimiser over all its parameters
/// (`Options`: run_options plus lr, beta1, beta2). It adds what every such trainer repeats: the
/// representation, the learning-rate scaling of a rollback, and checkpoints (`model`,
/// `optimizer`). A trainer on it writes only its step and its metrics:
///
///   class my_trainer : public model_trainer<my_trainer, my_options, MyModel> {
///    public:
///     using model_trainer::model_trainer;
///     bool train_step(std::string& why) {
///       const at::Tensor x = begin_step();
///       loss_ = my_loss(model(), x);
///       return descend(loss_, why);
///     }
///     std::map<std::string, double> step_values() const { return {{"loss", loss_.item<double>()}}; }
///    private:
///     at::Tensor loss_;
///   };
///
/// State of its own (a replay buffer) goes into the checkpoint through `save_extra(archive)` and
/// `load_extra(archive)`, which Derived may define.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>

#include "cebm/torch/train/detail/adam_learning_rate.hpp"
#include "cebm/torch/train/module_trainer.hpp"

namespace cebm::train {

template <class Derived, class Options, class Model>
class model_trainer : public module_trainer<Derived, Options, Model> {
  using base = module_trainer<Derived, Options, Model>;

 public:
  model_trainer(Model model, const data::image_dataset& train, Options o, std::uint64_t seed, at::Device device = at::kCPU,
                std::string config_json = "")
      : base(std::move(model), train, std::move(o), seed, device, std::move(config_json)),
        optimizer_(this->model_->parameters(),
                   torch::optim::AdamOptions(this->o_.lr()).betas(std::make_tuple(this->o_.beta1(), this->o_.beta2()))) {}

  /// The learning rate of the last (or next) update.
  double learning_rate() const { return detail::adam_learning_rate(optimizer_); }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  at::Tensor representation(const at::Tensor& x) { return model_->representation(x); }
  void scale_learning_rates(double factor) { detail::scale_adam_learning_rate(optimizer_, factor); }

  void save_state(torch::serialize::OutputArchive& a) {
    this->save_module(a, "optimizer", optimizer_);
    self().save_extra(a);
  }
  void load_state(torch::serialize::InputArchive& a) {
    this->load_module(a, "optimizer", optimizer_);
    self().load_extra(a);
  }
  /// Derived's own checkpoint state (none here).
  void save_extra(torch::serialize::OutputArchive&) {}
  void load_extra(torch::serialize::InputArchive&) {}

 protected:
  /// The start of an iteration: the model in training mode, module buffers from rank 0, and the
  /// next data batch as model input on the device.
  at::Tensor begin_step() {
    model_->train();
    this->synchronize_buffers();
    return this->next_input();
  }

  /// The end of an iteration: the divergence guard on `loss` (one device read), then backward (of
  /// the scaled loss in fp16), gradients averaged over ranks and one Adam step (skipped in fp16 when
  /// a gradient is not finite). False (with why) when the loss diverged; then nothing is stepped.
  /// `value` receives the loss.
  bool descend(const at::Tensor& loss, std::string& why, double* value = nullptr) {
    const double v = loss.template item<double>();
    if (value) *value = v;
    if (!this->loss_is_sane(v, why)) return false;
    optimizer_.zero_grad();
    this->scaled_loss(loss).backward();
    this->average_gradients();
    if (this->unscale_gradients()) optimizer_.step();
    return true;
  }

  using base::model_;
  torch::optim::Adam optimizer_;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace cebm::train
