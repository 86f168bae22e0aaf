// The bigan kind: trained by train_baseline; the registry evaluates it.
#include <cstdint>
#include <string>

#include "cebm/torch/models/bigan.hpp"
#include "cebm/torch/programs/evaluate_checkpoint.hpp"
#include "cebm/torch/train/bigan_trainer_options.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

void add_bigan(model_registry& r) {
  r.add({"bigan", "BIGAN baseline (Donahue et al. 2017); train_baseline", {}, {}, {}, [](checkpoint_evaluation& job) {
           const auto o = train::bigan_trainer_options::preset(job.recorded_preset());
           return evaluate_checkpoint(models::Bigan(models::bigan_options::mnist(job.config.value("latent_dim", std::int64_t{128}))),
                                      job, {o.input(), {}, {}, "model", false}, "bigan");
         }});
}

}  // namespace cebm::programs::shipped
