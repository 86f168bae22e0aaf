#pragma once
/// @file
/// Options as JSON, so that a run's checkpoint holds the exact settings it trained with and a
/// program that reads it (evaluate) rebuilds the model, its input convention and its sampler
/// from them rather than from a preset's name:
///
///   to_json(options) → an object with one key per option;  from_json(object, base)
///   starts from `base` (the defaults, or a preset) and takes every key the object has, so
///   checkpoints written before an option existed still load.
///
/// Covered: image_transform_options, langevin_options (all but the per-step hook),
/// replay_buffer_options (all but data-initialised buffers), cd_options, ebm_trainer_options,
/// conv_encoder_options and conjugate_ebm_options. A value of the wrong type names the option.
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cebm/sampling/langevin_options.hpp"
#include "cebm/sampling/replay_buffer.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/models/conjugate_ebm.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"

namespace cebm {
NLOHMANN_JSON_SERIALIZE_ENUM(cd_regularizer, {{cd_regularizer::both, "both"},
                                              {cd_regularizer::data_only, "data_only"},
                                              {cd_regularizer::none, "none"}})
}  // namespace cebm
namespace cebm::data {
NLOHMANN_JSON_SERIALIZE_ENUM(pixel_scale, {{pixel_scale::minus_one_one, "minus_one_one"},
                                           {pixel_scale::unit_dequantized, "unit_dequantized"},
                                           {pixel_scale::unit, "unit"}})
NLOHMANN_JSON_SERIALIZE_ENUM(resize_mode, {{resize_mode::pad, "pad"}, {resize_mode::bilinear, "bilinear"}})
}  // namespace cebm::data
namespace cebm::nn {
NLOHMANN_JSON_SERIALIZE_ENUM(encoder_head, {{encoder_head::split, "split"},
                                            {encoder_head::shared, "shared"},
                                            {encoder_head::linear, "linear"}})
}  // namespace cebm::nn
namespace cebm::train {
NLOHMANN_JSON_SERIALIZE_ENUM(divergence_policy, {{divergence_policy::abort, "abort"},
                                                 {divergence_policy::rollback, "rollback"}})
}  // namespace cebm::train

