#pragma once
/// @file
/// `conjugate_ebm_entry<F, Map>`: the registry entry (programs/model_registry.hpp) of
/// `ConjugateEbm<F, Map>`, with the papers' encoder for the data's geometry and the CEBM paper's
/// trainer presets. A user's family is registered with it:
///
///   cebm::programs::models().add(cebm::programs::conjugate_ebm_entry<beta, beta_map>("Beta latents"));
///
/// The translation unit that calls it compiles that one model; the trainer, the evaluation and
/// the options' reading come compiled with cebm::compiled (programs/ebm_model.hpp).
///
/// Presets per dataset (reference notes §1.3–1.7, §4): on CIFAR-10 and SVHN the encoder is Table
/// 5(b)'s, GMM-CEBM takes 20 components, lr 5e-5 and L2 5e-3 on the data energy, IGEBM lr 1e-4 and
/// L2 0.1; on MNIST and Fashion-MNIST the Table 5(a) encoder and the settings of
/// `ebm_trainer_options::preset`. Families other than the Gaussian train with the Gaussian's
/// settings (the papers train no other).
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cebm/config.hpp"
#include "cebm/torch/data/datasets.hpp"
#include "cebm/torch/models/conjugate_ebm.hpp"
#include "cebm/torch/models/reference_layout.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/programs/ebm_model.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"

namespace cebm::programs {

/// The Table 5 encoder for images of this geometry: (b) for 32×32 RGB, (a) otherwise (with the
/// images' channels and side).
CEBM_INLINE nn::conv_encoder_options encoder_for(const data::image_geometry& g);

CEBM_INLINE bool is_colour_benchmark(const std::string& dataset);

/// The Langevin trainer's options of the CEBM paper's `model` (cebm, gmm_cebm, igebm, harmonium)
/// for a preset and dataset.
CEBM_INLINE train::ebm_trainer_options paper_ebm_options(const std::string& preset, const std::string& model,
                                                         const std::string& dataset);

/// The options of a conjugate EBM with a fixed bias or (`mixture`) a learned mixture, from a run's
/// stored model options (`options_json`; what it lacks keeps the default).
CEBM_INLINE models::conjugate_ebm_options conjugate_ebm_options_from(const nlohmann::json& model_options, bool mixture);

/// A conjugate EBM's model options for a dataset: the encoder for its geometry, and for a mixture
/// 10 components (20 on CIFAR-10 and SVHN).
CEBM_INLINE nlohmann::json conjugate_ebm_defaults(const data::image_geometry& g, const std::string& dataset, bool mixture);

/// The entry of `ConjugateEbm<F, Map>` with a fixed bias, or (`mixture`) with a learned mixture of
/// 10 components (20 on CIFAR-10 and SVHN).
template <class F, class Map = default_statistics_map_t<F>>
model_entry conjugate_ebm_entry(std::string description, bool mixture = false) {
  using Model = models::ConjugateEbm<F, Map>;
  return ebm_model<Model>(
      models::conjugate_ebm_kind<F, Map>(mixture), std::move(description),
      [mixture](const nlohmann::json& j) { return Model(conjugate_ebm_options_from(j, mixture)); },
      [mixture](const data::image_geometry& g, const std::string& dataset) { return conjugate_ebm_defaults(g, dataset, mixture); },
      [mixture](const std::string& preset, const std::string& dataset) {
        return paper_ebm_options(preset, mixture ? "gmm_cebm" : "cebm", dataset);
      },
      models::conjugate_ebm_reference_layout);
}

}  // namespace cebm::programs

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/programs/conjugate_ebm_entry_impl.hpp"
#endif
