#pragma once
/// @file
/// The CEBM encoder t_θ(x) of the paper's Table 5, as the published results used it (reference
/// notes §1.1): four convolutions with Swish after every one, then one head per sufficient
/// statistic producing its raw output (two for the Gaussian: t₁ and r); the model maps them into
/// the family's domain (−r² for the Gaussian's second, see models/statistics_map.hpp).
///
///   28×28×1:  conv 3×3 64 s1, conv 4×4 64 s2, conv 4×4 32 s2, conv 4×4 32 s2 (padding 1) → 288
///   32×32×3:  the same kernels with 64, 128, 256, 512 channels                              → 8192
///   heads:    `split`  (published code): S branches [Linear(flat → H), Swish, Linear(H → K)]
///             `shared` (Table 5 as printed): Linear(flat → H), Swish, then Linear(H → S·K)
///             `linear` (the later refactor): S Linear(flat → K)
///   H = 128 for 28×28, 1024 for 32×32; K = 128; S = `heads` (2, the Gaussian's statistics).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/conv.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/detail/conv_swish_stack.hpp"
#include "cebm/torch/nn/swish.hpp"
#include "cebm/torch/nn/trunk_options.hpp"

namespace cebm::nn {

enum class encoder_head { split, shared, linear };

struct conv_encoder_options : trunk_options<conv_encoder_options> {
  CEBM_ARG(encoder_head, head) = encoder_head::split;
  CEBM_ARG(std::int64_t, heads) = 2;  ///< S: raw outputs, one per sufficient statistic

 public:
  /// Table 5(a): MNIST / Fashion-MNIST, 28×28×1.
  static conv_encoder_options mnist() { return conv_encoder_options{}; }
  /// Table 5(b): CIFAR-10 / SVHN, 32×32×3.
  static conv_encoder_options cifar() {
    return conv_encoder_options{}.in_channels(3).image_size(32).channels({64, 128, 256, 512}).hidden(1024);
  }
};

/// The convolutional trunk alone (four convolutions, Swish after each, flattened), shared by the
/// CEBM encoder and the IGEBM energy network. It runs as one `detail::conv_swish_stack` (on oneDNN
/// with blocked activations where available); the submodules `convs` keep the parameters.
class ConvTrunkImpl : public torch::nn::Cloneable<ConvTrunkImpl> {
 public:
  explicit ConvTrunkImpl(conv_encoder_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.channels().size() != 4)
      throw std::invalid_argument("cebm::nn::ConvTrunk: expects 4 conv channel counts, got " +
                                  std::to_string(o_.channels().size()));
    convs_ = torch::nn::Sequential();
    std::int64_t in = o_.in_channels(), size = o_.image_size();
    const std::int64_t kernels[4] = {3, 4, 4, 4}, strides[4] = {1, 2, 2, 2};
    strides_.assign(strides, strides + 4);
    paddings_.assign(4, 1);
    for (int i = 0; i < 4; ++i) {
      convs_->push_back(
          Conv2d(torch::nn::Conv2dOptions(in, o_.channels()[i], kernels[i]).stride(strides[i]).padding(1)));
      convs_->push_back(Swish());
      in = o_.channels()[i];
      size = (size + 2 - kernels[i]) / strides[i] + 1;
    }
    flat_ = in * size * size;
    convs_ = register_module("convs", convs_);
  }

  /// x: [B, C, H, W] → [B, flat_features()].
  at::Tensor forward(const at::Tensor& x) {
    if (x.dim() != 4 || x.size(1) != o_.in_channels() || x.size(2) != o_.image_size() || x.size(3) != o_.image_size())
      throw std::invalid_argument("cebm::nn::ConvTrunk: expected images [B, " + std::to_string(o_.in_channels()) + ", " +
                                  std::to_string(o_.image_size()) + ", " + std::to_string(o_.image_size()) + "], got " +
                                  std::string(c10::str(x.sizes())));
    std::vector<at::Tensor> weights, biases;
    for (std::size_t i = 0; i < convs_->size(); i += 2) {
      const auto& conv = convs_[i]->as<Conv2d>();
      weights.push_back(conv->weight);
      biases.push_back(conv->bias);
    }
    return detail::conv_swish_stack(x.contiguous(), weights, biases, strides_, paddings_).flatten(1);
  }

  std::int64_t flat_features() const { return flat_; }

 private:
  conv_encoder_options o_;
  std::int64_t flat_ = 0;
  std::vector<std::int64_t> strides_, paddings_;
  torch::nn::Sequential convs_{nullptr};
};
TORCH_MODULE(ConvTrunk);

class ConvEncoderImpl : public torch::nn::Cloneable<ConvEncoderImpl> {
 public:
  explicit ConvEncoderImpl(conv_encoder_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.heads() < 1)
      throw std::invalid_argument("cebm::nn::ConvEncoder: heads must be >= 1, got " + std::to_string(o_.heads()));
    trunk_ = register_module("trunk", ConvTrunk(o_));
    flat_ = trunk_->flat_features();
    const std::int64_t h = o_.hidden(), k = o_.latent_dim();
    heads_.clear();
    if (o_.head() == encoder_head::shared) {
      heads_.push_back(register_module("head", torch::nn::Sequential(Dense(flat_, h), Swish(), Dense(h, o_.heads() * k))));
      return;
    }
    for (std::int64_t s = 1; s <= o_.heads(); ++s)
      heads_.push_back(register_module("head" + std::to_string(s), o_.head() == encoder_head::split
                                                                      ? torch::nn::Sequential(Dense(flat_, h), Swish(), Dense(h, k))
                                                                      : torch::nn::Sequential(Dense(flat_, k))));
  }

  /// x: [B, C, H, W] → S raw outputs, each [B, K].
  std::vector<at::Tensor> forward(const at::Tensor& x) {
    const at::Tensor h = trunk_->forward(x);
    if (o_.head() == encoder_head::shared) return heads_[0]->forward(h).split(o_.latent_dim(), 1);
    std::vector<at::Tensor> out;
    for (auto& head : heads_) out.push_back(head->forward(h));
    return out;
  }

  std::int64_t flat_features() const { return flat_; }
  const conv_encoder_options& options() const { return o_; }

 private:
  conv_encoder_options o_;
  std::int64_t flat_ = 0;
  ConvTrunk trunk_{nullptr};
  std::vector<torch::nn::Sequential> heads_;
};
TORCH_MODULE(ConvEncoder);

}  // namespace cebm::nn
