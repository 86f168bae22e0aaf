#pragma once
/// @file
/// h_φ, CLEL's latent encoder (Lee et al., ICLR 2023, App. B; authors' `get_encoder`, reference
/// notes §3.2): the CIFAR variant of torchvision's ResNet-18 with `zero_init_residual=True`,
///
///   Normalize → conv3×3(C→64, stride 1, no bias) → BN → ReLU      (no max-pool)
///   → layer1 [64, s1] → layer2 [128, s2] → layer3 [256, s2] → layer4 [512, s2]   (2 BasicBlocks each)
///   → global average pool (512)
///   → fc: Linear(512 → 2048, no bias) → BatchNorm1d(2048) → ReLU → Linear(2048 → 128, bias).
///
/// The output is not normalised (the losses normalise it). The batch norms make train and eval mode
/// differ: CLEL computes its EBM target y⁺ = h(t(x⁺)) in train mode (batch statistics, running-stat
/// update) and evaluates in eval mode (notes §6 item 9). Works for any channel count C and any image
/// size (32: 32, 32, 16, 8, 4; 28: 28, 28, 14, 7, 4).
///
/// Initialisation as the reference ends up with: the blocks as in `BasicBlock` (torchvision's,
/// zero-init residual); conv1 and the fc layers keep libtorch's (= PyTorch's) default init, because
/// the authors replace them after torchvision initialised the network.
/// Submodules: `normalize`, `conv1`, `bn1`, `layer1` … `layer4` (Sequential of BasicBlock), `fc`.
#include <cstdint>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/basic_block.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/normalize.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

struct latent_encoder_options {
  CEBM_ARG(std::int64_t, in_channels) = 3;
  /// Width of the fc head's hidden layer.
  CEBM_ARG(std::int64_t, hidden) = 2048;
  /// Dimension of h(x).
  CEBM_ARG(std::int64_t, out_dim) = 128;
  CEBM_ARG(bool, zero_init_residual) = true;
  CEBM_ARG(normalize_options, normalize) = {};
};

class LatentEncoderImpl : public torch::nn::Cloneable<LatentEncoderImpl> {
 public:
  explicit LatentEncoderImpl(latent_encoder_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    cebm::detail::require_positive("cebm::nn::LatentEncoder",
                             {{"in_channels", o_.in_channels()}, {"hidden", o_.hidden()}, {"out_dim", o_.out_dim()}});
    normalize_ = register_module("normalize", Normalize(o_.in_channels(), o_.normalize()));
    conv1_ = register_module("conv1",
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(o_.in_channels(), 64, 3).padding(1).bias(false)));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
    std::int64_t in = 64;
    const std::int64_t widths[4] = {64, 128, 256, 512}, strides[4] = {1, 2, 2, 2};
    for (int i = 0; i < 4; ++i) {
      torch::nn::Sequential layer(
          BasicBlock(basic_block_options(in, widths[i]).stride(strides[i]).zero_init_residual(o_.zero_init_residual())),
          BasicBlock(basic_block_options(widths[i], widths[i]).zero_init_residual(o_.zero_init_residual())));
      layers_[i] = register_module("layer" + std::to_string(i + 1), layer);
      in = widths[i];
    }
    fc_ = register_module("fc", torch::nn::Sequential(
                                    Dense(torch::nn::LinearOptions(512, o_.hidden()).bias(false)),
                                    torch::nn::BatchNorm1d(o_.hidden()), torch::nn::ReLU(),
                                    Dense(o_.hidden(), o_.out_dim())));
  }

  /// x: [B, in_channels, H, W], pixels in [0, 1] → h(x), [B, out_dim]. B ≥ 2 in train mode (BN).
  at::Tensor forward(const at::Tensor& x) { return fc_->forward(features(x)); }

  /// The pooled ResNet-18 features before the fc head, [B, 512].
  at::Tensor features(const at::Tensor& x) {
    cebm::detail::require_images("cebm::nn::LatentEncoder", x, o_.in_channels());
    // Channels-last activations, as in SphericalEbm: no layout conversions around the convolutions.
    at::Tensor h =
        at::relu(bn1_->forward(conv1_->forward(normalize_->forward(x).contiguous(at::MemoryFormat::ChannelsLast))));
    for (auto& layer : layers_) h = layer->forward(h);
    return h.mean({2, 3});
  }

  const latent_encoder_options& options() const { return o_; }

 private:
  latent_encoder_options o_;
  Normalize normalize_{nullptr};
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layers_[4] = {nullptr, nullptr, nullptr, nullptr};
  torch::nn::Sequential fc_{nullptr};
};
TORCH_MODULE(LatentEncoder);

}  // namespace cebm::nn
