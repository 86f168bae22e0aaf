#pragma once
/// @file
/// `conjugate_ebm_entry<F, Map>`: the registry entry (programs/model_registry.hpp) of
/// `ConjugateEbm<F, Map>`, with the papers' encoder for the data's geometry and the CEBM paper's
/// trainer presets. A user's family is registered with it:
///
///   cebm::programs::models().add(cebm::programs::conjugate_ebm_entry<beta, beta_map>("Beta latents"));
///
/// The translation unit that calls it instantiates the Langevin trainer and the evaluation for
/// that one model (programs/ebm_model.hpp); the shipped kinds are compiled once in cebm::programs.
///
/// Presets per dataset (reference notes §1.3–1.7, §4): on CIFAR-10 and SVHN the encoder is Table
/// 5(b)'s, GMM-CEBM takes 20 components, lr 5e-5 and L2 5e-3 on the data energy, IGEBM lr 1e-4 and
/// L2 0.1; on MNIST and Fashion-MNIST the Table 5(a) encoder and the settings of
/// `ebm_trainer_options::preset`. Families other than the Gaussian train with the Gaussian's
/// settings (the papers train no other).
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cebm/torch/data/datasets.hpp"
#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/models/conjugate_ebm.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/programs/ebm_model.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"
#include "cebm/torch/train/options_json.hpp"

namespace cebm::programs {

/// The Table 5 encoder for images of this geometry: (b) for 32×32 RGB, (a) otherwise (with the
/// images' channels and side).
inline nn::conv_encoder_options encoder_for(const data::image_geometry& g) {
  if (g.channels == 3 && g.size == 32) return nn::conv_encoder_options::cifar();
  auto o = nn::conv_encoder_options::mnist();
  if (g.channels > 0) o.in_channels(g.channels);
  if (g.size > 0) o.image_size(g.size);
  return o;
}

inline bool is_colour_benchmark(const std::string& dataset) { return dataset == "cifar10" || dataset == "svhn"; }

/// The Langevin trainer's options of the CEBM paper's `model` (cebm, gmm_cebm, igebm, harmonium)
/// for a preset and dataset.
inline train::ebm_trainer_options paper_ebm_options(const std::string& preset, const std::string& model,
                                                    const std::string& dataset) {
  auto o = train::ebm_trainer_options::preset(preset, model);
  if (is_colour_benchmark(dataset)) {
    if (model == "gmm_cebm") o.lr(5e-5).loss(cd_options{}.l2(5e-3).regularize(cd_regularizer::data_only));
    if (model == "igebm") o.lr(1e-4).loss(cd_options{}.l2(0.1));
  }
  return o;
}

/// The entry of `ConjugateEbm<F, Map>` with a fixed bias, or (`mixture`) with a learned mixture of
/// 10 components (20 on CIFAR-10 and SVHN).
template <class F, class Map = default_statistics_map_t<F>>
model_entry conjugate_ebm_entry(std::string description, bool mixture = false) {
  using Model = models::ConjugateEbm<F, Map>;
  const auto base = mixture ? models::gmm_cebm_options() : models::conjugate_ebm_options{};
  return ebm_model<Model>(
      models::conjugate_ebm_kind<F, Map>(mixture), std::move(description),
      [base](const nlohmann::json& j) { return Model(options_json::from_json(j, base)); },
      [base, mixture](const data::image_geometry& g, const std::string& dataset) {
        auto o = models::conjugate_ebm_options(base).encoder(encoder_for(g));
        if (mixture) o.components(is_colour_benchmark(dataset) ? 20 : 10);
        return options_json::to_json(o);
      },
      [mixture](const std::string& preset, const std::string& dataset) {
        return paper_ebm_options(preset, mixture ? "gmm_cebm" : "cebm", dataset);
      });
}

}  // namespace cebm::programs
