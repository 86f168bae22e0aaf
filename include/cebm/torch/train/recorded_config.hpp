#pragma once
/// @file
/// What a run records of itself (config.json and every checkpoint's `config`), whoever drives its
/// trainer: the bundled programs give a configuration with the preset, data and flags; a loop of
/// one's own may give none. `recorded_config` adds, where the configuration lacks them, what the
/// trainer knows: the model's kind, its options (when options_json covers their type), the trainer
/// options and the seed, so that `evaluate` rebuilds the model and its sampler from the run itself.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "cebm/torch/train/options_json.hpp"

namespace cebm::train {

namespace detail {
template <class M, class = void>
struct has_options : std::false_type {};
template <class M>
struct has_options<M, std::void_t<decltype(std::declval<const M&>().options())>> : std::true_type {};
}  // namespace detail

/// `config_json` (a JSON object, or empty) with "model" (`kind`), "model_options" (the module's
/// `options()`) and "trainer_options" (`o`), each where options_json covers its type, and "seed"
/// added where it has none of its own. A configuration that is not a JSON object is refused.
template <class Options, class Module>
std::string recorded_config(const std::string& config_json, const Options& o, const Module& module,
                            const std::string& kind, std::uint64_t seed) {
  nlohmann::json c = nlohmann::json::object();
  if (!config_json.empty()) {
    c = nlohmann::json::parse(config_json, nullptr, false);
    if (!c.is_object())
      throw std::invalid_argument("trainer configuration: expected a JSON object (or nothing), got: " +
                                  config_json.substr(0, 80));
  }
  if (!c.contains("model")) c["model"] = kind;
  if constexpr (detail::has_options<Module>::value) {
    using model_options = std::decay_t<decltype(module.options())>;
    if constexpr (options_json::detail::has_fields<model_options>::value)
      if (!c.contains("model_options")) c["model_options"] = options_json::to_json(module.options());
  }
  if constexpr (options_json::detail::has_fields<Options>::value)
    if (!c.contains("trainer_options")) c["trainer_options"] = options_json::to_json(o);
  if (!c.contains("seed")) c["seed"] = seed;
  return c.dump(2);
}

}  // namespace cebm::train
