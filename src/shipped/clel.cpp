// The clel kind: trained by train_clel; the registry evaluates it.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/models/reference_layout.hpp"
#include "cebm/torch/programs/evaluate_checkpoint.hpp"
#include "cebm/torch/train/clel_trainer_options.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

namespace {
nn::spherical_ebm_size clel_size(const std::string& size) {
  return size == "small" ? nn::spherical_ebm_size::small
                         : size == "large" ? nn::spherical_ebm_size::large : nn::spherical_ebm_size::base;
}

/// The model a run's config and its sample shape [C, H, W] describe (the size: train_clel's
/// `model_size`, or `model_options.size` as evaluate --model-options gives it for imported weights).
models::clel_options clel_model(const nlohmann::json& config, const std::vector<std::int64_t>& shape) {
  const std::string size = config.value("model_options", nlohmann::json::object()).value("size", config.value("model_size", std::string("base")));
  if (size != "small" && size != "base" && size != "large")
    throw std::invalid_argument("CLEL model size '" + size + "': expected small, base or large");
  return models::clel_options{}
      .size(clel_size(size))
      .in_channels(shape.at(0))
      .image_size(shape.at(1))
      .beta_test(config.value("beta_test", 0.1));
}

}  // namespace

void add_clel(model_registry& r) {
  model_entry e{"clel", "CLEL: spherical latent-variable EBM with a SimCLR encoder (Lee et al. 2023); train_clel", {}, {}, {},
                [](checkpoint_evaluation& job) {
                  const auto o = train::clel_trainer_options::preset(job.recorded_preset());
                  const double beta_test = job.settings.value("beta_test", 0.0);
                  auto m = clel_model(job.config, sample_shape(job));
                  if (beta_test > 0) m.beta_test(beta_test);
                  // Samples as the published FID protocol: 10 rounds of (0.1% restarts, the strong
                  // augmentation, the training sampler's 60 steps) from U[0, 1] (reference notes §3.6).
                  return evaluate_checkpoint(models::Clel(m), job,
                                             {o.input(), o.buffer(), o.sgld(), "ema", true, 10,
                                              data::augmentation_policy::strong(m.image_size())},
                                             "clel");
                }};
  e.make = [](const nlohmann::json& config, const std::vector<std::int64_t>& shape) -> std::shared_ptr<torch::nn::Module> {
    return models::Clel(clel_model(config, shape)).ptr();
  };
  e.reference_layout = models::clel_reference_layout;
  e.score = [](torch::nn::Module& m, const at::Tensor& x) {
    auto& clel = dynamic_cast<models::ClelImpl&>(m);
    return std::make_pair(clel.energy(x), clel.representation(x));  // e(x) = ½‖f(x)‖², h(x)
  };
  e.weights = "ema";
  r.add(std::move(e));
}

}  // namespace cebm::programs::shipped
