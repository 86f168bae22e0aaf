#pragma once
/// @file
/// The definitions of programs/ebm_model.hpp's functions: inline in a header-only build, compiled
/// once in cebm::compiled otherwise (config.hpp, CEBM_COMPILED).
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cebm/torch/programs/ebm_model.hpp"
#include "cebm/torch/programs/evaluate_checkpoint.hpp"
#include "cebm/torch/train/ebm_trainer.hpp"
#include "cebm/torch/train/options_json.hpp"

namespace cebm::programs {

CEBM_INLINE void train_energy_model(models::EnergyModel model, ebm_training& job) {
  job.config["model_options"] = job.model_options;
  job.config["trainer_options"] = options_json::to_json(job.options);
  train::ebm_trainer<models::EnergyModel> trainer(std::move(model), job.train, job.options, job.seed, job.device,
                                                  job.config.dump(2));
  train::drive(trainer, job.run);
}

CEBM_INLINE train::ebm_trainer_options stored_trainer_options(const nlohmann::json& config, train::ebm_trainer_options preset) {
  if (config.contains("trainer_options")) return options_json::from_json(config.at("trainer_options"), std::move(preset));
  return preset;
}

CEBM_INLINE nlohmann::json evaluate_energy_model(models::EnergyModel model, checkpoint_evaluation& job,
                                                 const sampling_convention& convention, const std::string& kind,
                                                 eval::aggregate_posterior_function aggregate_posterior) {
  return evaluate_checkpoint(std::move(model), job, convention, kind, std::move(aggregate_posterior));
}

}  // namespace cebm::programs
