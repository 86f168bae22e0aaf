#pragma once
/// @file
/// The definitions of programs/conjugate_ebm_entry.hpp's functions: inline in a header-only build,
/// compiled once in cebm::compiled otherwise (config.hpp, CEBM_COMPILED).
#include <string>

#include <nlohmann/json.hpp>

#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/programs/conjugate_ebm_entry.hpp"
#include "cebm/torch/train/options_json.hpp"

namespace cebm::programs {

CEBM_INLINE nn::conv_encoder_options encoder_for(const data::image_geometry& g) {
  if (g.channels == 3 && g.size == 32) return nn::conv_encoder_options::cifar();
  auto o = nn::conv_encoder_options::mnist();
  if (g.channels > 0) o.in_channels(g.channels);
  if (g.size > 0) o.image_size(g.size);
  return o;
}

CEBM_INLINE bool is_colour_benchmark(const std::string& dataset) { return dataset == "cifar10" || dataset == "svhn"; }

CEBM_INLINE train::ebm_trainer_options paper_ebm_options(const std::string& preset, const std::string& model,
                                                         const std::string& dataset) {
  auto o = train::ebm_trainer_options::preset(preset, model);
  if (is_colour_benchmark(dataset)) {
    if (model == "gmm_cebm") o.lr(5e-5).loss(cd_options{}.l2(5e-3).regularize(cd_regularizer::data_only));
    if (model == "igebm") o.lr(1e-4).loss(cd_options{}.l2(0.1));
  }
  return o;
}

CEBM_INLINE models::conjugate_ebm_options conjugate_ebm_options_from(const nlohmann::json& model_options, bool mixture) {
  return options_json::from_json(model_options, mixture ? models::gmm_cebm_options() : models::conjugate_ebm_options{});
}

CEBM_INLINE nlohmann::json conjugate_ebm_defaults(const data::image_geometry& g, const std::string& dataset, bool mixture) {
  auto o = (mixture ? models::gmm_cebm_options() : models::conjugate_ebm_options{}).encoder(encoder_for(g));
  if (mixture) o.components(is_colour_benchmark(dataset) ? 20 : 10);
  return options_json::to_json(o);
}

}  // namespace cebm::programs
