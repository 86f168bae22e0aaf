#pragma once
/// @file
/// The initialisation of the CLEL EBM networks f_θ and g_θ (authors' `architectures.py`, reference
/// notes §3.2), shared by their modules:
///   convolution: W ~ N(0, 1/fan_in) (kaiming-normal, fan_in, linear gain), b = 0, then fresh
///                spectral-norm vectors (torch registers spectral norm after the init);
///   linear:      W ~ N(0, 0.01²), b = 0.
#include <cmath>
#include <cstdint>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>

#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/spectral_norm.hpp"

namespace cebm::nn::detail {

/// The LeakyReLU slope of every CLEL EBM activation.
inline constexpr double clel_negative_slope = 0.2;

inline void clel_init(SpectralConv2dImpl& conv) {
  const at::Tensor w = conv.weight_orig();
  torch::nn::init::normal_(w, 0.0, 1.0 / std::sqrt(static_cast<double>(w[0].numel())));
  if (conv.bias().defined()) torch::nn::init::zeros_(conv.bias());
  conv.reset_singular_vectors();
}

inline void clel_init(DenseImpl& linear) {
  torch::nn::init::normal_(linear.weight, 0.0, 0.01);
  if (linear.bias.defined()) torch::nn::init::zeros_(linear.bias);
}

/// Linear → LeakyReLU → linear, each linear with the CLEL initialisation: f's head and g.
inline torch::nn::Sequential clel_mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, bool bias) {
  Dense l1(torch::nn::LinearOptions(in, hidden).bias(bias)), l2(torch::nn::LinearOptions(hidden, out).bias(bias));
  clel_init(*l1);
  clel_init(*l2);
  return torch::nn::Sequential(l1, torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(clel_negative_slope)), l2);
}

}  // namespace cebm::nn::detail
