// The kinds other programs train and the registry evaluates: CLEL (train_clel), the VAE, GMM-VAE
// and BIGAN baselines (train_baseline), in one translation unit.
#include <cstdint>
#include <string>

#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/models/bigan.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/models/vae.hpp"
#include "cebm/torch/programs/ebm_model.hpp"
#include "cebm/torch/train/bigan_trainer_options.hpp"
#include "cebm/torch/train/clel_trainer_options.hpp"
#include "cebm/torch/train/vae_trainer_options.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

namespace {
nn::spherical_ebm_size clel_size(const std::string& size) {
  return size == "small" ? nn::spherical_ebm_size::small
                         : size == "large" ? nn::spherical_ebm_size::large : nn::spherical_ebm_size::base;
}

/// The entry of `Model` (models::Vae or models::GmmVae) under `kind`, evaluated from the run's
/// config and preset; sampled ancestrally.
template <class Model>
model_entry vae_entry(const std::string& kind, const std::string& description) {
  return {kind, description, {}, {}, {}, [kind](checkpoint_evaluation& job) {
            const auto o = train::vae_trainer_options::preset(job.config.value("preset", std::string("paper")), kind);
            const std::int64_t latent = job.config.value("latent_dim", std::int64_t{128});
            const bool colour = job.data.test.channels() == 3;
            const auto m = (colour ? models::vae_options::cifar(latent) : models::vae_options::mnist(latent))
                               .components(job.config.value("components", std::int64_t{50}))
                               .importance(variational::importance_options{}.samples(job.settings.value("is_samples", std::int64_t{1000})))
                               .seed(job.options.seed());
            return evaluate_checkpoint(Model(m), job, {o.input(), {}, {}, "model", false}, kind);
          }};
}

}  // namespace

void add_clel(model_registry& r) {
  r.add({"clel", "CLEL: spherical latent-variable EBM with a SimCLR encoder (Lee et al. 2023); train_clel", {}, {}, {},
         [](checkpoint_evaluation& job) {
           const auto o = train::clel_trainer_options::preset(job.config.value("preset", std::string("paper")));
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

void add_vae(model_registry& r) { r.add(vae_entry<models::Vae>("vae", "VAE baseline (Kingma & Welling 2014); train_baseline")); }

void add_gmm_vae(model_registry& r) { r.add(vae_entry<models::GmmVae>("gmm_vae", "GMM-VAE baseline; train_baseline")); }

void add_bigan(model_registry& r) {
  r.add({"bigan", "BIGAN baseline (Donahue et al. 2017); train_baseline", {}, {}, {}, [](checkpoint_evaluation& job) {
           const auto o = train::bigan_trainer_options::preset(job.config.value("preset", std::string("paper")));
           return evaluate_checkpoint(models::Bigan(models::bigan_options::mnist(job.config.value("latent_dim", std::int64_t{128}))),
                                      job, {o.input(), {}, {}, "model", false}, "bigan");
         }});
}

}  // namespace cebm::programs::shipped