namespace cebm::options_json {

namespace detail {
template <class T>
struct value_io {
  static nlohmann::json out(const T& v) { return v; }
  static T in(const nlohmann::json& j) { return j.get<T>(); }
};
template <class T>
struct value_io<std::optional<T>> {
  static nlohmann::json out(const std::optional<T>& v) { return v ? value_io<T>::out(*v) : nlohmann::json(nullptr); }
  static std::optional<T> in(const nlohmann::json& j) {
    if (j.is_null()) return std::nullopt;
    return value_io<T>::in(j);
  }
};
template <>
struct value_io<at::ScalarType> {
  static nlohmann::json out(at::ScalarType t) { return std::string(c10::toString(t)); }
  static at::ScalarType in(const nlohmann::json& j) {
    const std::string s = j.get<std::string>();
    if (s == "Float") return at::kFloat;
    if (s == "Double") return at::kDouble;
    if (s == "Half") return at::kHalf;
    if (s == "BFloat16") return at::kBFloat16;
    throw std::invalid_argument("'" + s + "' is not a floating dtype (expected Float, Double, Half or BFloat16)");
  }
};
template <>
struct value_io<buffer_init> {
  static nlohmann::json out(const buffer_init& b) {
    if (b.type == buffer_init::kind::data) throw std::invalid_argument("a replay buffer initialised from data rows");
    return {{"type", b.type == buffer_init::kind::uniform ? "uniform" : "gaussian"}, {"a", b.a}, {"b", b.b}};
  }
  static buffer_init in(const nlohmann::json& j) {
    const std::string type = j.at("type").get<std::string>();
    if (type == "uniform") return buffer_init::uniform(j.at("a").get<double>(), j.at("b").get<double>());
    if (type == "gaussian") return buffer_init::gaussian(j.at("a").get<double>(), j.at("b").get<double>());
    throw std::invalid_argument("'" + type + "' is not a buffer initialisation (expected uniform or gaussian)");
  }
};

}  // namespace detail

// One line per option in the functions below: `o` is the options, `j` the JSON object.
#define CEBM_OPTION_OUT(name) j[#name] = ::cebm::options_json::detail::value_io<std::decay_t<decltype(o.name())>>::out(o.name())
#define CEBM_OPTION_IN(name)                                                                                 \
  do {                                                                                                       \
    if (j.contains(#name)) {                                                                                 \
      try {                                                                                                  \
        o.name(::cebm::options_json::detail::value_io<std::decay_t<decltype(o.name())>>::in(j.at(#name)));  \
      } catch (const std::exception& e) {                                                                    \
        throw std::invalid_argument(std::string("cebm::options_json: option ") + #name + ": " + e.what());   \
      }                                                                                                      \
    }                                                                                                        \
  } while (0)
#define CEBM_OPTION_NESTED_OUT(name) j[#name] = to_json(o.name())
#define CEBM_OPTION_NESTED_IN(name) \
  if (j.contains(#name)) o.name(from_json(j.at(#name), o.name()))

inline nlohmann::json to_json(const data::image_transform_options& o) {
  nlohmann::json j;
  CEBM_OPTION_OUT(scale); CEBM_OPTION_OUT(noise_std); CEBM_OPTION_OUT(channels); CEBM_OPTION_OUT(size);
  CEBM_OPTION_OUT(resize); CEBM_OPTION_OUT(dtype);
  return j;
}
inline data::image_transform_options from_json(const nlohmann::json& j, data::image_transform_options o) {
  CEBM_OPTION_IN(scale); CEBM_OPTION_IN(noise_std); CEBM_OPTION_IN(channels); CEBM_OPTION_IN(size);
  CEBM_OPTION_IN(resize); CEBM_OPTION_IN(dtype);
  return o;
}

inline nlohmann::json to_json(const langevin_options& o) {
  nlohmann::json j;
  CEBM_OPTION_OUT(steps); CEBM_OPTION_OUT(step_size); CEBM_OPTION_OUT(noise_std); CEBM_OPTION_OUT(grad_clip);
  CEBM_OPTION_OUT(clamp); CEBM_OPTION_OUT(metropolis); CEBM_OPTION_OUT(skip_nonfinite);
  return j;
}
inline langevin_options from_json(const nlohmann::json& j, langevin_options o) {
  CEBM_OPTION_IN(steps); CEBM_OPTION_IN(step_size); CEBM_OPTION_IN(noise_std); CEBM_OPTION_IN(grad_clip);
  CEBM_OPTION_IN(clamp); CEBM_OPTION_IN(metropolis); CEBM_OPTION_IN(skip_nonfinite);
  return o;
}

inline nlohmann::json to_json(const replay_buffer_options& o) {
  nlohmann::json j;
  CEBM_OPTION_OUT(capacity); CEBM_OPTION_OUT(reinit_prob); CEBM_OPTION_OUT(with_replacement); CEBM_OPTION_OUT(init);
  CEBM_OPTION_OUT(store_uint8); CEBM_OPTION_OUT(uint8_range);
  return j;
}
inline replay_buffer_options from_json(const nlohmann::json& j, replay_buffer_options o) {
  CEBM_OPTION_IN(capacity); CEBM_OPTION_IN(reinit_prob); CEBM_OPTION_IN(with_replacement); CEBM_OPTION_IN(init);
  CEBM_OPTION_IN(store_uint8); CEBM_OPTION_IN(uint8_range);
  return o;
}

inline nlohmann::json to_json(const cd_options& o) {
  nlohmann::json j;
  CEBM_OPTION_OUT(l2); CEBM_OPTION_OUT(regularize);
  return j;
}
inline cd_options from_json(const nlohmann::json& j, cd_options o) {
  CEBM_OPTION_IN(l2); CEBM_OPTION_IN(regularize);
  return o;
}

inline nlohmann::json to_json(const train::ebm_trainer_options& o) {
  nlohmann::json j;
  CEBM_OPTION_OUT(iterations); CEBM_OPTION_OUT(batch_size); CEBM_OPTION_OUT(lr); CEBM_OPTION_OUT(beta1);
  CEBM_OPTION_OUT(beta2); CEBM_OPTION_NESTED_OUT(loss); CEBM_OPTION_NESTED_OUT(sgld); CEBM_OPTION_NESTED_OUT(buffer);
  CEBM_OPTION_NESTED_OUT(input); CEBM_OPTION_OUT(out_dir); CEBM_OPTION_OUT(log_every); CEBM_OPTION_OUT(checkpoint_every);
  CEBM_OPTION_OUT(keep_every); CEBM_OPTION_OUT(sample_every); CEBM_OPTION_OUT(probe_every);
  CEBM_OPTION_OUT(probe_reference); CEBM_OPTION_OUT(probe_query); CEBM_OPTION_OUT(long_run_steps);
  CEBM_OPTION_OUT(long_run_chains); CEBM_OPTION_OUT(divergence_threshold); CEBM_OPTION_OUT(on_divergence);
  CEBM_OPTION_OUT(max_rollbacks); CEBM_OPTION_OUT(rollback_lr_scale);
  return j;
}
inline train::ebm_trainer_options from_json(const nlohmann::json& j, train::ebm_trainer_options o) {
  CEBM_OPTION_IN(iterations); CEBM_OPTION_IN(batch_size); CEBM_OPTION_IN(lr); CEBM_OPTION_IN(beta1);
  CEBM_OPTION_IN(beta2); CEBM_OPTION_NESTED_IN(loss); CEBM_OPTION_NESTED_IN(sgld); CEBM_OPTION_NESTED_IN(buffer);
  CEBM_OPTION_NESTED_IN(input); CEBM_OPTION_IN(out_dir); CEBM_OPTION_IN(log_every); CEBM_OPTION_IN(checkpoint_every);
  CEBM_OPTION_IN(keep_every); CEBM_OPTION_IN(sample_every); CEBM_OPTION_IN(probe_every);
  CEBM_OPTION_IN(probe_reference); CEBM_OPTION_IN(probe_query); CEBM_OPTION_IN(long_run_steps);
  CEBM_OPTION_IN(long_run_chains); CEBM_OPTION_IN(divergence_threshold); CEBM_OPTION_IN(on_divergence);
  CEBM_OPTION_IN(max_rollbacks); CEBM_OPTION_IN(rollback_lr_scale);
  return o;
}

inline nlohmann::json to_json(const nn::conv_encoder_options& o) {
  nlohmann::json j;
  CEBM_OPTION_OUT(in_channels); CEBM_OPTION_OUT(image_size); CEBM_OPTION_OUT(channels); CEBM_OPTION_OUT(hidden);
  CEBM_OPTION_OUT(latent_dim); CEBM_OPTION_OUT(head); CEBM_OPTION_OUT(heads);
  return j;
}
inline nn::conv_encoder_options from_json(const nlohmann::json& j, nn::conv_encoder_options o) {
  CEBM_OPTION_IN(in_channels); CEBM_OPTION_IN(image_size); CEBM_OPTION_IN(channels); CEBM_OPTION_IN(hidden);
  CEBM_OPTION_IN(latent_dim); CEBM_OPTION_IN(head); CEBM_OPTION_IN(heads);
  return o;
}

inline nlohmann::json to_json(const models::conjugate_ebm_options& o) {
  nlohmann::json j;
  CEBM_OPTION_NESTED_OUT(encoder); CEBM_OPTION_OUT(components);
  return j;
}
inline models::conjugate_ebm_options from_json(const nlohmann::json& j, models::conjugate_ebm_options o) {
  CEBM_OPTION_NESTED_IN(encoder); CEBM_OPTION_IN(components);
  return o;
}

#undef CEBM_OPTION_OUT
#undef CEBM_OPTION_IN
#undef CEBM_OPTION_NESTED_OUT
#undef CEBM_OPTION_NESTED_IN

}  // namespace cebm::options_json
