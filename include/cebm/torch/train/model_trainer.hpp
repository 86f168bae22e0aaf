#pragma once
/// @file
/// `model_trainer<Derived, Options, Model>`: a basic_trainer for one torch module and one Adam
/// optimiser over all its parameters (`Options`: run_options plus lr, beta1, beta2). It supplies
/// what every such trainer repeats: the model's kind (its `kind()`, or a static `kind`), the
/// parameters the optimiser steps, the buffers and state ranks share, the representation, the
/// learning-rate scaling of a rollback, and checkpoints (`model`, `optimizer`). A trainer on it
/// writes only its step and its metrics:
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
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>

#include "cebm/torch/train/basic_trainer.hpp"
#include "cebm/torch/train/detail/adam_learning_rate.hpp"

namespace cebm::train {

namespace detail {
template <class M, class = void>
struct has_kind_function : std::false_type {};
template <class M>
struct has_kind_function<M, std::void_t<decltype(std::declval<const M&>().kind())>> : std::true_type {};
}  // namespace detail

template <class Derived, class Options, class Model>
class model_trainer : public basic_trainer<Derived, Options> {
  using base = basic_trainer<Derived, Options>;

 public:
  model_trainer(Model model, const data::image_dataset& train, Options o, std::uint64_t seed, at::Device device = at::kCPU,
                std::string config_json = "")
      : base(train, std::move(o), seed, device, std::move(config_json)), model_(std::move(model)),
        optimizer_(model_->parameters(),
                   torch::optim::AdamOptions(this->o_.lr()).betas(std::make_tuple(this->o_.beta1(), this->o_.beta2()))) {
    base::sample_shape(train, this->o_.input());  // validates the dataset
    model_->to(this->device_);
  }

  Model& model() { return model_; }
  /// The learning rate of the last (or next) update.
  double learning_rate() const { return detail::adam_learning_rate(optimizer_); }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  std::string model_kind() const {
    if constexpr (detail::has_kind_function<typename Model::ContainedType>::value) return model_->kind();
    else return Model::ContainedType::kind;
  }
  at::Tensor representation(const at::Tensor& x) { return model_->representation(x); }
  std::vector<at::Tensor> trained_parameters() { return model_->parameters(); }
  std::vector<at::Tensor> module_buffers() { return model_->buffers(); }
  std::vector<at::Tensor> replicated_state() { return detail::parameters_and_buffers(*model_); }
  void scale_learning_rates(double factor) { detail::scale_adam_learning_rate(optimizer_, factor); }

  void save_state(torch::serialize::OutputArchive& a) {
    torch::serialize::OutputArchive m, opt;
    model_->save(m);
    optimizer_.save(opt);
    a.write("model", m);
    a.write("optimizer", opt);
    self().save_extra(a);
  }
  void load_state(torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive m, opt;
    a.read("model", m);
    a.read("optimizer", opt);
    model_->load(m);
    model_->to(this->device_);
    optimizer_.load(opt);
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

  /// The end of an iteration: the divergence guard on `loss` (one device read), then backward,
  /// gradients averaged over ranks and one Adam step. False (with why) when the loss diverged; then
  /// nothing is stepped. `value` receives the loss.
  bool descend(const at::Tensor& loss, std::string& why, double* value = nullptr) {
    const double v = loss.template item<double>();
    if (value) *value = v;
    if (!this->loss_is_sane(v, why)) return false;
    optimizer_.zero_grad();
    loss.backward();
    this->average_gradients();
    optimizer_.step();
    return true;
  }

  Model model_;
  torch::optim::Adam optimizer_;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace cebm::train
