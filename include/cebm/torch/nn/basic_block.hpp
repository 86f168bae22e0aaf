#pragma once
/// @file
/// torchvision's ResNet `BasicBlock` (He et al., 2016), the block of CLEL's latent encoder h_φ
/// (reference notes §3.2):
///
///   out = ReLU( BN₂(conv₂(ReLU(BN₁(conv₁(x))))) + sc(x) ),
///
/// conv₁: 3×3, stride s, padding 1; conv₂: 3×3, stride 1, padding 1; no biases. sc = BN(conv1×1,
/// stride s, no bias) when s ≠ 1 or the channel count changes, the identity otherwise.
///
/// Initialisation is torchvision's: convolutions kaiming-normal (fan_out, ReLU gain),
/// N(0, 2/(out·k·k)); BN γ = 1, β = 0; with `zero_init_residual` (CLEL sets it) γ of BN₂ is 0, so
/// at initialisation the block is out = ReLU(sc(x)).
/// Submodules: `conv1`, `bn1`, `conv2`, `bn2`, and `downsample` (Sequential: conv, BN) if any.
#include <cstdint>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/detail/shape_checks.hpp"
#include "cebm/torch/nn/channel_options.hpp"

namespace cebm::nn {

struct basic_block_options : channel_options<basic_block_options> {
  using channel_options::channel_options;
  CEBM_ARG(std::int64_t, stride) = 1;
  /// γ = 0 in the block's last BN (torchvision's `zero_init_residual`).
  CEBM_ARG(bool, zero_init_residual) = true;
};

class BasicBlockImpl : public torch::nn::Cloneable<BasicBlockImpl> {
 public:
  BasicBlockImpl(std::int64_t in_channels, std::int64_t out_channels)
      : BasicBlockImpl(basic_block_options(in_channels, out_channels)) {}
  explicit BasicBlockImpl(basic_block_options o) : o_(std::move(o)) { reset(); }

  void reset() override {
    o_.check_channels("cebm::nn::BasicBlock");
    cebm::detail::require_positive("cebm::nn::BasicBlock", {{"stride", o_.stride()}});
    const std::int64_t in = o_.in_channels(), out = o_.out_channels(), s = o_.stride();
    const auto conv = [](std::int64_t i, std::int64_t o, std::int64_t k, std::int64_t stride) {
      torch::nn::Conv2d c(torch::nn::Conv2dOptions(i, o, k).stride(stride).padding(k / 2).bias(false));
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
      return c;
    };
    conv1_ = register_module("conv1", conv(in, out, 3, s));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out));
    conv2_ = register_module("conv2", conv(out, out, 3, 1));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
    if (o_.zero_init_residual()) torch::nn::init::zeros_(bn2_->weight);
    downsample_ = nullptr;
    if (s != 1 || in != out)
      downsample_ = register_module("downsample", torch::nn::Sequential(conv(in, out, 1, s), torch::nn::BatchNorm2d(out)));
  }

  /// x: [B, in, H, W] → [B, out, ⌈H/s⌉, ⌈W/s⌉].
  at::Tensor forward(const at::Tensor& x) {
    cebm::detail::require_images("cebm::nn::BasicBlock", x, o_.in_channels());
    const at::Tensor h = bn2_->forward(conv2_->forward(at::relu(bn1_->forward(conv1_->forward(x)))));
    return at::relu(h + shortcut(x));
  }

  /// sc(x): the downsampling branch, or x itself.
  at::Tensor shortcut(const at::Tensor& x) { return downsample_ ? downsample_->forward(x) : x; }

  const basic_block_options& options() const { return o_; }

 private:
  basic_block_options o_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

}  // namespace cebm::nn
