#pragma once
/// @file
/// `ebm_model<Model>`: a registry entry (programs/model_registry.hpp) for a model trained by the
/// Langevin trainer `ebm_trainer`, and `evaluate_checkpoint`, which evaluates a checkpoint of any
/// model through `eval::evaluate`. Including this header and calling them instantiates the trainer
/// and the evaluation for `Model`: the expensive part of a registration, paid once, in the
/// translation unit that registers the kind.
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/serialize/archive.h>

#include "cebm/torch/eval/evaluation.hpp"
#include "cebm/torch/programs/model_registry.hpp"
#include "cebm/torch/train/ebm_trainer.hpp"
#include "cebm/torch/train/options_json.hpp"
#include "cebm/torch/train/run_view.hpp"

namespace cebm::programs {

/// How a trainer fed and sampled the model: what `evaluate_checkpoint` needs besides the weights.
struct sampling_convention {
  data::image_transform_options input;
  replay_buffer_options buffer;
  langevin_options sgld;
  std::string weights = "model";  ///< the checkpoint entry evaluated ("ema" for CLEL's averaged networks)
  bool langevin = true;           ///< sampled by Langevin chains from a replay buffer (else ancestrally)
  /// The long-run chains for samples and the Fréchet distance: 0, one run; R > 0, R rounds of
  /// (restarts, `augmentation`, the training sampler's steps): CLEL's published protocol.
  std::int64_t rounds = 0;
  replay_buffer::augmentation augmentation = {};
};

namespace detail {

/// The checkpoint's replay-buffer storage [capacity, C, H, W] and its archive (into `b`).
inline at::Tensor read_buffer_storage(torch::serialize::InputArchive& ckpt, const std::string& path,
                                      torch::serialize::InputArchive& b) {
  at::Tensor storage;
  try {
    ckpt.read("buffer", b);
    b.read("storage", storage, true);
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": holds no replay buffer (not a checkpoint of a cebm trainer?)");
  }
  return storage;
}

}  // namespace detail

/// The sample shape [C, H, W] of the replay buffer a checkpoint holds.
inline std::vector<std::int64_t> stored_sample_shape(torch::serialize::InputArchive& ckpt, const std::string& path) {
  torch::serialize::InputArchive b;
  const at::Tensor storage = detail::read_buffer_storage(ckpt, path, b);
  return {storage.sizes().begin() + 1, storage.sizes().end()};
}

/// Loads the checkpoint's weights into `model`, builds the evaluation context from `convention`
/// and runs `eval::evaluate`; returns the report.
template <class Model>
nlohmann::json evaluate_checkpoint(Model model, checkpoint_evaluation& job, const sampling_convention& convention,
                                   const std::string& kind) {
  try {
    torch::serialize::InputArchive m;
    job.archive->read(convention.weights, m);
    model->load(m);
  } catch (const std::exception& e) {
    throw std::runtime_error(job.path + ": its parameters do not fit a " + kind + " built from the run's options (" +
                             std::string(e.what()).substr(0, 160) + ")");
  }
  model->to(job.device);
  const auto& d = job.data;
  eval::evaluation_context ctx;
  ctx.model = kind;
  ctx.input = convention.input;
  ctx.device = job.device;
  ctx.reporter = job.reporter;
  if (convention.langevin) {  // models sampled ancestrally have no buffer
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
  return eval::evaluate(model, d, ctx, options, job.out);
}

/// The run's trainer options: the stored ones where the run has them, else the preset's.
inline train::ebm_trainer_options stored_trainer_options(const nlohmann::json& config, train::ebm_trainer_options preset) {
  if (config.contains("trainer_options")) return options_json::from_json(config.at("trainer_options"), std::move(preset));
  return preset;
}

/// An entry for a model trained by `ebm_trainer`. `make(options)` builds the model from its
/// options JSON; `defaults(geometry, dataset)` gives the options for a dataset;
/// `preset(preset, dataset)` the trainer options.
template <class Model>
model_entry ebm_model(std::string kind, std::string description,
                      std::function<Model(const nlohmann::json& model_options)> make,
                      std::function<nlohmann::json(const data::image_geometry&, const std::string&)> defaults,
                      std::function<train::ebm_trainer_options(const std::string&, const std::string&)> preset) {
  model_entry e;
  e.kind = kind;
  e.description = std::move(description);
  e.model_options = defaults;
  e.trainer_options = preset;
  e.train = [make](ebm_training& job) {
    Model model = make(job.model_options);
    job.config["model_options"] = job.model_options;
    job.config["trainer_options"] = options_json::to_json(job.options);
    train::ebm_trainer<Model> trainer(model, job.train, job.options, job.seed, job.device, job.config.dump(2));
    train::drive(trainer, job.run);
  };
  e.evaluate = [make, kind, preset](checkpoint_evaluation& job) {
    const nlohmann::json stored = job.config.value("model_options", nlohmann::json::object());
    const auto o = stored_trainer_options(job.config, preset(job.config.value("preset", std::string("paper")),
                                                              job.config.value("dataset", std::string("fashion_mnist"))));
    return evaluate_checkpoint(make(stored), job, {o.input(), o.buffer(), o.sgld(), "model", true}, kind);
  };
  return e;
}

}  // namespace cebm::programs
