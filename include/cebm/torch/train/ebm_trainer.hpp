#pragma once
/// @file
/// `ebm_trainer<Model>`: persistent contrastive divergence for any energy model with
/// `energy(x) -> [B]` and `representation(x) -> [B, D]` (CEBM, GMM-CEBM, IGEBM):
///
///   x⁺ = data batch in the model's scale (+ noise);  x⁻ = Langevin chains from the replay buffer;
///   L = mean E(x⁺) − mean E(x⁻) + c · R;  Adam step.
///
/// The run directory, the loop, checkpoints, resume and the divergence guard are basic_trainer's
/// (basic_trainer.hpp). A checkpoint holds `model`, `optimizer` and `buffer` besides what
/// basic_trainer writes. `best.pt` is chosen by a 1-NN probe of the representation on training
/// images (never the test set).
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>

#include "cebm/sampling/persistent_langevin.hpp"
#include "cebm/torch/data/batch_loader.hpp"
#include "cebm/torch/train/basic_trainer.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"
#include "cebm/torch/train/detail/adam_learning_rate.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"

namespace cebm::train {

namespace detail {
template <class M, class = void>
struct has_kind_function : std::false_type {};
template <class M>
struct has_kind_function<M, std::void_t<decltype(std::declval<const M&>().kind())>> : std::true_type {};
}  // namespace detail

template <class Model>
class ebm_trainer : public basic_trainer<ebm_trainer<Model>, ebm_trainer_options> {
  using base = basic_trainer<ebm_trainer<Model>, ebm_trainer_options>;

 public:
  ebm_trainer(Model model, data::image_dataset train, ebm_trainer_options o, std::uint64_t seed,
              at::Device device = at::kCPU, std::string config_json = "")
      : base(train, std::move(o), seed, device, std::move(config_json)), model_(std::move(model)),
        optimizer_(model_->parameters(),
                   torch::optim::AdamOptions(this->o_.lr()).betas(std::make_tuple(this->o_.beta1(), this->o_.beta2()))),
        buffer_(this->o_.buffer(), base::sample_shape(train, this->o_.input()), at::TensorOptions().device(device),
                this->sample_gen_) {
    model_->to(this->device_);
  }

  Model& model() { return model_; }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  /// The model's kind: its `kind()` (ConjugateEbm: from family, map and bias) or static `kind`.
  std::string model_kind() const {
    if constexpr (detail::has_kind_function<typename Model::ContainedType>::value) return model_->kind();
    else return Model::ContainedType::kind;
  }
  replay_buffer& buffer() { return buffer_; }
  at::Tensor representation(const at::Tensor& x) { return model_->representation(x); }
  at::Tensor sampling_energy(const at::Tensor& x) { return model_->energy(x); }
  std::vector<at::Tensor> trained_parameters() { return model_->parameters(); }
  std::vector<at::Tensor> module_buffers() { return model_->buffers(); }
  std::vector<at::Tensor> replicated_state() { return detail::parameters_and_buffers(*model_); }

  bool train_step(std::string& why) {
    model_->train();
    this->synchronize_buffers();
    const data::image_batch batch = this->loader_.next(this->shuffle_gen_);
    const at::Tensor x_pos = data::to_model_input(batch.images, this->o_.input(), this->data_gen_).to(this->device_);
    auto energy = [&](const at::Tensor& x) { return model_->energy(x); };
    const langevin_result chains = persistent_langevin(buffer_, energy, x_pos.size(0), this->o_.sgld(), this->sample_gen_);
    const cd_loss cd = contrastive_divergence(model_->energy(x_pos), model_->energy(chains.samples), this->o_.loss());
    const double loss = cd.loss.template item<double>();  // the divergence guard's one read per iteration
    if (!this->loss_is_sane(loss, why)) return false;
    optimizer_.zero_grad();
    cd.loss.backward();
    this->average_gradients();
    optimizer_.step();
    this->last_data_ = x_pos.detach();
    last_step_ = {loss, cd, chains.diagnostics};
    last_step_.cd.loss = cd.loss.detach();  // keep the values, not the graph
    return true;
  }

  std::map<std::string, double> step_values() const {
    std::map<std::string, double> row = last_step_.chains.to_map();
    row["loss"] = last_step_.loss;
    row["energy_pos"] = last_step_.cd.energy_pos.template item<double>();
    row["energy_neg"] = last_step_.cd.energy_neg.template item<double>();
    row["gap"] = last_step_.cd.gap.template item<double>();
    row["regularizer"] = last_step_.cd.regularizer.template item<double>();
    row["lr"] = current_lr();
    return row;
  }

  std::string progress_text(const std::map<std::string, double>& r) const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "loss %.4g  E+ %.4g  E- %.4g  gap %.4g  |dE/dx| %.3g", r.at("loss"), r.at("energy_pos"),
                  r.at("energy_neg"), r.at("gap"), r.count("grad_norm") ? r.at("grad_norm") : NAN);
    return buf;
  }

  void scale_learning_rates(double factor) { detail::scale_adam_learning_rate(optimizer_, factor); }

  void save_state(torch::serialize::OutputArchive& a) {
    torch::serialize::OutputArchive m, opt, buf;
    model_->save(m);
    optimizer_.save(opt);
    buffer_.save(buf);
    a.write("model", m);
    a.write("optimizer", opt);
    a.write("buffer", buf);
  }

  void load_state(torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive m, opt, buf;
    a.read("model", m);
    a.read("optimizer", opt);
    a.read("buffer", buf);
    model_->load(m);
    model_->to(this->device_);
    optimizer_.load(opt);
    buffer_.load(buf);
  }

 private:
  double current_lr() const { return detail::adam_learning_rate(optimizer_); }

  /// One iteration's values, kept as 0-dim tensors until a row needs them.
  struct step_result {
    double loss = 0;
    cd_loss cd;
    langevin_diagnostics chains;
  };

  Model model_;
  torch::optim::Adam optimizer_;
  replay_buffer buffer_;
  step_result last_step_;
};

}  // namespace cebm::train
