// IGEBM and the Gaussian-Bernoulli harmonium: the other models train_cebm trains with the Langevin
// trainer, as models::EnergyModel (whose trainer and evaluation cebm::compiled holds).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cebm/families/bernoulli.hpp"
#include "cebm/families/gaussian.hpp"
#include "cebm/torch/models/harmonium.hpp"
#include "cebm/torch/models/igebm.hpp"
#include "cebm/torch/models/reference_layout.hpp"
#include "cebm/torch/programs/conjugate_ebm_entry.hpp"
#include "cebm/torch/train/options_json.hpp"
#include "shipped/shipped.hpp"

namespace cebm::programs::shipped {

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
      [](const std::string& preset, const std::string& dataset) { return paper_ebm_options(preset, "igebm", dataset); },
      models::igebm_reference_layout));
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
