#pragma once
/// @file
/// A convolutional encoder to a diagonal Gaussian q(z | x) = N(μ(x), diag σ(x)²): the encoder of
/// the CEBM paper's VAE and GMM-VAE (Table 7) and of its BIGAN (Table 8),
///
///   28×28×1:  conv 3×3 64 s1, conv 4×4 64 s2, conv 4×4 32 s2, conv 4×4 32 s2 (padding 1) → 288
///   32×32×3:  the same kernels with 64, 128, 256, 512 channels                              → 8192
///   head:     FC H, act, FC 2K → (μ, log σ)       H = 128 (28×28) or 1024 (32×32), K = 128
///
/// with ReLU after every layer (VAE) or batch norm after every convolution and LeakyReLU(0.2)
/// (BIGAN). `forward(x)` returns (μ, log σ), each [B, K]; `posterior(x)` the natural parameters
/// of the library's `gaussian` family, λ = (μ/σ², −1/(2σ²)), which keep λ₂ < 0 for any output.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/torch/precision/precision_policy.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/conv.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/trunk_options.hpp"

namespace cebm::nn {

enum class activation { relu, leaky_relu };

struct gaussian_encoder_options : trunk_options<gaussian_encoder_options> {
  CEBM_ARG(activation, act) = activation::relu;
  CEBM_ARG(bool, batch_norm) = false;

 public:
  /// Table 7(a), the VAE encoder for 28×28×1.
  static gaussian_encoder_options vae_mnist() { return {}; }
  /// Table 7(b), 32×32×3.
  static gaussian_encoder_options vae_cifar() {
    return gaussian_encoder_options{}.in_channels(3).image_size(32).channels({64, 128, 256, 512}).hidden(1024);
  }
  /// Table 8: the BIGAN encoder (batch norm, LeakyReLU 0.2).
  static gaussian_encoder_options bigan_mnist() { return vae_mnist().act(activation::leaky_relu).batch_norm(true); }
  static gaussian_encoder_options bigan_cifar() { return vae_cifar().act(activation::leaky_relu).batch_norm(true); }
};

/// The activation module of `a` (LeakyReLU with slope 0.2, as Tables 8).
inline torch::nn::AnyModule activation_module(activation a) {
  if (a == activation::relu) return torch::nn::AnyModule(torch::nn::ReLU());
  return torch::nn::AnyModule(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
}

/// Spatial side after the 3×3/1 and three 4×4/2 convolutions (padding 1).
inline std::int64_t conv_trunk_side(std::int64_t side) {
  for (int i = 0; i < 3; ++i) side = (side + 2 - 4) / 2 + 1;
  return side;
}

class GaussianEncoderImpl : public torch::nn::Cloneable<GaussianEncoderImpl> {
 public:
  explicit GaussianEncoderImpl(gaussian_encoder_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.channels().size() != 4 || o_.image_size() < 8 || o_.latent_dim() < 1 || o_.hidden() < 1 || o_.in_channels() < 1)
      throw std::invalid_argument("cebm::nn::GaussianEncoder: expects 4 conv channel counts, image_size >= 8 and positive "
                                  "in_channels, hidden and latent_dim");
    torch::nn::Sequential trunk;
    const std::int64_t kernels[] = {3, 4, 4, 4}, strides[] = {1, 2, 2, 2};
    std::int64_t in = o_.in_channels();
    for (std::size_t i = 0; i < 4; ++i) {
      trunk->push_back(Conv2d(torch::nn::Conv2dOptions(in, o_.channels()[i], kernels[i]).stride(strides[i]).padding(1)));
      if (o_.batch_norm()) trunk->push_back(torch::nn::BatchNorm2d(o_.channels()[i]));
      trunk->push_back(activation_module(o_.act()));
      in = o_.channels()[i];
    }
    trunk->push_back(torch::nn::Flatten());
    const std::int64_t side = conv_trunk_side(o_.image_size());
    trunk->push_back(Dense(torch::nn::LinearOptions(in * side * side, o_.hidden())));
    trunk->push_back(activation_module(o_.act()));
    trunk_ = register_module("trunk", trunk);
    head_ = register_module("head", Dense(torch::nn::LinearOptions(o_.hidden(), 2 * o_.latent_dim())));
  }

  /// (μ, log σ), each [B, K].
  std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& x) {
    if (x.dim() != 4 || x.size(1) != o_.in_channels() || x.size(2) != o_.image_size() || x.size(3) != o_.image_size())
      throw std::invalid_argument("cebm::nn::GaussianEncoder: expected images [B, " + std::to_string(o_.in_channels()) + ", " +
                                  std::to_string(o_.image_size()) + ", " + std::to_string(o_.image_size()) + "], got " +
                                  std::string(c10::str(x.sizes())));
    const at::Tensor out = full_precision(head_->forward(trunk_->forward(x)));  // the family's maths in fp32
    return {out.narrow(1, 0, o_.latent_dim()), out.narrow(1, o_.latent_dim(), o_.latent_dim())};
  }
  /// λ_q(x) of the `gaussian` family, [B, K] per statistic.
  param_pack<at::Tensor, 2> posterior(const at::Tensor& x) {
    const auto [mean, log_std] = forward(x);
    return gaussian::natural_from_location_scale(mean, log_std);
  }

  const gaussian_encoder_options& options() const { return o_; }

 private:
  gaussian_encoder_options o_;
  torch::nn::Sequential trunk_{nullptr};
  Dense head_{nullptr};
};
TORCH_MODULE(GaussianEncoder);

}  // namespace cebm::nn
