#pragma once
/// @file
/// The model registry: kind → how to build the model, train it and evaluate a checkpoint of it.
/// The bundled programs (train_cebm, evaluate) dispatch through it, so a model a user registers
/// from their own code is trained and evaluated like the shipped ones:
///
///   cebm::programs::models().add(cebm::programs::conjugate_ebm_entry<beta, beta_map>("a Beta-bias CEBM"));
///
/// `models()` (programs/shipped_models.hpp) is the registry the programs read, filled with the
/// shipped kinds. This header holds the types alone and instantiates nothing, so a program that
/// only dispatches through the registry compiles quickly. An entry is built by `ebm_model<Model>`
/// (programs/ebm_model.hpp) or `conjugate_ebm_entry<F, Map>` (programs/conjugate_ebm_entry.hpp):
/// the translation unit that registers it compiles its model, and the trainer and the evaluation
/// are shared by every entry (compiled once in cebm::compiled).
///
/// An entry trained by the Langevin trainer (`ebm_model<Model>`) stores its model options and
/// trainer options in the run's config (keys `model_options`, `trainer_options`, see
/// train/options_json.hpp), so evaluating a checkpoint rebuilds exactly the model, input
/// convention and sampler the run trained with. Kinds trained by other programs (CLEL, VAE,
/// BIGAN) register an `evaluate` alone.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/serialize/archive.h>

#include "cebm/torch/data/datasets.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/frechet.hpp"
#include "cebm/torch/io/safetensors.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"
#include "cebm/torch/train/run_view.hpp"

namespace cebm::programs {

/// What a program hands an entry to train a model with `ebm_trainer`.
struct ebm_training {
  train::ebm_trainer_options options;
  nlohmann::json model_options;  ///< the entry's defaults for the dataset, with the program's changes
  data::image_dataset train;
  std::uint64_t seed = 0;
  at::Device device = at::kCPU;
  nlohmann::json config;  ///< the program's record of the run; model_options and trainer_options are added
  train::run_request run;  ///< data parallelism, reporting, resume and the program's hooks
  /// A safetensors file the model starts from (cebm's or the reference layout's names); empty: none.
  std::string init_from;
};

/// What a program hands an entry to evaluate one checkpoint.
struct checkpoint_evaluation {
  torch::serialize::InputArchive* archive = nullptr;
  std::string path;         ///< the checkpoint file, for messages
  nlohmann::json config;    ///< the run's config as stored in the checkpoint
  eval::evaluation_data data;
  eval::evaluation_options options;  ///< `long_run` takes the run's sampler with the steps given here
  /// The Fréchet feature extractor for the model's input convention (may return null: none).
  std::function<std::shared_ptr<eval::feature_extractor>(const data::image_transform_options&)> frechet;
  at::Device device = at::kCPU;
  precision_mode precision = precision_mode::fp32;  ///< what the model's networks compute in
  std::string out;
  /// Model-specific evaluation settings a program may set (CLEL's beta_test, the VAE's importance samples).
  nlohmann::json settings = nlohmann::json::object();
  eval::evaluation_reporter reporter;  ///< where the evaluation's stages and progress go
  /// Weights without a trainer's state (evaluate --weights): no replay buffer is stored, so the
  /// chains start fresh, and the sample shape is the data's.
  bool imported = false;

  /// The preset the run was trained with, from its config; a run that records none is refused
  /// with the flag that names it (the bundled evaluate's --preset), never given a default.
  std::string recorded_preset() const {
    const auto p = config.find("preset");
    if (p != config.end() && p->is_string()) return p->get<std::string>();
    throw std::invalid_argument(path + ": the run records neither its trainer options nor its preset (config.json); "
                                "give the preset it was trained with (evaluate --preset paper|demo|ci)");
  }
};

struct model_entry {
  std::string kind, description;
  /// Model options (JSON) for images of this geometry on this dataset: the papers' architecture.
  std::function<nlohmann::json(const data::image_geometry&, const std::string& dataset)> model_options;
  /// The Langevin trainer's options for a preset (paper, demo, ci) and dataset; empty for kinds
  /// another program trains.
  std::function<train::ebm_trainer_options(const std::string& preset, const std::string& dataset)> trainer_options;
  std::function<void(ebm_training&)> train;
  std::function<nlohmann::json(checkpoint_evaluation&)> evaluate;
  /// The model's module from a run's config and its sample shape [C, H, W]: what exporting and
  /// importing weights build (evaluate --export and --weights, the trainers' --init-from); empty
  /// for a kind that does not support them.
  std::function<std::shared_ptr<torch::nn::Module>(const nlohmann::json& config, const std::vector<std::int64_t>& shape)> make;
  /// The names and shapes the papers' PyTorch modules give the module's tensors
  /// (models/reference_layout.hpp); empty: cebm's own names.
  std::function<io::tensor_layout(const torch::nn::Module&)> reference_layout;
  /// The energy E(x) [B] and the representation [B, D] of images x (in the model's input scale) by
  /// a module `make` built (evaluate --score); empty where `make` is.
  std::function<std::pair<at::Tensor, at::Tensor>(torch::nn::Module&, const at::Tensor& x)> score;
  /// The checkpoint entry that is evaluated and exported ("ema" for CLEL's averaged networks).
  std::string weights = "model";
};

class model_registry {
 public:
  void add(model_entry e) {
    if (e.kind.empty() || !e.evaluate)
      throw std::invalid_argument("cebm::programs::model_registry: an entry needs a kind and an evaluate function");
    entries_[e.kind] = std::move(e);
  }
  bool contains(const std::string& kind) const { return entries_.count(kind) > 0; }
  const model_entry& find(const std::string& kind) const {
    const auto it = entries_.find(kind);
    if (it == entries_.end()) throw std::invalid_argument("unknown model kind '" + kind + "' (registered: " + kinds() + ")");
    return it->second;
  }
  /// The kinds, comma-separated; with `trainable`, only those `train` can train.
  std::string kinds(bool trainable = false) const {
    std::string out;
    for (const auto& [k, e] : entries_)
      if (!trainable || e.train) out += (out.empty() ? "" : ", ") + k;
    return out;
  }

 private:
  std::map<std::string, model_entry> entries_;
};

}  // namespace cebm::programs
