#pragma once
/// @file
/// Per-channel standardisation y_c = (x_c − m_c) / s_c, the first layer of both CLEL networks
/// (the authors normalise inside the networks, not in the data pipeline; reference notes §3.1).
///
/// Default statistics are CIFAR-10's, used by the authors for CIFAR-10 and ImageNet32 alike:
///   m = (0.4914, 0.4822, 0.4465),   s = (0.2470, 0.2435, 0.2616).
/// For any other channel count (e.g. 1 for MNIST-like images) the default is the average of the
/// three, m̄ = 0.47337, s̄ = 0.25070, for every channel — a convention of this library, not of the
/// reference; pass explicit statistics when the data set has its own.
/// m and s are registered buffers `mean` and `std` ([C]), so they travel with checkpoints.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"

namespace cebm::nn {

struct normalize_options {
  /// Per-channel means m; empty: CIFAR-10's (see the file comment).
  CEBM_ARG(std::vector<double>, mean) = {};
  /// Per-channel standard deviations s > 0; empty: CIFAR-10's.
  CEBM_ARG(std::vector<double>, stddev) = {};

 public:
  static std::vector<double> cifar10_mean(std::int64_t channels) {
    return channels == 3 ? std::vector<double>{0.4914, 0.4822, 0.4465}
                         : std::vector<double>(static_cast<std::size_t>(channels), (0.4914 + 0.4822 + 0.4465) / 3);
  }
  static std::vector<double> cifar10_stddev(std::int64_t channels) {
    return channels == 3 ? std::vector<double>{0.2470, 0.2435, 0.2616}
                         : std::vector<double>(static_cast<std::size_t>(channels), (0.2470 + 0.2435 + 0.2616) / 3);
  }
};

class NormalizeImpl : public torch::nn::Cloneable<NormalizeImpl> {
 public:
  explicit NormalizeImpl(std::int64_t channels, normalize_options o = {}) : channels_(channels), o_(std::move(o)) {
    reset();
  }

  void reset() override {
    if (channels_ <= 0)
      throw std::invalid_argument("cebm::nn::Normalize: channels must be positive, got " + std::to_string(channels_));
    const auto m = o_.mean().empty() ? normalize_options::cifar10_mean(channels_) : o_.mean();
    const auto s = o_.stddev().empty() ? normalize_options::cifar10_stddev(channels_) : o_.stddev();
    if (static_cast<std::int64_t>(m.size()) != channels_ || static_cast<std::int64_t>(s.size()) != channels_)
      throw std::invalid_argument("cebm::nn::Normalize: expected " + std::to_string(channels_) +
                                  " means and standard deviations, got " + std::to_string(m.size()) + " and " +
                                  std::to_string(s.size()));
    for (const double si : s)
      if (!(si > 0))
        throw std::invalid_argument("cebm::nn::Normalize: standard deviations must be positive, got " + std::to_string(si));
    mean_ = register_buffer("mean", at::tensor(m, at::kFloat));
    std_ = register_buffer("std", at::tensor(s, at::kFloat));
  }

  /// x: [B, C, H, W] → (x − m) / s per channel.
  at::Tensor forward(const at::Tensor& x) {
    if (x.dim() != 4 || x.size(1) != channels_)
      throw std::invalid_argument("cebm::nn::Normalize: expected images [B, " + std::to_string(channels_) + ", H, W], got " +
                                  std::string(c10::str(x.sizes())));
    return (x - mean_.view({1, -1, 1, 1})) / std_.view({1, -1, 1, 1});
  }

  std::int64_t channels() const { return channels_; }
  const normalize_options& options() const { return o_; }

 private:
  std::int64_t channels_;
  normalize_options o_;
  at::Tensor mean_, std_;
};
TORCH_MODULE(Normalize);

}  // namespace cebm::nn
