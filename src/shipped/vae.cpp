// The vae and gmm_vae kinds: trained by train_baseline; the registry evaluates them.
#include <cstdint>
#include <string>

#include "cebm/torch/models/vae.hpp"
#include "cebm/torch/programs/evaluate_checkpoint.hpp"
#include "cebm/torch/train/vae_trainer_options.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

namespace {

/// The entry of `Model` (models::Vae or models::GmmVae) under `kind`, evaluated from the run's
/// config and preset; sampled ancestrally.
template <class Model>
model_entry vae_entry(const std::string& kind, const std::string& description) {
  return {kind, description, {}, {}, {}, [kind](checkpoint_evaluation& job) {
            const auto o = train::vae_trainer_options::preset(job.recorded_preset(), kind);
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

void add_vae(model_registry& r) { r.add(vae_entry<models::Vae>("vae", "VAE baseline (Kingma & Welling 2014); train_baseline")); }

void add_gmm_vae(model_registry& r) { r.add(vae_entry<models::GmmVae>("gmm_vae", "GMM-VAE baseline; train_baseline")); }

}  // namespace cebm::programs::shipped
