#pragma once
/// @file
/// `vae_trainer<Model>`: maximum-ELBO training of a VAE or GMM-VAE (models/vae.hpp),
///
///   x = data batch in [0, 1];  L = −mean ELBO(x) (one reparameterised draw per image);  Adam step,
///
/// with the GMM prior's means and log-stds in the same optimiser. The run directory, loop,
/// checkpoints, resume, probe, data-parallel training and divergence guard are basic_trainer's;
/// `samples/samples.png` shows ancestral samples of fixed latents. A checkpoint holds `model` and
/// `optimizer` besides what basic_trainer writes.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>

#include "cebm/torch/train/basic_trainer.hpp"
#include "cebm/torch/variational/elbo.hpp"
#include "cebm/torch/train/detail/adam_learning_rate.hpp"
#include "cebm/torch/train/vae_trainer_options.hpp"

namespace cebm::train {

template <class Model>
class vae_trainer : public basic_trainer<vae_trainer<Model>, vae_trainer_options> {
  using base = basic_trainer<vae_trainer<Model>, vae_trainer_options>;

 public:
  vae_trainer(Model model, data::image_dataset train, vae_trainer_options o, std::uint64_t seed, at::Device device = at::kCPU,
              std::string config_json = "")
      : base(train, std::move(o), seed, device, std::move(config_json)), model_(std::move(model)),
        optimizer_(model_->parameters(),
                   torch::optim::AdamOptions(this->o_.lr()).betas(std::make_tuple(this->o_.beta1(), this->o_.beta2()))) {
    base::sample_shape(train, this->o_.input());  // validates the dataset
    model_->to(this->device_);
  }

  Model& model() { return model_; }

  // --- the basic_trainer hooks ----------------------------------------------------------------
  static const char* model_kind() { return Model::ContainedType::kind; }
  at::Tensor representation(const at::Tensor& x) { return model_->representation(x); }
  at::Tensor sample_images(std::int64_t n, at::Generator& gen) { return model_->sample(n, gen); }
  std::vector<at::Tensor> trained_parameters() { return model_->parameters(); }
  std::vector<at::Tensor> module_buffers() { return model_->buffers(); }
  std::vector<at::Tensor> replicated_state() { return detail::parameters_and_buffers(*model_); }

  bool train_step(std::string& why) {
    model_->train();
    const data::image_batch batch = this->loader_.next(this->shuffle_gen_);
    const at::Tensor x = data::to_model_input(batch.images, this->o_.input(), this->data_gen_).to(this->device_);
    const variational::elbo_terms terms = model_->elbo(x, this->sample_gen_);
    const at::Tensor loss = -terms.elbo.mean();
    const double value = loss.template item<double>();
    if (!this->loss_is_sane(value, why)) return false;
    optimizer_.zero_grad();
    loss.backward();
    this->average_gradients();
    optimizer_.step();
    this->last_data_ = x.detach();
    last_ = {value, terms.log_likelihood.detach().mean(), terms.kl.detach().mean()};
    return true;
  }

  std::map<std::string, double> step_values() const {
    return {{"loss", last_.loss},
            {"elbo", -last_.loss},
            {"log_likelihood", last_.log_likelihood.template item<double>()},
            {"kl", last_.kl.template item<double>()},
            {"lr", detail::adam_learning_rate(optimizer_)}};
  }

  std::string progress_text(const std::map<std::string, double>& r) const {
    char buf[120];
    std::snprintf(buf, sizeof buf, "ELBO %.5g  log p(x|z) %.5g  KL %.4g", r.at("elbo"), r.at("log_likelihood"), r.at("kl"));
    return buf;
  }

  void scale_learning_rates(double factor) { detail::scale_adam_learning_rate(optimizer_, factor); }

  void save_state(torch::serialize::OutputArchive& a) {
    torch::serialize::OutputArchive m, opt;
    model_->save(m);
    optimizer_.save(opt);
    a.write("model", m);
    a.write("optimizer", opt);
  }

  void load_state(torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive m, opt;
    a.read("model", m);
    a.read("optimizer", opt);
    model_->load(m);
    model_->to(this->device_);
    optimizer_.load(opt);
  }

 private:
  struct step_result {
    double loss = 0;
    at::Tensor log_likelihood = at::zeros({}), kl = at::zeros({});
  };

  Model model_;
  torch::optim::Adam optimizer_;
  step_result last_;
};

}  // namespace cebm::train
