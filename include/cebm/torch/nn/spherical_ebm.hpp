#pragma once
/// @file
/// f_θ, the feature network of CLEL's spherical latent-variable EBM (Lee et al., ICLR 2023, App. B
/// Table 2; authors' `architectures.py`, reference notes §3.2). With e(x) = ½‖f(x)‖² the marginal
/// energy and cos(g(f(x)), z) the coupling to the latent direction z ∈ S¹²⁷.
///
///   small: Normalize → conv3×3(C→64) → [64×1] → pool → [64×1] → pool → [128×1] → pool → [128×1]
///   base:  Normalize → conv3×3(C→128) → [128×2] → pool → [128×2] → pool → [256×2] → pool → [256×2]
///   large: three independent trunks on x, avgpool2(x), avgpool4(x), each conv3×3(C→256) then
///          [256×2] × 4 stages with pools between (the code's 2 blocks per stage; Table 2 draws 1)
///   then LeakyReLU(0.2) → global average pool → concat (large) → head
///   head:  Linear(D → 2048) → LeakyReLU(0.2) → Linear(2048 → 128), with biases; D = 128, 256, 768.
///
/// [c×n] is n pre-activation `ResBlock`s to c channels; pool = AvgPool2d(2) (ceil_mode; identical to
/// the reference at 32×32, see detail/ebm_trunk.hpp for 28×28). Every convolution is spectrally
/// normalised; the head is not. Normalize holds CIFAR-10's statistics by default (channel-averaged
/// for C ≠ 3, see normalize.hpp); the large model normalises once, before pooling, which equals the
/// reference's per-branch normalisation because both are per-channel affine maps.
///
/// Initialisation: convolutions N(0, 1/fan_in), bias 0, then spectral-norm vectors; head weights
/// N(0, 0.01²), bias 0.
/// Submodules: `normalize`, `trunks` (a ModuleList of 1 or 3), `head` (Sequential).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/detail/clel_init.hpp"
#include "cebm/torch/nn/detail/ebm_trunk.hpp"
#include "cebm/torch/nn/normalize.hpp"
#include "cebm/torch/nn/spectral_norm.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

enum class spherical_ebm_size { small, base, large };

struct spherical_ebm_options {
  CEBM_ARG(spherical_ebm_size, size) = spherical_ebm_size::base;
  CEBM_ARG(std::int64_t, in_channels) = 3;
  /// Height = width of the input; any positive size, a multiple of 4 for `large`.
  CEBM_ARG(std::int64_t, image_size) = 32;
  /// Width of the head's hidden layer.
  CEBM_ARG(std::int64_t, hidden) = 2048;
  /// Dimension of f(x).
  CEBM_ARG(std::int64_t, feature_dim) = 128;
  CEBM_ARG(normalize_options, normalize) = {};
  CEBM_ARG(spectral_norm_options, spectral_norm) = {};

 public:
  static spherical_ebm_options small() { return spherical_ebm_options{}.size(spherical_ebm_size::small); }
  static spherical_ebm_options base() { return spherical_ebm_options{}; }
  static spherical_ebm_options large() { return spherical_ebm_options{}.size(spherical_ebm_size::large); }
};

class SphericalEbmImpl : public torch::nn::Cloneable<SphericalEbmImpl> {
 public:
  explicit SphericalEbmImpl(spherical_ebm_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    static constexpr const char* where = "cebm::nn::SphericalEbm";
    cebm::detail::require_positive(where, {{"in_channels", o_.in_channels()},
                                     {"image_size", o_.image_size()},
                                     {"hidden", o_.hidden()},
                                     {"feature_dim", o_.feature_dim()}});
    if (o_.size() == spherical_ebm_size::large && o_.image_size() % 4 != 0)
      throw std::invalid_argument(std::string(where) + ": the large model pools the input by 2 and 4, so image_size must "
                                  "be a multiple of 4, got " + std::to_string(o_.image_size()));
    normalize_ = register_module("normalize", Normalize(o_.in_channels(), o_.normalize()));

    std::int64_t stem = 0, branches = 1;
    std::vector<detail::ebm_stage> stages;
    switch (o_.size()) {
      case spherical_ebm_size::small: stem = 64, stages = {{64, 1}, {64, 1}, {128, 1}, {128, 1}}; break;
      case spherical_ebm_size::base: stem = 128, stages = {{128, 2}, {128, 2}, {256, 2}, {256, 2}}; break;
      case spherical_ebm_size::large: stem = 256, branches = 3, stages = {{256, 2}, {256, 2}, {256, 2}, {256, 2}}; break;
    }
    trunks_ = torch::nn::ModuleList();
    std::int64_t pooled = 0;
    for (std::int64_t b = 0; b < branches; ++b) {
      detail::EbmTrunk trunk(o_.in_channels(), stem, stages, o_.spectral_norm());
      pooled += trunk->out_channels();
      trunks_->push_back(trunk);
    }
    trunks_ = register_module("trunks", trunks_);

    head_ = register_module("head", detail::clel_mlp(pooled, o_.hidden(), o_.feature_dim(), /*bias=*/true));
  }

  /// x: [B, in_channels, image_size, image_size], pixels in [0, 1] → f(x), [B, feature_dim].
  at::Tensor forward(const at::Tensor& x) {
    if (x.dim() != 4 || x.size(1) != o_.in_channels() || x.size(2) != o_.image_size() || x.size(3) != o_.image_size())
      throw std::invalid_argument("cebm::nn::SphericalEbm: expected images [B, " + std::to_string(o_.in_channels()) + ", " +
                                  std::to_string(o_.image_size()) + ", " + std::to_string(o_.image_size()) + "], got " +
                                  std::string(c10::str(x.sizes())));
    // Channels-last activations: oneDNN then reads and writes them in place (its nhwc kernels),
    // where NCHW tensors are converted to its blocked layout and back around every convolution,
    // forward and input gradient: a sixth of a CLEL iteration's time in those conversions.
    const at::Tensor h = normalize_->forward(x).contiguous(at::MemoryFormat::ChannelsLast);
    std::vector<at::Tensor> pooled;
    for (std::size_t b = 0; b < trunks_->size(); ++b) {
      const at::Tensor input = b == 0 ? h : at::avg_pool2d(h, {std::int64_t{1} << b, std::int64_t{1} << b});
      pooled.push_back(trunks_->ptr<detail::EbmTrunkImpl>(b)->forward(input));
    }
    return head_->forward(pooled.size() == 1 ? pooled.front() : at::cat(pooled, 1));
  }

  const spherical_ebm_options& options() const { return o_; }

 private:
  spherical_ebm_options o_;
  Normalize normalize_{nullptr};
  torch::nn::ModuleList trunks_{nullptr};  // of detail::EbmTrunk
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(SphericalEbm);

}  // namespace cebm::nn
