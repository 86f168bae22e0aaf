#pragma once
/// @file
/// `evaluate_checkpoint(model, job, convention, kind)`: evaluates a checkpoint of any model through
/// `eval::evaluate`, with what the trainer that wrote it did (`sampling_convention`). It
/// instantiates the evaluation for the model's type: the shipped kinds call it in cebm::programs
/// (src/shipped/), and every model behind `models::EnergyModel` shares one instance
/// (`evaluate_energy_model`, programs/ebm_model.hpp).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/serialize/archive.h>

#include "cebm/torch/eval/evaluation.hpp"
#include "cebm/torch/programs/model_registry.hpp"
#include "cebm/torch/programs/sampling_convention.hpp"
#include "cebm/torch/programs/checkpoint_contents.hpp"

namespace cebm::programs {

/// The sample shape [C, H, W] the job's model takes: the stored replay buffer's, or the data's for
/// imported weights (which have no buffer).
inline std::vector<std::int64_t> sample_shape(checkpoint_evaluation& job) {
  if (job.imported) return {job.data.test.channels(), job.data.test.height(), job.data.test.width()};
  return stored_sample_shape(*job.archive, job.path);
}

/// Loads the checkpoint's weights into `model`, builds the evaluation context from `convention`
/// and runs `eval::evaluate`; returns the report.
/// `aggregate_posterior`, where given, is the KL/MI of a conjugate bias that `Model` does not
/// show (eval::evaluated_model::aggregate_posterior).
template <class Model>
nlohmann::json evaluate_checkpoint(Model model, checkpoint_evaluation& job, const sampling_convention& convention,
                                   const std::string& kind, eval::aggregate_posterior_function aggregate_posterior = {}) {
  load_stored_weights(*model, *job.archive, convention.weights, job.path, kind);
  model->to(job.device);
  const auto& d = job.data;
  eval::evaluation_context ctx;
  ctx.model = kind;
  ctx.input = convention.input;
  ctx.device = job.device;
  ctx.precision = job.precision;
  ctx.reporter = job.reporter;
  if (convention.langevin && job.imported) {  // imported weights: chains start from the buffer's initial distribution
    auto gen = at::detail::createCPUGenerator(0);
    auto buffer = std::make_shared<replay_buffer>(replay_buffer_options(convention.buffer), sample_shape(job), at::TensorOptions(), gen);
    ctx.buffer = buffer->contents();
    ctx.fresh_chains = [buffer](std::int64_t n, at::Generator& g) { return buffer->fresh(n, g); };
  } else if (convention.langevin) {  // models sampled ancestrally have no buffer
    torch::serialize::InputArchive b;
    const at::Tensor storage = detail::read_buffer_storage(*job.archive, job.path, b);
    const std::vector<std::int64_t> shape(storage.sizes().begin() + 1, storage.sizes().end());
    if (d.test.channels() != shape[0] || d.test.height() != shape[1] || d.test.width() != shape[2])
      throw std::invalid_argument(job.path + ": the model takes images of " + std::to_string(shape[0]) + "x" +
                                  std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + ", the " + d.dataset +
                                  " data has " + std::to_string(d.test.channels()) + "x" + std::to_string(d.test.height()) +
                                  "x" + std::to_string(d.test.width()));
    auto gen = at::detail::createCPUGenerator(0);
    const auto opts = replay_buffer_options(convention.buffer).capacity(storage.size(0)).store_uint8(storage.scalar_type() == at::kByte);
    auto buffer = std::make_shared<replay_buffer>(opts, shape, at::TensorOptions(), gen);
    buffer->load(b);
    ctx.buffer = buffer->contents();
    ctx.fresh_chains = [buffer](std::int64_t n, at::Generator& g) { return buffer->fresh(n, g); };
  }
  if (job.frechet) ctx.frechet_extractor = job.frechet(ctx.input);
  if (auto c = std::dynamic_pointer_cast<eval::classifier_extractor>(ctx.frechet_extractor))
    ctx.classify = [c](const at::Tensor& x) { return c->predict(x); };
  // A program's `long_run_rounds` setting overrides the convention's; in rounds, each round runs the
  // training sampler's steps unless the program set `long_run_steps`.
  auto options = job.options;
  const std::int64_t rounds = job.settings.value("long_run_rounds", convention.rounds);
  const std::int64_t steps =
      rounds > 0 && !job.settings.contains("long_run_steps") ? convention.sgld.steps() : job.options.long_run().steps();
  options.long_run(langevin_options(convention.sgld).steps(steps)).long_run_rounds(rounds);
  ctx.augmentation = convention.augmentation;
  model->eval();
  eval::evaluated_model evaluated = eval::evaluated_model_of(model);
  if (aggregate_posterior) evaluated.aggregate_posterior = std::move(aggregate_posterior);
  return eval::evaluate(evaluated, d, ctx, options, job.out);
}

}  // namespace cebm::programs
