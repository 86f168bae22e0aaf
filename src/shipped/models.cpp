// `cebm::programs::models()`: the registry of the bundled programs, filled with the shipped kinds.
#include "cebm/torch/programs/shipped_models.hpp"

#include "shipped/shipped.hpp"

namespace cebm::programs {

model_registry& models() {
  static model_registry r = [] {
    model_registry m;
    for (auto add : {shipped::add_gaussian, shipped::add_bernoulli, shipped::add_categorical, shipped::add_poisson,
                     shipped::add_gamma, shipped::add_von_mises_fisher, shipped::add_igebm, shipped::add_harmonium,
                     shipped::add_clel, shipped::add_vae, shipped::add_gmm_vae, shipped::add_bigan})
      add(m);
    return m;
  }();
  return r;
}

}  // namespace cebm::programs
