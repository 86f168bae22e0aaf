#pragma once
/// @file
/// The pre-activation residual block of the CLEL EBM f_θ (authors' `architectures.ResBlock`, after
/// kuangliu's PreActResNet; reference notes §3.2), without normalisation layers:
///
///   out = conv₂(φ(conv₁(φ(x)))) + sc(x),   φ = LeakyReLU(0.2),
///
/// conv₁: in → out, conv₂: out → out, both 3×3, stride 1, padding 1, with bias; sc is a 1×1
/// convolution without bias when in ≠ out, the identity otherwise. Every convolution is
/// spectrally normalised (`SpectralConv2d`). Spatial size is kept.
///
/// Initialisation is CLEL's: W ~ N(0, 1/fan_in), b = 0, then the spectral-norm vectors.
/// Submodules: `conv1`, `conv2`, and `shortcut` when the channel count changes.
#include <cstdint>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/detail/shape_checks.hpp"
#include "cebm/torch/nn/channel_options.hpp"
#include "cebm/torch/nn/detail/clel_init.hpp"
#include "cebm/torch/nn/spectral_norm.hpp"

namespace cebm::nn {

struct res_block_options : channel_options<res_block_options> {
  using channel_options::channel_options;
  CEBM_ARG(spectral_norm_options, spectral_norm) = {};
};

class ResBlockImpl : public torch::nn::Cloneable<ResBlockImpl> {
 public:
  explicit ResBlockImpl(res_block_options o) : o_(std::move(o)) { reset(); }

  void reset() override {
    o_.check_channels("cebm::nn::ResBlock");
    const auto conv3 = [&](std::int64_t in, std::int64_t out) {
      return SpectralConv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1), o_.spectral_norm());
    };
    conv1_ = register_module("conv1", conv3(o_.in_channels(), o_.out_channels()));
    conv2_ = register_module("conv2", conv3(o_.out_channels(), o_.out_channels()));
    detail::clel_init(*conv1_);
    detail::clel_init(*conv2_);
    shortcut_ = nullptr;
    if (o_.in_channels() != o_.out_channels()) {
      shortcut_ = register_module(
          "shortcut",
          SpectralConv2d(torch::nn::Conv2dOptions(o_.in_channels(), o_.out_channels(), 1).bias(false), o_.spectral_norm()));
      detail::clel_init(*shortcut_);
    }
  }

  /// x: [B, in, H, W] → [B, out, H, W].
  at::Tensor forward(const at::Tensor& x) {
    cebm::detail::require_images("cebm::nn::ResBlock", x, o_.in_channels());
    const double slope = detail::clel_negative_slope;
    const at::Tensor h = conv2_->forward(at::leaky_relu(conv1_->forward(at::leaky_relu(x, slope)), slope));
    return h + (shortcut_ ? shortcut_->forward(x) : x);
  }

  const res_block_options& options() const { return o_; }

 private:
  res_block_options o_;
  SpectralConv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(ResBlock);

}  // namespace cebm::nn
