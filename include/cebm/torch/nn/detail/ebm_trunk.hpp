#pragma once
/// @file
/// One ResNet trunk of the CLEL EBM f_θ (a branch of the large model, the whole body of the small
/// and base ones): a spectrally normalised 3×3 stem convolution, stages of `ResBlock`s with an
/// AvgPool2d(2) before every stage but the first, LeakyReLU(0.2), global average pooling.
///
/// The pools use ceil_mode, which differs from the reference's floor only on odd sizes: at 32×32
/// every size is even (32, 16, 8, 4) and the result is the reference's; at 28×28 a 7×7 map pools to
/// 4×4 (the last row and column averaged on their own) instead of 3×3 with them dropped, and the
/// large model's 7×7 third branch reaches 1×1 (7, 4, 2, 1) instead of 0×0 (7, 3, 1, 0).
#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include "cebm/torch/nn/detail/clel_init.hpp"
#include "cebm/torch/nn/res_block.hpp"
#include "cebm/torch/nn/spectral_norm.hpp"

namespace cebm::nn::detail {

/// A stage: (output channels, number of blocks).
using ebm_stage = std::pair<std::int64_t, std::int64_t>;

class EbmTrunkImpl : public torch::nn::Cloneable<EbmTrunkImpl> {
 public:
  EbmTrunkImpl(std::int64_t in_channels, std::int64_t stem_channels, std::vector<ebm_stage> stages,
               spectral_norm_options sn)
      : in_channels_(in_channels), stem_channels_(stem_channels), stages_spec_(std::move(stages)), sn_(std::move(sn)) {
    reset();
  }

  void reset() override {
    stem_ = register_module(
        "stem", SpectralConv2d(torch::nn::Conv2dOptions(in_channels_, stem_channels_, 3).padding(1), sn_));
    clel_init(*stem_);
    stages_ = torch::nn::ModuleList();
    std::int64_t channels = stem_channels_;
    for (std::size_t i = 0; i < stages_spec_.size(); ++i) {
      torch::nn::Sequential stage;
      if (i > 0) stage->push_back(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2).ceil_mode(true)));
      for (std::int64_t b = 0; b < stages_spec_[i].second; ++b) {
        stage->push_back(ResBlock(res_block_options(channels, stages_spec_[i].first).spectral_norm(sn_)));
        channels = stages_spec_[i].first;
      }
      stages_->push_back(stage);
    }
    stages_ = register_module("stages", stages_);
    out_channels_ = channels;
  }

  /// x: [B, in, H, W] (already normalised) → pooled features [B, out_channels()].
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = stem_->forward(x);
    for (const auto& stage : *stages_) h = stage->as<torch::nn::SequentialImpl>()->forward(h);
    return at::leaky_relu(h, clel_negative_slope).mean({2, 3});
  }

  std::int64_t out_channels() const { return out_channels_; }

 private:
  std::int64_t in_channels_, stem_channels_;
  std::vector<ebm_stage> stages_spec_;
  spectral_norm_options sn_;
  std::int64_t out_channels_ = 0;
  SpectralConv2d stem_{nullptr};
  torch::nn::ModuleList stages_{nullptr};  // of Sequential
};
TORCH_MODULE(EbmTrunk);

}  // namespace cebm::nn::detail
