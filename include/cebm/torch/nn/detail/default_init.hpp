#pragma once
/// @file
/// What libtorch's `Linear` and `Conv2d` do at construction, shared by cebm's layers: an optional
/// "bias" parameter, and the default initialisation W ~ kaiming-uniform(a = √5),
/// b ~ U(±1/√fan_in) with fan_in = W[0].numel() (in_features, or in_channels·k·k).
#include <cmath>
#include <cstdint>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/module.h>

namespace cebm::nn::detail {

/// Registers "bias" [n] on `m` when `with_bias`; else an undefined tensor.
inline at::Tensor register_bias(torch::nn::Module& m, std::int64_t n, bool with_bias) {
  return with_bias ? m.register_parameter("bias", at::empty({n})) : at::Tensor();
}

inline void default_init(const at::Tensor& weight, const at::Tensor& bias) {
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight[0].numel()));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

}  // namespace cebm::nn::detail
