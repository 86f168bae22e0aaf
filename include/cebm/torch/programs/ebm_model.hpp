#pragma once
/// @file
/// `ebm_model<Model>`: a registry entry (programs/model_registry.hpp) for a model trained by the
/// Langevin trainer `ebm_trainer`. `Model` is a module holder whose module implements
/// `models::EnergyModelImpl` (energy, representation, kind: ConjugateEbm, Igebm, Harmonium or a
/// user's). The entry trains and evaluates it as a `models::EnergyModel`, through
/// `train_energy_model` and `evaluate_energy_model`: the trainer and the evaluation are compiled
/// once for every such model (in cebm::compiled, or inline in a header-only build), so a
/// registration compiles only its model's own functions.
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cebm/config.hpp"
#include "cebm/torch/eval/aggregate_posterior.hpp"
#include "cebm/torch/io/safetensors.hpp"
#include "cebm/torch/models/energy_model.hpp"
#include "cebm/torch/programs/model_registry.hpp"
#include "cebm/torch/programs/sampling_convention.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"

namespace cebm::programs {

/// Trains `model` with `ebm_trainer<models::EnergyModel>` as `job` asks (records the model and
/// trainer options in the run's config, then runs the training to its end or its stop).
CEBM_INLINE void train_energy_model(models::EnergyModel model, ebm_training& job);

/// `evaluate_checkpoint` (programs/evaluate_checkpoint.hpp) for a model behind
/// `models::EnergyModel`; `aggregate_posterior` gives the KL/MI of a conjugate bias (may be empty).
CEBM_INLINE nlohmann::json evaluate_energy_model(models::EnergyModel model, checkpoint_evaluation& job,
                                                 const sampling_convention& convention, const std::string& kind,
                                                 eval::aggregate_posterior_function aggregate_posterior);

/// The run's trainer options: the stored ones where the run has them, else the preset's.
CEBM_INLINE train::ebm_trainer_options stored_trainer_options(const nlohmann::json& config, train::ebm_trainer_options preset);

/// E(x) and the representation of x by a module that implements `models::EnergyModelImpl`.
inline std::pair<at::Tensor, at::Tensor> score_energy_model(torch::nn::Module& m, const at::Tensor& x) {
  auto& model = dynamic_cast<models::EnergyModelImpl&>(m);
  return {model.energy(x), model.representation(x)};
}

/// An entry for a model trained by `ebm_trainer`. `make(options)` builds the model from its
/// options JSON; `defaults(geometry, dataset)` gives the options for a dataset;
/// `preset(preset, dataset)` the trainer options; `layout`, where given, the names the papers'
/// PyTorch module gives its tensors (models/reference_layout.hpp) for exported and imported
/// weights. A model with a conjugate bias (`bias_family`, `bias()`, `statistics(x)`) gets the
/// aggregate posterior's KL and MI in its evaluation.
template <class Model>
model_entry ebm_model(std::string kind, std::string description,
                      std::function<Model(const nlohmann::json& model_options)> make,
                      std::function<nlohmann::json(const data::image_geometry&, const std::string&)> defaults,
                      std::function<train::ebm_trainer_options(const std::string&, const std::string&)> preset,
                      std::function<io::tensor_layout(const torch::nn::Module&)> layout = {}) {
  using Impl = typename Model::ContainedType;
  static_assert(std::is_base_of_v<models::EnergyModelImpl, Impl>,
                "cebm::programs::ebm_model<Model>: Model's module must derive from cebm::models::EnergyModelImpl "
                "(energy, representation and kind; see cebm/torch/models/energy_model.hpp)");
  model_entry e;
  e.kind = kind;
  e.description = std::move(description);
  e.model_options = defaults;
  e.trainer_options = preset;
  e.train = [make, layout](ebm_training& job) {
    Model model = make(job.model_options);
    if (!job.init_from.empty()) io::load_safetensors(*model, job.init_from, layout ? layout(*model) : io::tensor_layout{});
    train_energy_model(std::move(model), job);
  };
  e.make = [make](const nlohmann::json& config, const std::vector<std::int64_t>&) -> std::shared_ptr<torch::nn::Module> {
    if (!config.contains("model_options")) throw std::invalid_argument("the run records no model options (config.json's \"model_options\")");
    return make(config.at("model_options")).ptr();
  };
  e.reference_layout = std::move(layout);
  e.score = score_energy_model;
  e.evaluate = [make, kind, preset](checkpoint_evaluation& job) {
    if (!job.config.contains("model_options"))
      throw std::invalid_argument(job.path + ": the run records no model options (config.json's \"model_options\"); "
                                  "give the preset it was trained with (evaluate --preset) to take " + kind +
                                  "'s defaults for the dataset");
    // The stored trainer options over their preset's (a run written before an option existed).
    const std::string dataset = job.config.value("dataset", job.data.dataset);
    const bool stored = job.config.contains("trainer_options");
    const auto o = stored_trainer_options(job.config, stored && !job.config.contains("preset")
                                                          ? train::ebm_trainer_options{}
                                                          : preset(job.recorded_preset(), dataset));
    Model model = make(job.config.at("model_options"));
    return evaluate_energy_model(model, job, {o.input(), o.buffer(), o.sgld(), "model", true}, kind,
                                 eval::aggregate_posterior_of(model.ptr()));
  };
  return e;
}

}  // namespace cebm::programs

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/programs/ebm_model_impl.hpp"
#endif
