#pragma once
/// @file
/// A transposed-convolution decoder from a latent vector to an image-shaped output: the VAE
/// decoder of the CEBM paper's Table 7 and the BIGAN generator of its Table 8.
///
///   VAE, 28×28 (Table 7a):  FC 128 ReLU, FC 3·3·32 ReLU, upconv 4×4 32 s2 p1 → 6, 4×4 64 s2 p1 → 12,
///                           4×4 64 s2 p0 → 26, 3×3 1 s1 p0 → 28 (logits, no activation)
///   VAE, 32×32 (Table 7b):  FC 1024 ReLU, FC 4·4·512 ReLU, upconv 4×4 256 s2 p1 → 8, 4×4 128 → 16,
///                           4×4 64 → 32, 3×3 3 s1 p1 → 32. The printed table's layers (32, 64, 64
///                           channels, a 3×3/2 layer to 31 pixels, one output channel) cannot
///                           produce a 32×32×3 image; these are the Table 8b generator's widths.
///   BIGAN, 28×28 (8a):      z as 1×1×128: upconv 4×4 64 s1 p1 → 2, 4×4 64 s2 p1 → 4, 3×3 32 s2 p1 → 7,
///                           4×4 32 s2 p1 → 14, 4×4 1 s2 p1 → 28; batch norm + ReLU between
///   BIGAN, 32×32 (8b):      z as 1×1×128: upconv 4×4 512, 256, 128, 64, 3, each s2 p1: 1 → 32
///
/// The output is pre-activation (the VAE's Bernoulli logits; BIGAN's generator applies tanh).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/conv_transpose.hpp"
#include "cebm/torch/nn/dense.hpp"

namespace cebm::nn {

/// One transposed convolution.
struct upconv {
  std::int64_t out_channels, kernel, stride, padding;
};

struct conv_decoder_options {
  CEBM_ARG(std::int64_t, latent_dim) = 128;
  /// Width of the first FC layer; 0 = no FC layers, z enters as a [K, 1, 1] map.
  CEBM_ARG(std::int64_t, hidden) = 128;
  /// The map the FC layers produce, {C, H, W} (ignored without FC layers).
  CEBM_ARG(std::vector<std::int64_t>, start) = std::vector<std::int64_t>{32, 3, 3};
  CEBM_ARG(std::vector<upconv>, layers) = std::vector<upconv>{{32, 4, 2, 1}, {64, 4, 2, 1}, {64, 4, 2, 0}, {1, 3, 1, 0}};
  CEBM_ARG(bool, batch_norm) = false;  ///< batch norm before each inner ReLU

 public:
  static conv_decoder_options vae_mnist() { return {}; }
  static conv_decoder_options vae_cifar() {
    return conv_decoder_options{}.hidden(1024).start({512, 4, 4}).layers({{256, 4, 2, 1}, {128, 4, 2, 1}, {64, 4, 2, 1}, {3, 3, 1, 1}});
  }
  static conv_decoder_options bigan_mnist() {
    return conv_decoder_options{}.hidden(0).batch_norm(true).layers(
        {{64, 4, 1, 1}, {64, 4, 2, 1}, {32, 3, 2, 1}, {32, 4, 2, 1}, {1, 4, 2, 1}});
  }
  static conv_decoder_options bigan_cifar() {
    return conv_decoder_options{}.hidden(0).batch_norm(true).layers(
        {{512, 4, 2, 1}, {256, 4, 2, 1}, {128, 4, 2, 1}, {64, 4, 2, 1}, {3, 4, 2, 1}});
  }
};

class ConvDecoderImpl : public torch::nn::Cloneable<ConvDecoderImpl> {
 public:
  explicit ConvDecoderImpl(conv_decoder_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.layers().empty() || o_.latent_dim() < 1 || o_.hidden() < 0 || (o_.hidden() > 0 && o_.start().size() != 3))
      throw std::invalid_argument("cebm::nn::ConvDecoder: needs layers, latent_dim >= 1 and, with FC layers, a {C, H, W} start");
    std::int64_t in = o_.latent_dim();
    if (o_.hidden() > 0) {
      torch::nn::Sequential fc;
      fc->push_back(Dense(torch::nn::LinearOptions(o_.latent_dim(), o_.hidden())));
      fc->push_back(torch::nn::ReLU());
      fc->push_back(Dense(torch::nn::LinearOptions(o_.hidden(), o_.start()[0] * o_.start()[1] * o_.start()[2])));
      fc->push_back(torch::nn::ReLU());
      fc_ = register_module("fc", fc);
      in = o_.start()[0];
    }
    up_.clear();
    norm_.clear();
    for (std::size_t i = 0; i < o_.layers().size(); ++i) {
      const upconv& l = o_.layers()[i];
      if (l.kernel < 1 || l.stride < 1 || l.padding < 0 || l.padding > l.kernel - 1 || l.out_channels < 1)
        throw std::invalid_argument("cebm::nn::ConvDecoder: layer " + std::to_string(i) +
                                    " needs positive kernel, stride and channels and 0 <= padding <= kernel - 1");
      // torch's module for the parameters, initialisation and checkpoint entries; conv_transpose.hpp computes it.
      up_.push_back(register_module("up" + std::to_string(i), torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(
                                                                  in, l.out_channels, l.kernel).stride(l.stride).padding(l.padding))));
      if (o_.batch_norm() && i + 1 < o_.layers().size())
        norm_.push_back(register_module("norm" + std::to_string(i), torch::nn::BatchNorm2d(l.out_channels)));
      in = l.out_channels;
    }
  }

  /// z [B, K] → the output map [B, C, H, W].
  at::Tensor forward(const at::Tensor& z) {
    if (z.dim() != 2 || z.size(1) != o_.latent_dim())
      throw std::invalid_argument("cebm::nn::ConvDecoder: expected z [B, " + std::to_string(o_.latent_dim()) + "], got " +
                                  std::string(c10::str(z.sizes())));
    at::Tensor h = o_.hidden() > 0 ? fc_->forward(z).view({z.size(0), o_.start()[0], o_.start()[1], o_.start()[2]})
                                   : z.view({z.size(0), z.size(1), 1, 1});
    for (std::size_t i = 0; i < up_.size(); ++i) {
      const upconv& l = o_.layers()[i];
      h = conv_transpose2d(h, up_[i]->weight, up_[i]->bias, l.stride, l.padding);
      if (i + 1 == up_.size()) break;
      if (!norm_.empty()) h = norm_[i]->forward(h);
      h = at::relu(h);
    }
    return h;
  }

  const conv_decoder_options& options() const { return o_; }

 private:
  conv_decoder_options o_;
  torch::nn::Sequential fc_{nullptr};
  std::vector<torch::nn::ConvTranspose2d> up_;
  std::vector<torch::nn::BatchNorm2d> norm_;
};
TORCH_MODULE(ConvDecoder);

}  // namespace cebm::nn
