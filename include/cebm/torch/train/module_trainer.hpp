#pragma once
/// @file
/// `module_trainer<Derived, Options, Model>`: a basic_trainer around one torch module `Model`
/// (a `torch::nn::ModuleHolder`), whatever networks and optimisers it holds. It supplies what every
/// trainer of one module repeats: the dataset checked against the input options, the module on the
/// run's device, `model()`, the model's kind (its `kind()`, or a static `kind`), the parameters the
/// optimisers step, the buffers ranks share and the state replicated at start (parameters and
/// buffers), checkpoints of the module with named parts (`save_module`, `load_module`), and the
/// run's record of itself (its kind, options and seed in config.json and every checkpoint, given a
/// configuration or not: train/recorded_config.hpp).
/// Derived writes its optimisers, its step and its metrics.
/// `model_trainer` adds one Adam optimiser over all parameters; the BIGAN and CLEL trainers build
/// on this directly.
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/serialize/archive.h>

#include "cebm/torch/train/basic_trainer.hpp"
#include "cebm/torch/train/recorded_config.hpp"

namespace cebm::train {

namespace detail {
template <class M, class = void>
struct has_kind_function : std::false_type {};
template <class M>
struct has_kind_function<M, std::void_t<decltype(std::declval<const M&>().kind())>> : std::true_type {};
}  // namespace detail

template <class Derived, class Options, class Model>
class module_trainer : public basic_trainer<Derived, Options> {
  using base = basic_trainer<Derived, Options>;

 public:
  module_trainer(Model model, const data::image_dataset& train, Options o, std::uint64_t seed,
                 at::Device device = at::kCPU, std::string config_json = "")
      : base(train, std::move(o), seed, device, std::move(config_json)), model_(std::move(model)) {
    base::sample_shape(train, this->o_.input());  // validates the dataset
    model_->to(this->device_);
    // What the run records of itself, whoever drives it (train/recorded_config.hpp).
    this->config_ = recorded_config(this->config_, this->o_, *model_, model_kind(), seed);
  }

  Model& model() { return model_; }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  std::string model_kind() const {
    if constexpr (detail::has_kind_function<typename Model::ContainedType>::value) return model_->kind();
    else return Model::ContainedType::kind;
  }
  std::vector<at::Tensor> trained_parameters() { return model_->parameters(); }
  std::vector<at::Tensor> module_buffers() { return model_->buffers(); }
  std::vector<at::Tensor> replicated_state() { return detail::parameters_and_buffers(*model_); }

 protected:
  /// The module as the checkpoint's `model`, then each part (an optimiser, a replay buffer, an EMA:
  /// anything with `save(OutputArchive&)`) under its name: save_module(a, "optimizer", optimizer_).
  template <class... Parts>
  void save_module(torch::serialize::OutputArchive& a, Parts&... parts) {
    write_parts(a, "model", *model_, parts...);
  }
  /// What save_module wrote, with the same parts: the module first, moved to the run's device.
  template <class... Parts>
  void load_module(torch::serialize::InputArchive& a, Parts&... parts) {
    read_parts(a, "model", *model_);
    model_->to(this->device_);
    read_parts(a, parts...);
  }

  Model model_;

 private:
  static void write_parts(torch::serialize::OutputArchive&) {}
  template <class Part, class... Rest>
  static void write_parts(torch::serialize::OutputArchive& a, const char* name, Part& part, Rest&... rest) {
    torch::serialize::OutputArchive sub;
    part.save(sub);
    a.write(name, sub);
    write_parts(a, rest...);
  }
  static void read_parts(torch::serialize::InputArchive&) {}
  template <class Part, class... Rest>
  static void read_parts(torch::serialize::InputArchive& a, const char* name, Part& part, Rest&... rest) {
    torch::serialize::InputArchive sub;
    a.read(name, sub);
    part.load(sub);
    read_parts(a, rest...);
  }
};

}  // namespace cebm::train
