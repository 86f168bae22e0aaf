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
/// conv_encoder_options and conjugate_ebm_options; a user's options type joins with a `fields`
/// overload in this namespace. A value of the wrong type names the option.
#include <optional>
#include <type_traits>
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
namespace cebm {
NLOHMANN_JSON_SERIALIZE_ENUM(precision_mode, {{precision_mode::fp32, "fp32"},
                                              {precision_mode::tf32, "tf32"},
                                              {precision_mode::bf16, "bf16"},
                                              {precision_mode::fp16, "fp16"}})
}  // namespace cebm
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

// Each options type lists its options once, in `fields(o, io)`: `io(name, get, set)` for each.
// to_json and from_json are the two readers of that list. A nested options type (one with a
// `fields` of its own) becomes a nested object.
#define CEBM_FIELD(name) \
  io(#name, [&]() -> const auto& { return o.name(); }, [&](const auto& v) { o.name(v); })

template <class Io>
void fields(data::image_transform_options& o, Io&& io) {
  CEBM_FIELD(scale); CEBM_FIELD(noise_std); CEBM_FIELD(channels); CEBM_FIELD(size); CEBM_FIELD(resize); CEBM_FIELD(dtype);
}
template <class Io>
void fields(langevin_options& o, Io&& io) {
  CEBM_FIELD(steps); CEBM_FIELD(step_size); CEBM_FIELD(noise_std); CEBM_FIELD(grad_clip); CEBM_FIELD(clamp);
  CEBM_FIELD(metropolis); CEBM_FIELD(skip_nonfinite);
}
template <class Io>
void fields(replay_buffer_options& o, Io&& io) {
  CEBM_FIELD(capacity); CEBM_FIELD(reinit_prob); CEBM_FIELD(with_replacement); CEBM_FIELD(init); CEBM_FIELD(store_uint8);
  CEBM_FIELD(uint8_range);
}
template <class Io>
void fields(cd_options& o, Io&& io) {
  CEBM_FIELD(l2); CEBM_FIELD(regularize);
}
/// The run loop's options, for every trainer's options.
template <class Self, class Io>
void fields(train::run_options<Self>& o, Io&& io) {
  CEBM_FIELD(iterations); CEBM_FIELD(batch_size); CEBM_FIELD(input); CEBM_FIELD(out_dir); CEBM_FIELD(log_every);
  CEBM_FIELD(checkpoint_every); CEBM_FIELD(keep_every); CEBM_FIELD(sample_every); CEBM_FIELD(probe_every);
  CEBM_FIELD(probe_reference); CEBM_FIELD(probe_query); CEBM_FIELD(divergence_threshold); CEBM_FIELD(on_divergence);
  CEBM_FIELD(max_rollbacks); CEBM_FIELD(rollback_lr_scale); CEBM_FIELD(tensorboard); CEBM_FIELD(precision);
}
template <class Io>
void fields(train::ebm_trainer_options& o, Io&& io) {
  fields(static_cast<train::run_options<train::ebm_trainer_options>&>(o), io);
  CEBM_FIELD(lr); CEBM_FIELD(beta1); CEBM_FIELD(beta2); CEBM_FIELD(loss); CEBM_FIELD(sgld); CEBM_FIELD(buffer);
  CEBM_FIELD(long_run_steps); CEBM_FIELD(long_run_chains);
}
template <class Io>
void fields(nn::conv_encoder_options& o, Io&& io) {
  CEBM_FIELD(in_channels); CEBM_FIELD(image_size); CEBM_FIELD(channels); CEBM_FIELD(hidden); CEBM_FIELD(latent_dim);
  CEBM_FIELD(head); CEBM_FIELD(heads);
}
template <class Io>
void fields(models::conjugate_ebm_options& o, Io&& io) {
  CEBM_FIELD(encoder); CEBM_FIELD(components);
}
#undef CEBM_FIELD

namespace detail {
struct any_io {
  template <class Get, class Set>
  void operator()(const char*, Get&&, Set&&) const {}
};
template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(fields(std::declval<T&>(), any_io{}))>> : std::true_type {};
}  // namespace detail

/// The options as a JSON object, one key per option.
template <class O>
nlohmann::json to_json(const O& options) {
  O o = options;
  nlohmann::json j = nlohmann::json::object();
  fields(o, [&](const char* name, auto&& get, auto&&) {
    using T = std::decay_t<decltype(get())>;
    if constexpr (detail::has_fields<T>::value) j[name] = to_json(get());
    else j[name] = detail::value_io<T>::out(get());
  });
  return j;
}

/// `base` with every option `j` names; an option of the wrong type is named in the error.
template <class O>
O from_json(const nlohmann::json& j, O o) {
  fields(o, [&](const char* name, auto&& get, auto&& set) {
    if (!j.contains(name)) return;
    using T = std::decay_t<decltype(get())>;
    try {
      if constexpr (detail::has_fields<T>::value) set(from_json(j.at(name), get()));
      else set(detail::value_io<T>::in(j.at(name)));
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      if (what.rfind("cebm::options_json: ", 0) == 0) throw;  // a nested option, already named
      throw std::invalid_argument(std::string("cebm::options_json: option ") + name + ": " + what);
    } catch (const std::exception& e) {
      throw std::invalid_argument(std::string("cebm::options_json: option ") + name + ": " + e.what());
    }
  });
  return o;
}

}  // namespace cebm::options_json
