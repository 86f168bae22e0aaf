// The kinds train_cebm trains with the Langevin trainer: the conjugate EBM of every shipped family
// (fixed bias and learned mixture; the Gaussian's are the published CEBM and GMM-CEBM), IGEBM and
// the Gaussian–Bernoulli harmonium. Their trainers and evaluations are instantiated here, in one
// translation unit: the code they share (trainer, sampler, encoder, evaluation sections) is then
// compiled once, and each further model adds seconds.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cebm/families/bernoulli.hpp"
#include "cebm/families/categorical.hpp"
#include "cebm/families/gamma.hpp"
#include "cebm/families/gaussian.hpp"
#include "cebm/families/poisson.hpp"
#include "cebm/families/von_mises_fisher.hpp"
#include "cebm/torch/models/harmonium.hpp"
#include "cebm/torch/models/igebm.hpp"
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

void add_igebm(model_registry& r) {
  r.add(ebm_model<models::Igebm>(
      "igebm", "IGEBM: the CEBM trunk with an MLP and a scalar energy (Du & Mordatch 2019)",
      [](const nlohmann::json& j) {
        return models::Igebm(models::igebm_options{}.trunk(
            options_json::from_json(j.value("trunk", nlohmann::json::object()), nn::conv_encoder_options::mnist())));
      },
      [](const data::image_geometry& g, const std::string&) {
        return nlohmann::json{{"trunk", options_json::to_json(encoder_for(g))}};
      },
      [](const std::string& preset, const std::string& dataset) { return paper_ebm_options(preset, "igebm", dataset); }));
}

void add_harmonium(model_registry& r) {
  r.add(ebm_model<models::Harmonium<gaussian, bernoulli>>(
      "harmonium", "Gaussian-Bernoulli harmonium (RBM), pixels x 128 hidden (CEBM appendix A)",
      [](const nlohmann::json& j) {
        return models::Harmonium<gaussian, bernoulli>(
            models::harmonium_options{}.visible(j.value("visible", std::int64_t{784})).hidden(j.value("hidden", std::int64_t{128})),
            std::vector<double>{0.0, -0.5});
      },
      [](const data::image_geometry& g, const std::string&) {
        return nlohmann::json{{"visible", g.channels * g.size * g.size}, {"hidden", 128}};
      },
      [](const std::string& preset, const std::string& dataset) { return paper_ebm_options(preset, "harmonium", dataset); }));
}

}  // namespace cebm::programs::shipped
