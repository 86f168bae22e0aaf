#pragma once
/// @file
/// The initialisation of the CLEL EBM networks f_θ and g_θ (authors' `architectures.py`, reference
/// notes §3.2), shared by their modules:
///   convolution: W ~ N(0, 1/fan_in) (kaiming-normal, fan_in, linear gain), b = 0, then fresh
///                spectral-norm vectors (torch registers spectral norm after the init);
///   linear:      W ~ N(0, 0.01²), b = 0.
#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/init.h>


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

}  // namespace cebm::nn::detail
