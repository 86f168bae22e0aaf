#pragma once
/// @file
/// `ebm_trainer<Model>`: persistent contrastive divergence for any energy model with
/// `energy(x) -> [B]` and `representation(x) -> [B, D]` (CEBM, GMM-CEBM, IGEBM):
///
///   x⁺ = data batch in the model's scale (+ noise);  x⁻ = Langevin chains from the replay buffer;
///   L = mean E(x⁺) − mean E(x⁻) + c · R;  Adam step.
///
/// The run directory, the loop, checkpoints, resume and the divergence guard are basic_trainer's,
/// the model's hooks model_trainer's. A checkpoint holds `model`, `optimizer` and `buffer` besides
/// what basic_trainer writes. `best.pt` is chosen by a 1-NN probe of the representation on training
/// images (never the test set).
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <torch/serialize/archive.h>

#include "cebm/sampling/persistent_langevin.hpp"
#include "cebm/torch/data/batch_loader.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"
#include "cebm/torch/train/model_trainer.hpp"

namespace cebm::train {

template <class Model>
class ebm_trainer : public model_trainer<ebm_trainer<Model>, ebm_trainer_options, Model> {
  using base = model_trainer<ebm_trainer<Model>, ebm_trainer_options, Model>;

 public:
  ebm_trainer(Model model, const data::image_dataset& train, ebm_trainer_options o, std::uint64_t seed,
              at::Device device = at::kCPU, std::string config_json = "")
      : base(std::move(model), train, std::move(o), seed, device, std::move(config_json)),
        buffer_(this->o_.buffer(), base::sample_shape(train, this->o_.input()), at::TensorOptions().device(device),
                this->sample_gen_) {}

  // --- the basic_trainer hooks model_trainer leaves ---------------------------------------------
  replay_buffer& buffer() { return buffer_; }
  at::Tensor sampling_energy(const at::Tensor& x) { return this->model_->energy(x); }

  bool train_step(std::string& why) {
    const at::Tensor x_pos = this->begin_step();
    // The network under the precision policy; the energies, the chains and the loss in float32.
    auto energy = [&](const at::Tensor& x) { return this->in_precision([&] { return this->model_->energy(x); }); };
    const langevin_result chains = persistent_langevin(buffer_, energy, x_pos.size(0), this->o_.sgld(), this->sample_gen_);
    const at::Tensor e_pos = energy(x_pos), e_neg = energy(chains.samples);
    const cd_loss cd = contrastive_divergence(e_pos, e_neg, this->o_.loss());
    double loss = 0;
    if (!this->descend(cd.loss, why, &loss)) return false;
    last_step_ = {loss, cd, chains.diagnostics, e_pos.detach(), e_neg.detach()};
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
    row["lr"] = this->learning_rate();
    return row;
  }

  /// The last step's energies of the data batch and of the chains' samples, per sample.
  std::map<std::string, at::Tensor> step_distributions() const {
    return {{"data", last_step_.energies_pos}, {"samples", last_step_.energies_neg}};
  }

  std::string progress_text(const std::map<std::string, double>& r) const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "loss %.4g  E+ %.4g  E- %.4g  gap %.4g  |dE/dx| %.3g", r.at("loss"), r.at("energy_pos"),
                  r.at("energy_neg"), r.at("gap"), r.count("grad_norm") ? r.at("grad_norm") : NAN);
    return buf;
  }

  void save_extra(torch::serialize::OutputArchive& a) {
    torch::serialize::OutputArchive buf;
    buffer_.save(buf);
    a.write("buffer", buf);
  }
  void load_extra(torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive buf;
    a.read("buffer", buf);
    buffer_.load(buf);
  }

 private:
  /// One iteration's values, kept as 0-dim tensors until a row needs them.
  struct step_result {
    double loss = 0;
    cd_loss cd;
    langevin_diagnostics chains;
    at::Tensor energies_pos, energies_neg;  ///< [B], detached
  };

  replay_buffer buffer_;
  step_result last_step_;
};

}  // namespace cebm::train
