// The clel kind: trained by train_clel; the registry evaluates it.
#include <cstdint>
#include <string>

#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/programs/evaluate_checkpoint.hpp"
#include "cebm/torch/train/clel_trainer_options.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

namespace {
nn::spherical_ebm_size clel_size(const std::string& size) {
  return size == "small" ? nn::spherical_ebm_size::small
                         : size == "large" ? nn::spherical_ebm_size::large : nn::spherical_ebm_size::base;
}

}  // namespace

void add_clel(model_registry& r) {
  r.add({"clel", "CLEL: spherical latent-variable EBM with a SimCLR encoder (Lee et al. 2023); train_clel", {}, {}, {},
         [](checkpoint_evaluation& job) {
           const auto o = train::clel_trainer_options::preset(job.recorded_preset());
           const auto shape = stored_sample_shape(*job.archive, job.path);
           const double beta_test = job.settings.value("beta_test", 0.0);
           const auto m = models::clel_options{}
                              .size(clel_size(job.config.value("model_size", std::string("base"))))
                              .in_channels(shape.at(0))
                              .image_size(shape.at(1))
                              .beta_test(beta_test > 0 ? beta_test : job.config.value("beta_test", 0.1));
           // Samples as the published FID protocol: 10 rounds of (0.1% restarts, the strong
           // augmentation, the training sampler's 60 steps) from U[0, 1] (reference notes §3.6).
           return evaluate_checkpoint(models::Clel(m), job,
                                      {o.input(), o.buffer(), o.sgld(), "ema", true, 10,
                                       data::augmentation_policy::strong(m.image_size())},
                                      "clel");
         }});
}

}  // namespace cebm::programs::shipped
