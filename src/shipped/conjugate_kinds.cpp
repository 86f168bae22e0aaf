// The conjugate EBM of every shipped family, with a fixed bias and with a learned mixture (the
// Gaussian's are the published CEBM and GMM-CEBM). They train and evaluate as models::EnergyModel,
// whose trainer and evaluation cebm::compiled holds: this unit compiles the models alone.
#include <string>

#include "cebm/families/bernoulli.hpp"
#include "cebm/families/categorical.hpp"
#include "cebm/families/gamma.hpp"
#include "cebm/families/gaussian.hpp"
#include "cebm/families/poisson.hpp"
#include "cebm/families/von_mises_fisher.hpp"
#include "cebm/torch/programs/conjugate_ebm_entry.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

void add_gaussian(model_registry& r) {
  r.add(conjugate_ebm_entry<gaussian>("CEBM: Gaussian bias N(0, 1), t = (t1, -r^2) (Wu et al. 2021)"));
  r.add(conjugate_ebm_entry<gaussian>("GMM-CEBM: learned mixture of Gaussians (Wu et al. 2021)", true));
}

void add_bernoulli(model_registry& r) {
  r.add(conjugate_ebm_entry<bernoulli>(std::string("Bernoulli latents, ") + fixed_bias));
  r.add(conjugate_ebm_entry<bernoulli>(std::string("Bernoulli latents, ") + learned_mixture, true));
}

void add_categorical(model_registry& r) {
  r.add(conjugate_ebm_entry<categorical<10>>(std::string("10-class categorical latents, ") + fixed_bias));
  r.add(conjugate_ebm_entry<categorical<10>>(std::string("10-class categorical latents, ") + learned_mixture, true));
}

void add_poisson(model_registry& r) {
  r.add(conjugate_ebm_entry<poisson>(std::string("Poisson latents, log-rate within ±log 10, ") + fixed_bias));
  r.add(conjugate_ebm_entry<poisson>(std::string("Poisson latents, ") + learned_mixture, true));
}

void add_gamma(model_registry& r) {
  r.add(conjugate_ebm_entry<gamma>(std::string("Gamma latents, shape and rate above 1 - log 2, ") + fixed_bias));
  r.add(conjugate_ebm_entry<gamma>(std::string("Gamma latents, ") + learned_mixture, true));
}

void add_von_mises_fisher(model_registry& r) {
  r.add(conjugate_ebm_entry<von_mises_fisher>(std::string("a von Mises-Fisher direction on S^127, uniform ") + fixed_bias));
  r.add(conjugate_ebm_entry<von_mises_fisher>(std::string("von Mises-Fisher directions, ") + learned_mixture, true));
}

}  // namespace cebm::programs::shipped
